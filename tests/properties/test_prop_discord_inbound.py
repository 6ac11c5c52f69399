"""Discord gateway payloads: MESSAGE_CREATE payloads (real ones from the fake Discord, mutated) become
discord.py messages the way the gateway makes them, and the front end's one translation function
(``integrations.discord.inbound.classify``) answers each with a usable translation or a drop, never an
exception. Payloads discord.py itself cannot read never reach the bot, so they are left out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import discord
import pytest
import pytest_asyncio
from discord.http import HTTPClient
from discord.state import ConnectionState
from fakes.discord import FakeDiscord
from hypothesis import given
from hypothesis import strategies as st

from bot.config import ChannelOverride
from bot.types import Principal, Role
from tests.properties.strategies import ANY_TEXT, SHARED_FIXTURE, STRINGS, mutated

events = pytest.importorskip("integrations.discord.inbound", reason="the Discord front end is not there yet")


@dataclass
class Gateway:
    """discord.py's own connection state, fed with the fake Discord's payloads (no network)."""

    fake: FakeDiscord
    state: ConnectionState
    payloads: list[dict[str, Any]]
    seen: list[discord.Message]

    def __repr__(self) -> str:
        return "<discord.py state>"

    def message(self, payload: dict[str, Any]) -> discord.Message | None:
        """What the client would dispatch for this MESSAGE_CREATE (None: discord.py rejects it)."""
        self.seen.clear()
        try:
            self.state.parse_message_create(payload)
        except Exception:  # discord.py's parser failed: the gateway drops the event before the bot
            return None
        message = self.seen[-1] if self.seen else None
        if message is not None and not complete(message):
            return None  # a required field was missing: discord.py leaves the message half-built
        return message


MESSAGE_FIELDS = ("author", "type", "webhook_id", "guild", "mentions", "role_mentions", "channel_mentions")


def complete(message: discord.Message) -> bool:
    """discord.py set every attribute a handler may read (it skips those whose payload key is missing)."""
    try:
        for name in (*MESSAGE_FIELDS, "attachments", "content", "created_at"):
            getattr(message, name)
    except (AttributeError, TypeError):  # TypeError: discord.py parsing a null content
        return False
    return True


@pytest_asyncio.fixture
async def gateway() -> AsyncIterator[Gateway]:
    fake = FakeDiscord()
    seen: list[discord.Message] = []

    def dispatch(event: str, *args: Any) -> None:
        if event == "message":
            seen.append(args[0])

    http = HTTPClient(asyncio.get_running_loop())
    state = ConnectionState(
        dispatch=dispatch,
        handlers={},
        hooks={},
        http=http,
        intents=discord.Intents.all(),
        chunk_guilds_at_startup=False,
    )
    state.user = discord.ClientUser(state=state, data=fake.user_json(fake.bot_user))
    bot = fake.bot_user
    thread = fake.add_thread(fake.support, "Where is my order?", owner=bot)
    post = fake.add_thread(fake.forum, "Broken zip", owner=fake.alice)
    state.parse_guild_create(fake.guild_json(fake.guild, full=True))
    mention = f"<@{bot.id}>"
    payloads = [
        fake.user_message(fake.support, fake.alice, f"{mention} where is ORD-10001?", mentions=[bot]),
        fake.user_message(fake.general, fake.alice, "just chatting @everyone"),
        fake.user_message(thread, fake.alice, "and the tracking number?"),
        fake.user_message(post, fake.alice, "the zip broke after a week"),
        fake.user_message(fake.dm_channel(fake.alice), fake.alice, "hi, a question"),
        fake.user_message(fake.support, fake.lead, f"{mention} <@&{fake.lead_role.id}> @here look"),
    ]
    yield Gateway(fake, state, payloads, seen)
    await http.close()


PRINCIPAL = Principal("discord", "1", "Ann", frozenset({Role.CUSTOMER}))


def check(result: Any) -> None:
    if result is None:
        return
    assert isinstance(result, events.DiscordMessage)
    assert isinstance(result.text, str) and result.text
    assert result.ref.platform == "discord" and all((result.ref.space_id, result.ref.channel_id))
    inbound = result.to_inbound(PRINCIPAL)
    assert inbound.event_id == result.dedup_key and isinstance(inbound.sent_at, datetime)
    name = events.thread_name(result.text)
    assert 0 < len(name) <= events.THREAD_NAME_LIMIT and "@everyone" not in name and "@here" not in name


@SHARED_FIXTURE
@given(data=st.data(), dms=st.booleans(), answer_bots=st.booleans())
async def test_any_message_create_is_translated_or_dropped(
    gateway: Gateway, data: st.DataObject, dms: bool, answer_bots: bool
) -> None:
    base = data.draw(st.sampled_from(gateway.payloads))
    payload = data.draw(st.one_of(st.just(base), mutated(base)))
    message = gateway.message(payload)
    if message is None:
        return
    fake = gateway.fake
    channels = {
        str(fake.forum.id): ChannelOverride(forum=True, answer_bots=answer_bots),
        str(fake.support.id): ChannelOverride(answer_bots=answer_bots),
    }
    check(events.classify(message, bot_id=fake.bot_user.id, channels=channels, dms=dms))


@SHARED_FIXTURE
@given(content=STRINGS)
async def test_any_content_is_translated_or_dropped(gateway: Gateway, content: str) -> None:
    fake = gateway.fake
    for base in gateway.payloads:
        message = gateway.message({**base, "content": content})
        assert message is not None
        check(events.classify(message, bot_id=fake.bot_user.id, channels={}, dms=True))


@SHARED_FIXTURE
@given(text=st.one_of(STRINGS, ANY_TEXT.map(lambda s: "@everyone " + s + " @here")))
def test_thread_names_fit_and_never_ping(text: str) -> None:
    name = events.thread_name(text)
    assert 0 < len(name) <= events.THREAD_NAME_LIMIT
    assert "@everyone" not in name and "@here" not in name


async def test_the_real_payloads_are_the_cases_they_stand_for(gateway: Gateway) -> None:
    """The examples above start from messages the bot answers, ignores, and follows up on."""
    fake = gateway.fake
    channels = {str(fake.forum.id): ChannelOverride(forum=True)}
    triggers = []
    for payload in gateway.payloads:
        message = gateway.message(payload)
        assert message is not None
        result = events.classify(message, bot_id=fake.bot_user.id, channels=channels, dms=True)
        triggers.append(None if result is None else result.trigger.value)
    assert triggers == ["mention", None, "thread", "follow_up", "dm", "mention"]
