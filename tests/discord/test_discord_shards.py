"""DISCORD_SHARD_COUNT (and DISCORD_SHARD_IDS): the front end runs an AutoShardedClient and answers in the
guilds of its shards; `supportbot serve --only discord` connects only the shards DISCORD_SHARD_IDS names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fakes.anthropic import FakeAnthropic, Reply
from fakes.discord import FakeDiscord

from bot.run.app import build_app
from integrations.discord.app import DiscordCredentials, DiscordFrontEnd, ShardedSupportClient
from tests.discord.rig import bot_toml, rig_settings
from tests.discord.test_discord_cli import fake_env
from tests.serve.rig import Supportbot


async def no_identify_delay(shard_id: int | None, *, initial: bool = False) -> None:
    """discord.py waits 5 s before identifying each shard after the first (Discord's identify limit)."""


async def test_an_auto_sharded_client_answers_in_a_guild_of_its_second_shard(
    tmp_path: Path, fake_anthropic: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "DISCORD_")):
            monkeypatch.delenv(name)
    async with FakeDiscord(shards=2) as fake:
        second = fake.add_guild("Second Guild", shard_id=1)
        lobby = fake.add_text_channel(second, "lobby")
        member = fake.add_member(second, "sam")
        config = bot_toml(tmp_path / "bot.toml", fast=True)
        core = await build_app(rig_settings(tmp_path, fake, fake_anthropic, config, discord_shard_count=2))
        front = DiscordFrontEnd(
            core, DiscordCredentials.from_settings(core.settings), guild_ready_timeout=0.05
        )
        assert isinstance(front.client, ShardedSupportClient)
        front.client.before_identify_hook = no_identify_delay  # type: ignore[method-assign]
        try:
            await front.start()
            assert front.is_connected and sorted(i["shard"] for i in fake.identifies()) == [[0, 2], [1, 2]]
            assert fake.commands(second) and fake.commands(fake.guild)  # /support in both guilds
            fake_anthropic.script(Reply.text("Hello from shard one.", tokens_per_second=200))
            question = await fake.post_as_user(lobby, member, f"{fake.bot_user.mention} hi")
            await fake.wait_for(
                lambda: [
                    m for m in fake.bot_messages(fake.channels.get(question.id) or lobby) if m.components
                ],
                what="the answer",
            )
            assert fake.bot_messages(fake.channels[question.id])[0].content == "Hello from shard one."
        finally:
            await front.stop(5.0)
            await core.close()
        assert not front.is_connected


async def test_serve_only_discord_connects_the_shards_of_discord_shard_ids(
    tmp_path: Path, fake_anthropic: FakeAnthropic
) -> None:
    async with FakeDiscord(shards=2) as fake:
        first = fake.add_guild("First Guild", shard_id=0)
        second = fake.add_guild("Second Guild", shard_id=1)
        lobby = fake.add_text_channel(second, "lobby")
        member = fake.add_member(second, "sam")
        env = fake_env(
            fake,
            DISCORD_SHARD_COUNT="2",
            DISCORD_SHARD_IDS="1",
            ANTHROPIC_API_KEY="test-key",
            ANTHROPIC_BASE_URL=fake_anthropic.base_url,
        )
        bot = await Supportbot.start(tmp_path, "serve", "--only", "discord", **env)
        try:
            assert (await bot.wait_ready())["front_ends"] == {"discord": True}
            assert [i["shard"] for i in fake.identifies()] == [[1, 2]]
            assert fake.commands(second) and not fake.commands(first)  # shard 0 is another process's
            fake_anthropic.script(Reply.text("Hello from shard one.", tokens_per_second=200))
            question = await fake.post_as_user(lobby, member, f"{fake.bot_user.mention} hi")
            await fake.wait_for(
                lambda: [
                    m for m in fake.bot_messages(fake.channels.get(question.id) or lobby) if m.components
                ],
                seconds=30,
                what="the answer",
            )
            assert fake.bot_messages(fake.channels[question.id])[0].content == "Hello from shard one."
        finally:
            assert await bot.stop() == 0, bot.log
