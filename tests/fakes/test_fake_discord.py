"""Self-tests of the fake Discord: everything goes through the real discord.py client."""

from __future__ import annotations

import asyncio
import io
import json
import math
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from .discord import (
    ChannelType,
    DiscordLimits,
    FakeDiscord,
    ManualClock,
    MessageFlag,
    discord_client_against,
    fake_discord,
)

__all__ = ["fake_discord"]  # the fixture, re-exported so pytest finds it in this module

EDIT_ROUTE = "/channels/{channel_id}/messages/{message_id}"
POST_ROUTE = "/channels/{channel_id}/messages"


def intents(*, message_content: bool = True) -> discord.Intents:
    chosen = discord.Intents.default()
    chosen.members = True
    chosen.message_content = message_content
    return chosen


class Recorder(discord.Client):
    """A client that keeps what the gateway told it."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("intents", intents())
        options.setdefault("guild_ready_timeout", 0.05)
        super().__init__(**options)
        self.received: list[discord.Message] = []
        self.edited: list[discord.Message] = []
        self.threads_created: list[discord.Thread] = []
        self.resumed = 0

    async def on_message(self, message: discord.Message) -> None:
        self.received.append(message)

    async def on_message_edit(self, before: discord.Message, after: discord.Message) -> None:
        self.edited.append(after)

    async def on_thread_create(self, thread: discord.Thread) -> None:
        self.threads_created.append(thread)

    async def on_resumed(self) -> None:
        self.resumed += 1

    def from_users(self) -> list[discord.Message]:
        return [m for m in self.received if self.user is not None and m.author.id != self.user.id]


def text_channel(client: discord.Client, channel_id: int) -> discord.TextChannel:
    channel = client.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


@pytest.fixture
async def client(fake_discord: FakeDiscord) -> AsyncIterator[Recorder]:
    async with discord_client_against(fake_discord, Recorder()) as ready:
        yield ready


# ------------------------------------------------------------------------------------- connection


async def test_ready_caches_guild_channels_members_and_roles(
    fake_discord: FakeDiscord, client: Recorder
) -> None:
    fake = fake_discord
    assert client.user is not None and client.user.id == fake.bot_user.id
    assert client.application_id == fake.application_id
    guild = client.get_guild(fake.guild.id)
    assert guild is not None and not guild.unavailable and guild.chunked
    assert {c.name for c in guild.text_channels} == {"general", "support"}
    forum = guild.get_channel(fake.forum.id)
    assert isinstance(forum, discord.ForumChannel)
    assert [t.name for t in forum.available_tags] == ["question", "bug", "resolved"]
    admin = guild.get_member(fake.admin.id)
    assert admin is not None and admin.guild_permissions.administrator
    lead = guild.get_member(fake.lead.id)
    assert lead is not None and lead.nick == "Team Lead" and [r.name for r in lead.roles[1:]] == ["Lead"]
    assert guild.me.guild_permissions.mention_everyone and guild.owner_id == fake.admin.id

    (identify,) = fake.identifies()
    assert identify["intents"] == intents().value and identify["token"] == fake.token
    assert [e.event for e in fake.events()][:2] == ["READY", "GUILD_CREATE"]
    (conn,) = fake.connections
    assert conn.compression == "zlib-stream" and conn.query["v"] == "10" and conn.query["encoding"] == "json"
    assert [c.route for c in fake.calls("GET")] == ["/users/@me", "/oauth2/applications/@me"]
    assert not fake.calls("GET", "/gateway/bot")  # a plain Client goes straight to DEFAULT_GATEWAY


async def test_heartbeats_are_acked() -> None:
    async with (
        FakeDiscord(heartbeat_interval=0.05) as fake,
        discord_client_against(fake, Recorder()) as client,
    ):
        await fake.wait_for(lambda: fake.heartbeats >= 3, what="three heartbeats")
        assert fake.heartbeat_acks == fake.heartbeats
        assert math.isfinite(client.latency) and client.latency < 1.0


async def test_wrong_token_is_refused(fake_discord: FakeDiscord) -> None:
    with pytest.raises(discord.LoginFailure):
        async with discord_client_against(fake_discord, Recorder(), token="not-the-token"):
            pass
    assert fake_discord.calls("GET", "/users/@me")[0].status == 401


async def test_privileged_intent_not_enabled_closes_4014() -> None:
    async with FakeDiscord(allowed_intents=0) as fake:
        with pytest.raises(discord.PrivilegedIntentsRequired):
            async with discord_client_against(fake, Recorder()):
                pass


async def test_reconnect_request_resumes_and_invalid_session_reidentifies(
    fake_discord: FakeDiscord, client: Recorder
) -> None:
    fake = fake_discord
    await fake.reconnect_clients()
    await fake.wait_for(lambda: client.resumed, what="RESUMED after op 7")
    await fake.invalidate_sessions(resumable=False)
    await fake.wait_for(lambda: len(fake.sessions) == 2 and client.is_ready(), what="a new session")
    await fake.post_as_user(fake.support, fake.alice, "still there?")
    (message,) = await fake.wait_for(client.from_users, what="a message on the new session")
    assert message.content == "still there?" and fake.sessions[0].invalidated


async def test_resume_replays_events_missed_while_disconnected(
    fake_discord: FakeDiscord, client: Recorder
) -> None:
    fake = fake_discord
    await fake.drop_connections(4000)
    await fake.post_as_user(fake.support, fake.alice, "sent while the bot was away")
    await fake.wait_for(lambda: client.resumed and client.from_users(), what="RESUMED and the missed message")
    assert client.from_users()[0].content == "sent while the bot was away"
    (session,) = fake.sessions
    assert session.resumes == 1 and fake.connections[-1].path == "/resume"


async def test_auto_sharded_client_identifies_every_shard() -> None:
    async with FakeDiscord(shards=2) as fake:
        second = fake.add_guild("Second Guild", shard_id=1)
        fake.add_text_channel(second, "lobby")
        assert (fake.guild.id >> 22) % 2 == 0
        bot = discord.AutoShardedClient(intents=intents(), guild_ready_timeout=0.05)
        async with discord_client_against(fake, bot):
            assert bot.shard_count == 2
            assert sorted(i["shard"] for i in fake.identifies()) == [[0, 2], [1, 2]]
            guild = bot.get_guild(second.id)
            assert guild is not None and guild.shard_id == 1 and guild.text_channels[0].name == "lobby"
            assert fake.calls("GET", "/gateway/bot")


# ------------------------------------------------------------------------------------- messages


async def test_on_message_gets_content_with_the_message_content_intent(
    fake_discord: FakeDiscord, client: Recorder
) -> None:
    fake = fake_discord
    payload = fake.user_message(fake.support.id, fake.alice, f"{fake.bot_user.mention} where is ORD-1?")
    assert await fake.dispatch("MESSAGE_CREATE", payload) == 1
    message = (await fake.wait_for(client.from_users, what="on_message"))[0]
    assert message.content == f"<@{fake.bot_user.id}> where is ORD-1?"
    assert isinstance(message.channel, discord.TextChannel) and message.channel.id == fake.support.id
    assert isinstance(message.author, discord.Member) and message.author.id == fake.alice.id
    assert client.user in message.mentions
    assert fake.messages(fake.support)[-1].id == message.id


async def test_without_message_content_intent_only_mentions_keep_their_text(
    fake_discord: FakeDiscord,
) -> None:
    fake = fake_discord
    async with discord_client_against(fake, Recorder(intents=intents(message_content=False))) as client:
        await fake.post_as_user(fake.support, fake.alice, "no mention here")
        await fake.post_as_user(fake.support, fake.alice, f"{fake.bot_user.mention} hello")
        await fake.wait_for(lambda: len(client.from_users()) == 2, what="both messages")
        plain, mention = client.from_users()
        assert plain.content == "" and mention.content.endswith("hello")


async def test_send_typing_and_edit_show_up_in_the_fake(fake_discord: FakeDiscord, client: Recorder) -> None:
    fake = fake_discord
    channel = text_channel(client, fake.support.id)
    await channel.typing()
    sent = await channel.send("thinking…")
    await sent.edit(content="ORD-1 ships tomorrow.")
    (stored,) = fake.bot_messages(fake.support)
    assert stored.content == "ORD-1 ships tomorrow." and stored.versions == [
        "thinking…",
        "ORD-1 ships tomorrow.",
    ]
    assert fake.typing(fake.support)
    assert [e.event for e in fake.events() if e.event.startswith("MESSAGE")] == [
        "MESSAGE_CREATE",
        "MESSAGE_UPDATE",
    ]
    edited = await fake.wait_for(lambda: client.edited, what="on_message_edit")
    assert edited[0].content == "ORD-1 ships tomorrow."
    (edit,) = fake.calls("PATCH", EDIT_ROUTE)
    assert edit.headers["X-RateLimit-Limit"] == "5" and edit.headers["X-RateLimit-Remaining"] == "4"
    assert (
        edit.headers["X-RateLimit-Bucket"] != fake.calls("POST", POST_ROUTE)[0].headers["X-RateLimit-Bucket"]
    )
    upload = await channel.send("log attached", file=discord.File(io.BytesIO(b"line 1\n"), "log.txt"))
    assert upload.attachments[0].filename == "log.txt" and upload.attachments[0].size == 7
    await upload.delete()
    assert fake.message(upload.id).deleted and fake.events("MESSAGE_DELETE")
    fetched = await channel.fetch_message(sent.id)
    assert fetched.content == "ORD-1 ships tomorrow." and fetched.edited_at is not None
    history = [m.content async for m in channel.history(limit=10)]
    assert history == ["ORD-1 ships tomorrow."]


async def test_validation_errors_look_like_discords(fake_discord: FakeDiscord, client: Recorder) -> None:
    fake = fake_discord
    channel = text_channel(client, fake.support.id)
    with pytest.raises(discord.HTTPException) as too_long:
        await channel.send("x" * 2001)
    assert too_long.value.status == 400 and too_long.value.code == 50035
    assert "Must be 2000 or fewer in length." in too_long.value.text
    await channel.send("x" * 2000)

    with pytest.raises(discord.HTTPException) as embed:
        await channel.send(embed=discord.Embed(description="y" * 4097))
    assert embed.value.code == 50035 and "embeds.0.description" in embed.value.text

    question = await fake.post_as_user(fake.support, fake.alice, "hello")
    theirs = await channel.fetch_message(question.id)
    with pytest.raises(discord.Forbidden) as forbidden:
        await theirs.edit(content="hijacked")
    assert forbidden.value.code == 50005
    with pytest.raises(discord.NotFound) as unknown:
        await channel.fetch_message(question.id + 12345)
    assert unknown.value.code == 10008
    body = fake.calls("POST", POST_ROUTE)[0].response
    assert body["errors"]["content"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"


async def test_allowed_mentions_none_pings_nobody(fake_discord: FakeDiscord, client: Recorder) -> None:
    fake = fake_discord
    fake.limits.message_create = (20, 5.0)  # five posts in one channel would make discord.py wait 5 s
    channel = text_channel(client, fake.support.id)
    text = f"@everyone @here {fake.alice.mention} {fake.lead_role.mention}"
    quiet = await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
    assert not fake.pinged(quiet.id)
    assert quiet.mention_everyone is False and quiet.mentions == []

    loud = await channel.send(text)  # no allowed_mentions: Discord parses everything
    pings = fake.pinged(loud.id)
    assert (
        pings.everyone
        and pings.here
        and pings.users == {fake.alice.id}
        and pings.roles == {fake.lead_role.id}
    )

    # An edit without allowed_mentions is parsed with the default allowances again.
    await quiet.edit(content=text)
    assert fake.pinged(quiet.id).everyone
    safe = await channel.send("…", allowed_mentions=discord.AllowedMentions.none())
    await safe.edit(content=text, allowed_mentions=discord.AllowedMentions.none())
    assert not fake.pinged(safe.id)

    question = await channel.fetch_message((await fake.post_as_user(fake.support, fake.alice, "help?")).id)
    quiet_reply = await question.reply("on it", mention_author=False)
    loud_reply = await question.reply("on it")
    assert not fake.pinged(quiet_reply.id) and fake.pinged(loud_reply.id).users == {fake.alice.id}
    assert fake.message(quiet_reply.id).type == 19 and quiet_reply.reference is not None


async def test_client_wide_allowed_mentions_cover_edits(fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    quiet = Recorder(allowed_mentions=discord.AllowedMentions.none())
    async with discord_client_against(fake, quiet):
        channel = text_channel(quiet, fake.support.id)
        sent = await channel.send("…")
        await sent.edit(content=f"@everyone {fake.alice.mention}")
        assert not fake.pinged(sent.id)
        assert fake.calls("PATCH", EDIT_ROUTE)[0].body["allowed_mentions"] == {"parse": []}


async def test_commands_bot_prefix_command(fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    bot = commands.Bot(command_prefix="!", intents=intents(), guild_ready_timeout=0.05)

    @bot.command()
    async def status(ctx: commands.Context[commands.Bot], order: str) -> None:
        await ctx.reply(f"{order}: shipped", mention_author=False)

    async with discord_client_against(fake, bot):
        asked = await fake.post_as_user(fake.support, fake.alice, "!status ORD-7")
        (answer,) = await fake.wait_for(lambda: fake.bot_messages(fake.support), what="the reply")
        assert answer.content == "ORD-7: shipped" and answer.message_reference is not None
        assert answer.message_reference["message_id"] == str(asked.id) and not fake.pinged(answer)


# ------------------------------------------------------------------------------------- rate limits


async def test_sixth_edit_gets_429_and_discord_py_retries(
    fake_discord: FakeDiscord, client: Recorder
) -> None:
    fake = fake_discord
    fake.limits.message_edit = (5, 1.0)
    fake.limits.send_ratelimit_headers = False  # discord.py cannot see the budget, so it meets the 429
    channel = text_channel(client, fake.support.id)
    sent = await channel.send("draft 0")
    for n in range(1, 7):
        await sent.edit(content=f"draft {n}")
    assert fake.bot_messages(fake.support)[0].content == "draft 6"
    edits = fake.calls("PATCH", EDIT_ROUTE)
    assert [c.status for c in edits] == [200] * 5 + [429, 200]
    assert fake.rate_limited_count == 1
    (hit,) = fake.rate_limit_hits
    assert hit.scope == "user" and not hit.injected and 0 < hit.retry_after <= 1.0
    rejected = edits[5]
    assert rejected.response == {
        "message": "You are being rate limited.",
        "retry_after": hit.retry_after,
        "global": False,
    }
    assert rejected.headers["Retry-After"] == "1" and rejected.headers["X-RateLimit-Scope"] == "user"
    assert rejected.headers["Via"] and rejected.headers["X-RateLimit-Remaining"] == "0"
    # The retry succeeded, so discord.py waited for the window to reset (it sleeps ``retry_after``).


async def test_with_headers_discord_py_paces_itself(fake_discord: FakeDiscord, client: Recorder) -> None:
    fake = fake_discord
    fake.limits.message_edit = (5, 1.0)
    channel = text_channel(client, fake.support.id)
    sent = await channel.send("draft 0")
    for n in range(1, 7):
        await sent.edit(content=f"draft {n}")
    edits = fake.calls("PATCH", EDIT_ROUTE)
    assert [c.status for c in edits] == [200] * 6 and fake.rate_limited_count == 0
    # The sixth edit arrived in a fresh window: the fifth edit's call (the one told Remaining: 0) slept
    # for Reset-After before it returned.
    assert [c.headers["X-RateLimit-Remaining"] for c in edits] == ["4", "3", "2", "1", "0", "4"]


async def test_rate_limit_headers_reach_an_http_trace(fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    seen: list[tuple[str, str | None, str | None]] = []

    async def on_request_end(
        session: aiohttp.ClientSession, context: Any, params: aiohttp.TraceRequestEndParams
    ) -> None:
        headers = params.response.headers
        seen.append((params.method, headers.get("X-RateLimit-Remaining"), headers.get("X-RateLimit-Bucket")))

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_request_end)
    async with discord_client_against(fake, Recorder(http_trace=trace)) as client:
        sent = await text_channel(client, fake.support.id).send("draft")
        await sent.edit(content="final")
    patch = fake.calls("PATCH", EDIT_ROUTE)[0]
    assert ("PATCH", "4", patch.headers["X-RateLimit-Bucket"]) in seen


async def test_injected_failures(fake_discord: FakeDiscord, client: Recorder) -> None:
    fake = fake_discord
    channel = text_channel(client, fake.support.id)

    fake.fail_next("POST", POST_ROUTE, 429, retry_after=0.05, is_global=True)
    await channel.send("after a global 429")
    assert fake.rate_limit_hits[-1].scope == "global" and fake.rate_limit_hits[-1].injected
    assert fake.calls("POST", POST_ROUTE)[0].headers["X-RateLimit-Global"] == "true"

    fake.fail_next("POST", "/channels/*/messages", 429, retry_after=0.01, times=5)
    with pytest.raises(discord.HTTPException) as gave_up:
        await channel.send("five 429s in a row")
    assert gave_up.value.status == 429 and fake.rate_limited_count == 6  # one try and four retries

    fake.fail_next("POST", POST_ROUTE, 503)
    with pytest.raises(discord.DiscordServerError):
        await channel.send("503 is not retried")

    client.http.max_ratelimit_timeout = 30.0
    fake.fail_next("POST", POST_ROUTE, 429, retry_after=60.0)
    with pytest.raises(discord.RateLimited) as too_long:
        await channel.send("a 60 s wait is over max_ratelimit_timeout")
    assert too_long.value.retry_after == 60.0
    client.http.max_ratelimit_timeout = None

    fake.fail_next("POST", POST_ROUTE, 500)
    await channel.send("500 is retried after 1 s")
    assert [c.status for c in fake.calls("POST", POST_ROUTE)][-2:] == [500, 200]
    assert [m.content for m in fake.bot_messages(fake.support)] == [
        "after a global 429",
        "500 is retried after 1 s",
    ]


async def test_raw_rate_limit_answers_and_the_global_limit() -> None:
    clock = ManualClock()
    limits = DiscordLimits(message_create=(2, 5.0), global_per_second=4)
    async with FakeDiscord(limits=limits, clock=clock) as fake, aiohttp.ClientSession() as http:
        url = f"{fake.api_base}/channels/{fake.support.id}/messages"
        auth = {"Authorization": f"Bot {fake.token}"}
        statuses = []
        for n in range(3):
            async with http.post(url, json={"content": f"m{n}"}, headers=auth) as response:
                statuses.append(response.status)
                last = response
                body = await response.json()
        assert statuses == [200, 200, 429]
        assert body == {"message": "You are being rate limited.", "retry_after": 5.0, "global": False}
        assert last.headers["Retry-After"] == "5" and last.headers["X-RateLimit-Reset-After"] == "5.000"
        async with http.get(f"{fake.api_base}/channels/{fake.support.id}", headers=auth) as response:
            assert response.status == 200  # the fourth request this second
        async with http.get(f"{fake.api_base}/users/@me", headers=auth) as response:
            assert response.status == 429 and (await response.json())["global"] is True
            assert response.headers["X-RateLimit-Scope"] == "global"
        clock.advance(5.0)
        async with http.post(url, json={"content": "later"}, headers=auth) as response:
            assert response.status == 200 and response.headers["X-RateLimit-Remaining"] == "1"
        async with http.get(f"{fake.api_base}/users/@me") as response:
            assert response.status == 401
        raw = json.dumps({"content": "x"})
        async with http.post(url.replace("/messages", "/nope"), data=raw, headers=auth) as response:
            assert response.status == 404


# ------------------------------------------------------------------------------------- threads and forums


async def test_thread_from_message(fake_discord: FakeDiscord, client: Recorder) -> None:
    fake = fake_discord
    channel = text_channel(client, fake.support.id)
    question = await fake.post_as_user(fake.support, fake.alice, "my order is late")
    message = await channel.fetch_message(question.id)
    thread = await message.create_thread(name="ORD-1 is late")
    assert thread.id == question.id and thread.parent_id == fake.support.id
    (stored,) = fake.threads(fake.support)
    assert stored.name == "ORD-1 is late" and stored.type == ChannelType.PUBLIC_THREAD
    await fake.wait_for(lambda: client.get_channel(thread.id), what="THREAD_CREATE in the cache")
    await thread.send("Looking into it")
    assert [m.content for m in fake.messages(thread.id)] == ["Looking into it"]
    with pytest.raises(discord.HTTPException) as twice:
        await message.create_thread(name="again")
    assert twice.value.code == 160004
    await thread.edit(archived=True)
    assert stored.archived


async def test_forum_post_event_and_bot_forum_post(fake_discord: FakeDiscord, client: Recorder) -> None:
    fake = fake_discord
    post = await fake.forum_post(
        fake.forum, fake.alice, "Refund?", "Can I get a refund for ORD-2?", tags=["question"]
    )
    assert post.thread.id == post.message.id
    created = await fake.wait_for(lambda: client.threads_created, what="on_thread_create")
    thread = created[0]
    assert isinstance(thread.parent, discord.ForumChannel) and thread.name == "Refund?"
    assert [t.name for t in thread.applied_tags] == ["question"]
    starter = (await fake.wait_for(client.from_users, what="the starter message"))[0]
    assert starter.channel.id == thread.id and starter.content == "Can I get a refund for ORD-2?"

    await thread.send("Yes, within 30 days.")
    forum = client.get_channel(fake.forum.id)
    assert isinstance(forum, discord.ForumChannel)
    resolved = forum.get_tag(fake.forum.tag_id("resolved"))
    assert resolved is not None
    await thread.edit(applied_tags=[resolved])
    assert post.thread.applied_tags == [fake.forum.tag_id("resolved")]

    made = await forum.create_thread(name="FAQ", content="Read me", applied_tags=[resolved])
    assert made.thread.id == made.message.id
    assert [t.name for t in fake.threads(fake.forum)] == ["Refund?", "FAQ"]
    assert fake.messages(made.thread.id)[0].content == "Read me"


async def test_dm_in_and_out(fake_discord: FakeDiscord, client: Recorder) -> None:
    fake = fake_discord
    await fake.dm(fake.alice, "psst")
    (incoming,) = await fake.wait_for(client.from_users, what="the DM")
    assert isinstance(incoming.channel, discord.DMChannel) and incoming.content == "psst"
    await incoming.channel.send("Hi Alice")
    user = await client.fetch_user(fake.lead.id)
    await user.send("Hello lead")
    assert [m.content for m in fake.bot_messages(fake.dm_channel(fake.alice))] == ["Hi Alice"]
    assert fake.bot_messages(fake.dm_channel(fake.lead))[0].content == "Hello lead"


# ------------------------------------------------------------------------------------- interactions


class SupportBot(Recorder):
    """A client with a ``/support`` guild command that defers and then follows up."""

    def __init__(self, guild_id: int, *, work: float = 0.0) -> None:
        super().__init__()
        self.guild_id = guild_id
        self.errors: list[BaseException] = []
        self.tree = app_commands.CommandTree(self)
        guild = discord.Object(guild_id)

        @self.tree.command(name="support", description="Ask the support bot", guild=guild)
        async def support(interaction: discord.Interaction, question: str) -> None:
            await asyncio.sleep(work)
            try:
                await interaction.response.defer(thinking=True)
            except discord.HTTPException as error:
                self.errors.append(error)
                return
            await interaction.followup.send(f"About {question!r}: it ships tomorrow.")
            await interaction.followup.send("Anything else?", ephemeral=True)

    async def setup_hook(self) -> None:
        await self.tree.sync(guild=discord.Object(self.guild_id))


async def test_slash_command_deferred_then_followed_up(fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    bot = SupportBot(fake.guild.id)
    async with discord_client_against(fake, bot):
        assert [c["name"] for c in fake.commands(fake.guild)] == ["support"]
        assert fake.calls("PUT", "/applications/{application_id}/guilds/{guild_id}/commands")
        interaction = await fake.slash_command(
            fake.guild, fake.support, fake.alice, "support", {"question": "ORD-1"}
        )
        await fake.wait_for(lambda: len(interaction.followup_ids) == 2, what="two follow-ups")
        responses = fake.interaction_responses(interaction.id)
        assert [(r.kind, r.type) for r in responses] == [
            ("callback", 5),
            ("followup", None),
            ("followup", None),
        ]
        answer, extra = fake.messages(fake.support)
        assert answer.id == interaction.original_message_id and not answer.loading
        assert answer.versions == ["", "About 'ORD-1': it ships tomorrow."] and answer.type == 20
        assert extra.ephemeral and extra.content == "Anything else?"
        assert interaction.followup_ids == [answer.id, extra.id]


async def test_interaction_answered_too_late_is_unknown(fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    fake.limits.interaction_deadline = 0.1
    bot = SupportBot(fake.guild.id, work=0.2)
    async with discord_client_against(fake, bot):
        await fake.slash_command(fake.guild, fake.support, fake.alice, "support", {"question": "late"})
        (error,) = await fake.wait_for(lambda: bot.errors, what="the late defer's error")
        assert isinstance(error, discord.NotFound) and error.code == 10062


class TicketView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Resolve", custom_id="ticket:resolve")
    async def resolve(self, interaction: discord.Interaction, button: discord.ui.Button[TicketView]) -> None:
        await interaction.response.edit_message(content="Resolved ✅", view=None)

    @discord.ui.button(label="Later", custom_id="ticket:later")
    async def later(self, interaction: discord.Interaction, button: discord.ui.Button[TicketView]) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content="Snoozed")


async def test_button_clicks_answered_with_update_and_deferred_update(
    fake_discord: FakeDiscord, client: Recorder
) -> None:
    fake = fake_discord
    channel = text_channel(client, fake.support.id)
    sent = await channel.send("Ticket #1", view=TicketView())
    stored = fake.message(sent.id)
    assert stored.custom_ids() == ["ticket:resolve", "ticket:later"]

    later = await fake.button_click(stored, fake.alice, "ticket:later")
    await fake.wait_for(lambda: stored.content == "Snoozed", what="the deferred update's edit")
    assert [(r.kind, r.type) for r in fake.interaction_responses(later)] == [
        ("callback", 6),
        ("edit_original", None),
    ]

    resolve = await fake.button_click(stored, fake.admin, "ticket:resolve")
    await fake.wait_for(lambda: resolve.acknowledged, what="the update")
    assert fake.interaction_responses(resolve)[0].type == 7
    assert stored.content == "Resolved ✅" and stored.components == []
    assert stored.versions == ["Ticket #1", "Snoozed", "Resolved ✅"]
    with pytest.raises(ValueError, match="no component"):
        await fake.button_click(stored, fake.alice, "ticket:resolve")


async def test_interaction_callback_rules(fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    interaction = await fake.slash_command(fake.guild, fake.support, fake.alice)
    base = f"{fake.api_base}/interactions/{interaction.id}/{interaction.token}/callback"
    async with aiohttp.ClientSession() as http:
        async with http.post(base, json={"type": 6}) as response:
            assert response.status == 400  # a deferred update is for components only
        async with http.post(
            f"{base}?with_response=1", json={"type": 4, "data": {"content": "hi"}}
        ) as response:
            body = await response.json()
            assert response.status == 200 and body["resource"]["message"]["content"] == "hi"
        async with http.post(base, json={"type": 4, "data": {"content": "again"}}) as response:
            assert response.status == 400 and (await response.json())["code"] == 40060
        followup = f"{fake.api_base}/webhooks/{fake.application_id}/{interaction.token}?wait=1"
        async with http.post(followup, json={"content": "more", "flags": MessageFlag.EPHEMERAL}) as response:
            assert response.status == 200 and (await response.json())["flags"] == MessageFlag.EPHEMERAL
    assert [m.content for m in fake.messages(fake.support)] == ["hi", "more"]
