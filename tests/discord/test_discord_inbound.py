"""Which Discord messages the bot answers and what it reads in them; links, ids and names (no model)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from fakes.discord import FakeChannel, FakeDiscord, FakeMember, discord_client_against

from bot.config import ChannelOverride
from bot.support_commands import (
    Help,
    KbSearch,
    Link,
    ResolveHere,
    ResolveId,
    ResolveThread,
    Unlink,
    parse_command,
)
from bot.types import ThreadRef
from integrations.discord.app import intents
from integrations.discord.commands import DISCORD_DIALECT, parse_thread_link, parse_user
from integrations.discord.inbound import (
    DM_SPACE,
    Trigger,
    classify,
    clean_text,
    custom_id,
    dm_ref,
    parse_link,
    parse_thread_key,
    thread_name,
    thread_ref,
    web_link,
)

BOT = 111111111111111111
ALICE = 222222222222222222


class Recorder(discord.Client):
    def __init__(self) -> None:
        super().__init__(intents=intents(), guild_ready_timeout=0.05)
        self.received: list[discord.Message] = []

    async def on_message(self, message: discord.Message) -> None:
        self.received.append(message)


class Inbox:
    """What a discord.py client connected to the fake received."""

    def __init__(self, fake: FakeDiscord, client: Recorder) -> None:
        self._fake = fake
        self._client = client

    async def get(self, message_id: int) -> discord.Message:
        return await self._fake.wait_for(
            lambda: next((m for m in self._client.received if m.id == message_id), None), what="the message"
        )

    async def send(self, channel: FakeChannel, member: FakeMember, text: str) -> discord.Message:
        """The discord.py Message the client gets when ``member`` writes ``text`` in ``channel``."""
        return await self.get((await self._fake.post_as_user(channel, member, text)).id)


@pytest.fixture
async def inbox(fake_discord: FakeDiscord) -> AsyncIterator[Inbox]:
    client = Recorder()
    async with discord_client_against(fake_discord, client):
        yield Inbox(fake_discord, client)


def translate(message: discord.Message, fake: FakeDiscord, **overrides: ChannelOverride) -> Any:
    return classify(message, bot_id=fake.bot_user.id, channels=overrides, dms=True)


async def test_a_mention_in_a_channel_opens_a_thread_on_the_message(
    inbox: Inbox, fake_discord: FakeDiscord
) -> None:
    fake = fake_discord
    message = await inbox.send(fake.support, fake.alice, f"{fake.bot_user.mention} where is ORD-1?")
    found = translate(message, fake)
    assert found.trigger is Trigger.MENTION and found.text == "where is ORD-1?"
    assert found.ref == ThreadRef("discord", str(fake.guild.id), str(fake.support.id), str(message.id))
    assert found.dedup_key == f"discord:{message.id}" and found.sent_at == message.created_at
    assert translate(await inbox.send(fake.support, fake.alice, "no mention here"), fake) is None


async def test_threads_forum_posts_and_dms(inbox: Inbox, fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    mine = fake.add_thread(fake.support, "opened by the bot")
    theirs = fake.add_thread(fake.support, "opened by alice", owner=fake.alice)
    for thread in (mine, theirs):
        await fake.dispatch("THREAD_CREATE", {**fake.channel_json(thread), "newly_created": True})
    in_mine = translate(await inbox.send(mine, fake.alice, "and then?"), fake)
    assert in_mine.trigger is Trigger.THREAD
    assert in_mine.ref == thread_ref(fake.guild.id, fake.support.id, mine.id)
    assert translate(await inbox.send(theirs, fake.alice, "and then?"), fake).trigger is Trigger.FOLLOW_UP
    mention = await inbox.send(theirs, fake.alice, f"{fake.bot_user.mention} help")
    assert translate(mention, fake).trigger is Trigger.THREAD

    post = await fake.forum_post(fake.forum, fake.alice, "Refund?", "How long?")
    starter = await inbox.get(post.message.id)
    forum = {str(fake.forum.id): ChannelOverride(forum=True)}
    assert translate(starter, fake, **forum).trigger is Trigger.FORUM_POST
    assert translate(starter, fake).trigger is Trigger.FOLLOW_UP  # not a forum the bot answers in

    dm = translate(await inbox.send(fake.dm_channel(fake.alice), fake.alice, "hi"), fake)
    assert dm.trigger is Trigger.DM and dm.ref == dm_ref(fake.dm_channel(fake.alice).id)
    assert dm.ref.space_id == DM_SPACE and dm.ref.channel_id == dm.ref.thread_id


async def test_bots_and_system_messages_are_ignored_unless_the_channel_says(
    inbox: Inbox, fake_discord: FakeDiscord
) -> None:
    fake = fake_discord
    helper = fake.add_member(fake.guild, fake.add_user("helper", bot=True))
    message = await inbox.send(fake.support, helper, f"{fake.bot_user.mention} ping")
    assert translate(message, fake) is None
    assert translate(message, fake, **{str(fake.support.id): ChannelOverride(answer_bots=True)}) is not None
    assert classify(message, bot_id=helper.id, channels={}, dms=True) is None  # the bot's own message
    dm = await inbox.send(fake.dm_channel(fake.alice), fake.alice, "hi")
    assert classify(dm, bot_id=fake.bot_user.id, channels={}, dms=False) is None


def test_clean_text_names_mentions_and_drops_the_bots_own() -> None:
    users = {ALICE: "Alice"}
    assert clean_text(f"<@{BOT}> where is my order?", bot_id=BOT, users=users) == "where is my order?"
    assert clean_text(f"<@!{BOT}>", bot_id=BOT, users=users) == "@Support"
    text = f"hey <@{BOT}> ask <@{ALICE}> in <#333333333333333333> about <@&444444444444444444> "
    text += "<:ok:555555555555555555>"
    cleaned = clean_text(text, bot_id=BOT, users=users, roles={444444444444444444: "leads"}, channels={})
    assert cleaned == "hey ask @Alice in #channel about @leads :ok:"


def test_thread_names_fit_discords_limit() -> None:
    assert thread_name("how do **returns** work?\nmore detail") == "how do returns work?"
    long = "why " * 60
    name = thread_name(long)
    assert len(name) <= 100 and name.endswith("…") and name.startswith("why why")
    assert thread_name("@everyone ~~x~~") == "everyone x"
    assert thread_name("   ") == "Support" and len(thread_name("x" * 300)) == 100


def test_links_keys_and_custom_ids() -> None:
    ref = thread_ref(1573870000000000001, 1573870000000000002, 1573870000000000003)
    assert parse_thread_key(ref.key) == ref
    assert parse_thread_key(dm_ref(1573870000000000004).key) == dm_ref(1573870000000000004)
    assert parse_thread_key("slack:T1:C1:1700000000.000100") is None
    link = web_link(ref.space_id, ref.thread_id)
    assert parse_link(link) == (ref.space_id, ref.thread_id) and parse_link(f"<{link}>") is not None
    assert parse_link("https://example.com/channels/1/2") is None
    assert parse_thread_link(web_link(ref.space_id, ref.channel_id, "1573870000000000009")) == (
        ref.space_id,
        ref.channel_id,
        "1573870000000000009",
    )
    assert custom_id("helpful", "a" * 32) == "supportbot:helpful:" + "a" * 32
    with pytest.raises(ValueError):
        custom_id("resolve", "x" * 90)


def test_support_command_text_reads_discord_mentions_and_links() -> None:
    user = "1573870000000000007"
    assert parse_user(f"<@{user}>") == user and parse_user(f"<@!{user}>") == user and parse_user(user) == user
    assert parse_user("@alice") is None
    assert parse_command(f"link <@{user}> C-1001", DISCORD_DIALECT) == Link(user, "C-1001")
    assert parse_command(f"unlink {user}", DISCORD_DIALECT) == Unlink(user)
    assert parse_command("kb search a < b", DISCORD_DIALECT) == KbSearch("a < b")  # nothing is unescaped
    assert parse_command("resolve #12", DISCORD_DIALECT) == ResolveId(12)
    link = web_link("1573870000000000001", "1573870000000000003")
    assert parse_command(f"resolve {link}", DISCORD_DIALECT) == ResolveThread(
        ("1573870000000000001", "1573870000000000003")
    )
    assert parse_command("resolve", DISCORD_DIALECT, in_thread=True) == ResolveHere()
    assert parse_command("resolve", DISCORD_DIALECT) == Help(DISCORD_DIALECT.resolve_usage)
    assert parse_command("frobnicate", DISCORD_DIALECT) == Help("I don't know `frobnicate`.")
