"""Fixtures of the security tests: the real app (core runs) and the real Slack front end (Slack runs), both
with seeded secrets, the fakes requiring them, and an optional knowledge-base folder of the test's own."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from fakes.anthropic import FakeAnthropic
from fakes.slack import FakeSlack, SlackLimits

from bot.run.app import build_app
from bot.runtime import App
from bot.settings import Settings
from tests.e2e.rig import KB_DIR, ROOT, app_settings, clear_settings_env
from tests.security.leak_checks import (
    ANTHROPIC_SECRET,
    ORDERS_TOKEN_SECRET,
    SLACK_BOT_SECRET,
    SLACK_SIGNING_SECRET,
)
from tests.slack.rig import SlackRig, bot_toml, start_slack_rig

LEADS_CHANNEL = "C0LEADS"
LEAD_ID = "U0LEAD"

CoreFactory = Callable[..., Awaitable[App]]
RigFactory = Callable[..., Awaitable[SlackRig]]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_settings_env(monkeypatch)
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "SLACK_")):
            monkeypatch.delenv(name)


@pytest_asyncio.fixture
async def secret_model() -> AsyncIterator[FakeAnthropic]:
    """A fake Anthropic API that only accepts the seeded API key."""
    async with FakeAnthropic(api_key=ANTHROPIC_SECRET) as fake:
        yield fake


@pytest_asyncio.fixture
async def secret_slack() -> AsyncIterator[FakeSlack]:
    """A fake Slack that only accepts the seeded bot token; message ``ts`` follow the wall clock."""
    async with FakeSlack(ts_start=None, bot_token=SLACK_BOT_SECRET, limits=SlackLimits.relaxed()) as fake:
        yield fake


@pytest_asyncio.fixture
async def core_app(tmp_path: Path, secret_model: FakeAnthropic) -> AsyncIterator[CoreFactory]:
    """``await core_app(kb_path=...)``: the real app with every secret seeded, on the fake model."""
    apps: list[App] = []

    async def make(**overrides: Any) -> App:
        folder = tmp_path / f"core{len(apps)}"
        folder.mkdir()
        settings = app_settings(
            folder,
            anthropic_base_url=secret_model.base_url,
            anthropic_api_key=ANTHROPIC_SECRET,
            slack_bot_token=SLACK_BOT_SECRET,
            slack_signing_secret=SLACK_SIGNING_SECRET,
            orders_api_token=ORDERS_TOKEN_SECRET,
            log_level="DEBUG",
            **overrides,
        )
        app = await build_app(settings)
        apps.append(app)
        return app

    yield make
    for app in apps:
        await app.close()


def rig_settings(tmp_path: Path, slack: FakeSlack, model: FakeAnthropic, config: Path, kb: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        anthropic_api_key=ANTHROPIC_SECRET,
        anthropic_base_url=model.base_url,
        model_max_retries=0,
        database_url=f"sqlite:///{tmp_path / 'supportbot.db'}",
        kb_path=kb,
        kb_index_path=tmp_path / "kb.sqlite3",
        bot_config_path=config,
        system_prompt_path=ROOT / "config" / "prompts" / "system.md",
        demo_orders_path=ROOT / "config" / "demo" / "orders.json",
        orders_db_path=tmp_path / "orders.sqlite3",
        orders_api_token=ORDERS_TOKEN_SECRET,
        slack_bot_token=SLACK_BOT_SECRET,
        slack_signing_secret=SLACK_SIGNING_SECRET,
        slack_api_url=slack.api_url,
        log_level="DEBUG",
    )


@pytest_asyncio.fixture
async def secure_rig(
    tmp_path: Path, secret_slack: FakeSlack, secret_model: FakeAnthropic
) -> AsyncIterator[RigFactory]:
    """``await secure_rig(kb_path=...)``: the Slack front end over HTTP with seeded secrets, a lead
    (``LEAD_ID``) and a leads' channel (``LEADS_CHANNEL``)."""
    started: list[SlackRig] = []

    async def start(
        *, kb_path: Path = KB_DIR, channels: Mapping[str, Mapping[str, Any]] | None = None
    ) -> SlackRig:
        folder = tmp_path / f"rig{len(started)}"
        folder.mkdir()
        roles = {"lead_user_ids": [LEAD_ID], "leads_channel": LEADS_CHANNEL}
        config = bot_toml(folder / "bot.toml", fast=True, slack=roles, channels=channels)
        if LEAD_ID not in secret_slack.users:
            secret_slack.add_user(LEAD_ID, name="lena")
            secret_slack.add_channel(LEADS_CHANNEL, name="support-leads")
        settings = rig_settings(folder, secret_slack, secret_model, config, kb_path)
        rig = await start_slack_rig(secret_slack, secret_model, settings, signing_secret=SLACK_SIGNING_SECRET)
        started.append(rig)
        return rig

    yield start
    for rig in reversed(started):
        await rig.stop()
