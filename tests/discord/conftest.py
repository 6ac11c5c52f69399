"""The Discord front end under test: the real discord.py client of ``DiscordFrontEnd`` against the fake
Discord REST API and gateway on 127.0.0.1, answering with the real anthropic SDK against the fake model.

``discord_rig`` starts one: ``rig = await discord_rig()`` (options: the ``discord``, ``channels`` and
``handoff`` tables of bot.toml, ``fast`` platform facts for tests that are not about rates, settings
overrides).
Everything is closed at the end of the test.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import discord
import pytest
import pytest_asyncio
from fakes.anthropic import FakeAnthropic
from fakes.discord import FakeDiscord

from bot.run.app import build_app
from integrations.discord.app import DiscordCredentials, DiscordFrontEnd
from tests.discord.rig import DiscordRig, RigFactory, bot_toml, rig_settings


@pytest_asyncio.fixture
async def discord_rig(
    tmp_path: Path, fake_discord: FakeDiscord, fake_anthropic: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[RigFactory]:
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "SLACK_", "DISCORD_")):
            monkeypatch.delenv(name)
    started: list[DiscordRig] = []

    async def start(
        *,
        fast: bool = True,
        discord_roles: Mapping[str, Any] | None = None,
        channels: Mapping[str, Mapping[str, Any]] | None = None,
        handoff: Mapping[str, Any] | None = None,
        folder: Path | None = None,
        **settings: Any,
    ) -> DiscordRig:
        # fast: quick platform facts; the fake keeps Discord's own limits either way.
        home = folder or tmp_path
        config = bot_toml(
            home / f"bot{len(started)}.toml",
            fast=fast,
            discord_roles=discord_roles,
            channels=channels,
            handoff=handoff,
        )
        core = await build_app(rig_settings(home, fake_discord, fake_anthropic, config, **settings))
        front = DiscordFrontEnd(
            core, DiscordCredentials.from_settings(core.settings), guild_ready_timeout=0.05, ready_timeout=10
        )
        rig = DiscordRig(fake_discord, fake_anthropic, core, front)
        received = front.received

        def recording(message: discord.Message) -> None:
            rig.seen.add(message.id)
            received(message)

        front.received = recording  # type: ignore[method-assign]
        await front.start()
        started.append(rig)
        return rig

    yield start
    for rig in reversed(started):
        await rig.front.stop(10.0)
        await rig.core.close()
