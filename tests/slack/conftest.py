"""The Slack front end under test: the real slack-bolt app served over HTTP on 127.0.0.1, receiving events
signed like Slack's, talking to the fake Slack Web API through the real slack_sdk client, and answering
with the real anthropic SDK against the fake Anthropic API.

``slack_rig`` starts one: ``rig = await slack_rig()`` (options: ``slack`` and ``channels`` tables of
bot.toml, ``fast`` platform facts for tests that are not about rates, settings overrides). ``await
rig.settle()`` waits until every background task of the app is done, so a test then looks at what a user
would see.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from fakes.anthropic import FakeAnthropic
from fakes.slack import FakeSlack, SlackLimits

from tests.slack.rig import RigFactory, SlackRig, bot_toml, rig_settings, start_slack_rig


@pytest_asyncio.fixture
async def wall_clock_slack() -> AsyncIterator[FakeSlack]:
    """A fake Slack whose message ``ts`` follow the wall clock, as Slack's do (the DM window needs it)."""
    async with FakeSlack(ts_start=None) as fake:
        yield fake


@pytest_asyncio.fixture
async def slack_rig(
    tmp_path: Path,
    wall_clock_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[RigFactory]:
    """Starts the Slack front end on a fresh store; everything is closed at the end of the test."""
    fake_slack = wall_clock_slack
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "SLACK_")):
            monkeypatch.delenv(name)
    started: list[SlackRig] = []

    async def start(
        *,
        fast: bool = True,
        slack: Mapping[str, Any] | None = None,
        channels: Mapping[str, Mapping[str, Any]] | None = None,
        **settings: Any,
    ) -> SlackRig:
        # fast: quick platform facts and a fake that never rate-limits; otherwise both are the real ones.
        fake_slack.limits = SlackLimits.relaxed() if fast else SlackLimits()
        config = bot_toml(tmp_path / f"bot{len(started)}.toml", fast=fast, slack=slack, channels=channels)
        chosen = rig_settings(tmp_path, fake_slack, fake_anthropic, config).model_copy(update=settings)
        rig = await start_slack_rig(fake_slack, fake_anthropic, chosen)
        started.append(rig)
        return rig

    yield start
    for rig in reversed(started):
        await rig.stop()
