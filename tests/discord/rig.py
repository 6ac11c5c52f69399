"""The Discord front end under test (see ``conftest.discord_rig``) and helpers to read what a user sees.

The real discord.py client of ``DiscordFrontEnd`` connects to the fake Discord (REST and gateway, pointed
at by ``DISCORD_API_URL`` and ``DISCORD_GATEWAY_URL``), and the real anthropic SDK answers from the fake
model. ``await rig.deliver(...)`` dispatches a user's message and waits until the bot has finished what
it started for it, so a test then looks at what a user would see.
"""

from __future__ import annotations

import tomllib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord
from fakes.anthropic import FakeAnthropic
from fakes.discord import (
    JSON,
    FakeChannel,
    FakeDiscord,
    FakeInteraction,
    FakeMember,
    FakeMessage,
    FakeUser,
)

from bot.runtime import App
from bot.settings import Settings
from integrations.discord.app import DiscordFrontEnd
from tests.slack.rig import toml_text

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(40)
"""Bytes that start as a PNG's do (the model client checks no more)."""
PDF = b"%PDF-1.7\n1 0 obj << /Type /Page >> endobj\n%%EOF\n"
FAST_FACTS = {
    "max_message_chars": 1900,
    "edit_interval_seconds": 0.05,
    "edits_per_minute": 6000,
    "edit_burst": 5,
    "posts_per_second": 100,
}
MARKER = " ▍"


def bot_toml(
    path: Path,
    *,
    fast: bool,
    discord_roles: Mapping[str, Any] | None = None,
    channels: Mapping[str, Mapping[str, Any]] | None = None,
    handoff: Mapping[str, Any] | None = None,
) -> Path:
    """The repository's bot.toml with the given ``[discord]``, ``[channels]`` and ``[handoff]`` tables (and
    fast facts)."""
    data = tomllib.loads((ROOT / "config" / "bot.toml").read_text(encoding="utf-8"))
    data["discord"] = dict(discord_roles or {})
    data["channels"] = {key: dict(value) for key, value in (channels or {}).items()}
    data["handoff"] = dict(handoff or {})
    if fast:
        data["platforms"]["discord"] = dict(FAST_FACTS)
    path.write_text(toml_text(data), encoding="utf-8")
    return path


def rig_settings(
    tmp_path: Path, fake: FakeDiscord, model: FakeAnthropic, config: Path, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "anthropic_api_key": "test-key",
        "anthropic_base_url": model.base_url,
        "model_max_retries": 0,
        "database_url": f"sqlite:///{tmp_path / 'supportbot.db'}",
        "kb_path": ROOT / "config" / "kb",
        "kb_index_path": tmp_path / "kb.sqlite3",
        "bot_config_path": config,
        "system_prompt_path": ROOT / "config" / "prompts" / "system.md",
        "demo_orders_path": ROOT / "config" / "demo" / "orders.json",
        "orders_db_path": tmp_path / "orders.sqlite3",
        "discord_token": fake.token,
        "discord_api_url": fake.api_base,
        "discord_gateway_url": fake.gateway_url,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class DiscordRig:
    fake: FakeDiscord
    model: FakeAnthropic
    core: App
    front: DiscordFrontEnd
    seen: set[int] = field(default_factory=set)
    """Ids of the messages the client got from the gateway."""
    edits_seen: list[int] = field(default_factory=list)
    """Ids of the messages whose edits (MESSAGE_UPDATE) the front end got, one entry per edit."""

    def __post_init__(self) -> None:
        edited = self.front.edited

        def recording(payload: discord.RawMessageUpdateEvent) -> None:
            self.edits_seen.append(payload.message_id)
            edited(payload)

        self.front.edited = recording  # type: ignore[method-assign]

    async def edit(self, message: FakeMessage, text: str) -> None:
        """The author edits ``message`` to ``text`` (MESSAGE_UPDATE); returns once the bot handled it."""
        before = self.edits_seen.count(message.id)
        await self.fake.edit_as_user(message, text)
        await self.fake.wait_for(
            lambda: self.edits_seen.count(message.id) > before, what=f"the edit of {message.id} received"
        )
        await self.settle()

    async def settle(self) -> None:
        """Wait until the front end has finished everything it started."""
        await self.front.tasks.wait_idle()

    async def deliver(self, payload: JSON) -> None:
        """Dispatch a MESSAGE_CREATE (``fake.user_message(...)``) and wait until it is handled."""
        await self.fake.dispatch("MESSAGE_CREATE", payload)
        await self.wait_seen(int(payload["id"]))

    async def wait_seen(self, message_id: int) -> None:
        await self.fake.wait_for(lambda: message_id in self.seen, what=f"message {message_id} received")
        await self.settle()

    async def say(
        self,
        channel: FakeChannel,
        member: FakeMember,
        text: str,
        *,
        reply_to: FakeMessage | None = None,
        attachments: Sequence[JSON] = (),
    ) -> FakeMessage:
        """``member`` writes ``text`` in ``channel``; returns the stored message once the bot handled it."""
        message = await self.fake.post_as_user(
            channel, member, text, message_reference=reply_to, attachments=attachments
        )
        await self.wait_seen(message.id)
        return message

    async def mention(self, member: FakeMember, text: str, channel: FakeChannel | None = None) -> FakeMessage:
        """``member`` writes ``@supportbot text`` (in #support unless told)."""
        return await self.say(channel or self.fake.support, member, f"{self.fake.bot_user.mention} {text}")

    def thread_of(self, message: FakeMessage) -> FakeChannel:
        """The thread opened on ``message``."""
        return self.fake.channels[message.id]

    def answers(self, channel: FakeChannel) -> list[FakeMessage]:
        """The bot's messages in ``channel`` (a thread, a post, a DM) that everyone sees, oldest first."""
        return [m for m in self.fake.bot_messages(channel) if not m.ephemeral]

    async def command(
        self, member: FakeMember, *path: str, channel: FakeChannel | None = None, **options: Any
    ) -> str:
        """``member`` runs ``/support <path> [options]``; the reply only they see."""
        interaction = await self.fake.slash_command(
            self.fake.guild, channel or self.fake.support, member, "support", subcommand(path, options)
        )
        return await self.private_reply(interaction)

    async def click(self, member: FakeMember, message: FakeMessage, custom_id: str) -> str | None:
        """``member`` clicks the button ``custom_id`` on ``message``; the reply only they see (if any)."""
        interaction = await self.fake.button_click(message, member, custom_id)
        reply = await self.private_reply(interaction)
        return reply or None

    async def private_reply(self, interaction: FakeInteraction) -> str:
        """The ephemeral text that answered ``interaction`` (several messages joined by newlines)."""

        def answered() -> bool:
            responses = self.fake.interaction_responses(interaction)
            if not responses:
                return False
            first = responses[0]
            return first.type in (4, 6) or any(r.kind == "followup" for r in responses)

        await self.fake.wait_for(answered, what=f"the answer to interaction {interaction.id}")
        await self.settle()
        texts: list[str] = []
        for response in self.fake.interaction_responses(interaction):
            assert response.status < 300, response
            body = response.body or {}
            data = body.get("data", body) if response.kind == "callback" else body
            if response.kind == "callback" and response.type == 5:
                assert data.get("flags", 0) & 64, "a deferred answer must be ephemeral"
                continue
            if response.kind in ("callback", "followup") and data.get("content"):
                assert data.get("flags", 0) & 64, f"not ephemeral: {data}"
                texts.append(data["content"])
        return "\n".join(texts)


def subcommand(path: Sequence[str], options: Mapping[str, Any]) -> list[JSON]:
    """The ``options`` of an interaction for ``/support <path…>`` (a subcommand, maybe in a group)."""
    inner = [_option(name, value) for name, value in options.items()]
    *groups, name = path
    node: JSON = {"name": name, "type": 1, "options": inner}
    for group in reversed(groups):
        node = {"name": group, "type": 2, "options": [node]}
    return [node]


def _option(name: str, value: Any) -> JSON:
    if isinstance(value, FakeMember | FakeUser):
        return {"name": name, "type": 6, "value": str(value.id)}
    kind = 5 if isinstance(value, bool) else 4 if isinstance(value, int) else 3
    return {"name": name, "type": kind, "value": value}


def final_text(messages: Sequence[FakeMessage]) -> str:
    """What the reply's messages say, joined with newlines (without the sources embed)."""
    return "\n".join(m.content for m in messages)


def custom_ids(message: FakeMessage) -> list[str]:
    return message.custom_ids()


def sources_line(message: FakeMessage) -> str | None:
    for embed in message.embeds:
        description = embed.get("description")
        if isinstance(description, str):
            return description
    return None


def assert_settled(messages: Sequence[FakeMessage]) -> None:
    """No in-progress marker is left in any message."""
    for message in messages:
        assert not message.content.endswith(MARKER), message.content


RigFactory = Callable[..., Awaitable[DiscordRig]]
