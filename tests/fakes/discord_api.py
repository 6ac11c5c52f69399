"""A fake Discord REST API and gateway on 127.0.0.1 for end-to-end tests of the real discord.py client.

Three modules, one API (import everything from here): ``discord_rest`` (data model, limits, error shapes,
validation, rate limiter), ``discord_gateway`` (sessions, IDENTIFY/READY/RESUME, dispatch) and this one
(:class:`FakeDiscord`, which holds the world and answers the REST routes; the ``fake_discord`` fixture;
:func:`discord_client_against`).

Pointing discord.py at it (discord.py 2.7 has no official setting for either URL)::

    async def test_answer(fake_discord: FakeDiscord) -> None:
        client = MyBot(intents=intents, guild_ready_timeout=0.05)
        async with discord_client_against(fake_discord, client):     # patches, logs in, waits for READY
            await fake_discord.post_as_user(fake_discord.support, fake_discord.alice, "where is ORD-1?")
            await fake_discord.wait_for(lambda: fake_discord.bot_messages(fake_discord.support))

``discord_client_against`` (or ``fake.patch_discord_py()`` on its own) sets two class attributes and
restores them afterwards:

- ``discord.http.Route.BASE`` -> ``fake.api_base`` (``http://127.0.0.1:PORT/api/v10``).  Every REST URL
  is built from it when a ``Route`` is made, the webhook and interaction-callback routes included;
- ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` -> ``fake.gateway_url``.  A plain ``Client``
  (and an ``AutoShardedClient`` given ``shard_count``) never calls ``GET /gateway/bot``: it connects
  to ``DEFAULT_GATEWAY`` directly, so answering ``/gateway/bot`` alone is not enough.  An
  ``AutoShardedClient`` without ``shard_count`` calls it and takes ``url`` and ``shards`` from here.
  After READY discord.py resumes at ``resume_gateway_url`` (``ws://127.0.0.1:PORT/resume``).

Build clients with ``guild_ready_timeout=0.05`` or so: discord.py fires ``on_ready`` only once
``guild_ready_timeout`` (default 2 s) has passed without another GUILD_CREATE.

The world (``default_world=True``): ``fake.bot_user`` (the application's bot), ``fake.guild`` with
``@everyone``, the bot's managed role (MENTION_EVERYONE included), ``fake.admin_role``
(ADMINISTRATOR) and ``fake.lead_role``; members ``fake.alice``, ``fake.admin`` (also the owner) and
``fake.lead``; text channels ``fake.general`` and ``fake.support``; the forum ``fake.forum`` with
tags question/bug/resolved.  ``add_user``/``add_guild``/``add_role``/``add_member``/
``add_text_channel``/``add_forum``/``add_thread``/``dm_channel`` build more.

Builders (the user side): ``user_message`` (stored, returns the MESSAGE_CREATE payload for
``await fake.dispatch(...)``), ``post_as_user``, ``edit_as_user``, ``dm``, ``forum_post``,
``slash_command``, ``button_click``; ``attachment`` (a file a user attaches, served at its ``url``).
Assertions: ``messages`` (with ``versions``), ``message``, ``bot_messages``, ``threads``, ``typing``,
``calls``, ``rate_limit_hits``/``rate_limited_count``, ``interaction_responses``, ``commands``,
``pinged``, ``events``, ``identifies``, ``heartbeats``, ``wait_for``/``wait_for_calls``.  Gateway control:
``reconnect_clients``, ``drop_connections``, ``invalidate_sessions``.  Failure injection: ``fail_next``.

What it does like Discord (numbers in :class:`DiscordLimits`; a test may change them):

- REST: the routes a support bot uses (``discord_rest._ROUTES``), JSON and multipart bodies, ``Bot``
  token auth (401 otherwise), Discord's error bodies (``{"message", "code", "errors"}``): content over
  2,000 characters and an embed description over 4,096 -> 400/50035 with an ``errors`` tree, an empty
  message -> 50006, editing another user's message -> 403/50005, an unknown message -> 404/10008, a
  second thread on one message -> 160004, a closed DM -> 50007, ...
- rate limits: a fixed window per bucket (route x major parameter: channel, guild or webhook) with the
  ``X-RateLimit-Limit/-Remaining/-Reset/-Reset-After/-Bucket`` headers on every answer; messages
  created and edited per channel: 5 per 5 s each by default; a global 50 requests per second
  (interaction routes exempt); beyond a limit 429 with ``{"message", "retry_after", "global"}``,
  ``Retry-After``, ``X-RateLimit-Scope`` and ``Via`` (discord.py treats a 429 without ``Via`` as a
  Cloudflare ban and raises instead of retrying).
- gateway: HELLO, IDENTIFY (token, intents and shard checked; privileged intents not enabled ->
  close 4014), READY with unavailable guilds then one GUILD_CREATE per guild (channels, threads,
  members, roles), HEARTBEAT/ACK, RESUME/RESUMED with replay of missed events, INVALID_SESSION,
  RECONNECT, REQUEST_GUILD_MEMBERS; ``zlib-stream`` transport compression when asked for (discord.py
  asks for it unless ``zstandard`` is installed; a ``zstd-stream`` request gets plain text frames,
  which discord.py accepts); intents filtering (no MESSAGE_CREATE without GUILD_MESSAGES, empty
  content without MESSAGE_CONTENT unless the bot is mentioned, it is a DM or the bot's own message).
- the bot's REST actions show up on the gateway as on Discord: MESSAGE_CREATE, MESSAGE_UPDATE,
  MESSAGE_DELETE, THREAD_CREATE, THREAD_UPDATE, CHANNEL_UPDATE.
- interactions: callbacks 4/5/6/7 (8/9 recorded) within ``interaction_deadline`` (3 s) or 404/10062,
  a second callback -> 400/40060, ``@original`` and follow-ups through ``/webhooks/{app}/{token}``;
  the first follow-up after a type-5 defer replaces the "thinking" message, as Discord does.
- mentions: ``allowed_mentions`` applied as Discord applies it (``fake.pinged(message)``); an edit
  without ``allowed_mentions`` is parsed with the default allowances (everything), as Discord
  documents, so set ``allowed_mentions`` on the client or on every edit.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import discord
import discord.gateway
import discord.http
import pytest_asyncio
import yarl
from aiohttp import BodyPartReader, web

from .discord_gateway import (
    FakeGateway,
    GatewayConnection,
    GatewaySession,
    Intent,
    Op,
    SentEvent,
)
from .discord_rest import (
    _CALLBACK_TYPES,
    _COMMAND_NAME_RE,
    _COMPILED,
    _NO_AUTH_PREFIXES,
    _ROLE_MENTION_RE,
    _USER_MENTION_RE,
    API_VERSION,
    APP_FLAGS_LIMITED_INTENTS,
    JSON,
    ApiError,
    ChannelType,
    DiscordLimits,
    FakeChannel,
    FakeGuild,
    FakeInteraction,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
    ForumPost,
    InteractionResponse,
    ManualClock,
    MessageFlag,
    Perm,
    Pings,
    RateLimiter,
    RateLimitHit,
    RecordedCall,
    SnowflakeGenerator,
    _as_int,
    _field_error,
    _invalid_form,
    _iso,
    _now,
    _options,
    _Request,
    _route_matches,
    _set_error,
    is_empty_message,
    validate_message_body,
)

__all__ = [
    "ApiError",
    "ChannelType",
    "DiscordLimits",
    "FakeChannel",
    "FakeDiscord",
    "FakeGateway",
    "FakeGuild",
    "FakeInteraction",
    "FakeMember",
    "FakeMessage",
    "FakeRole",
    "FakeUser",
    "ForumPost",
    "GatewayConnection",
    "GatewaySession",
    "Intent",
    "InteractionResponse",
    "ManualClock",
    "MessageFlag",
    "Op",
    "Perm",
    "Pings",
    "RateLimitHit",
    "RecordedCall",
    "SentEvent",
    "discord_client_against",
    "fake_discord",
]

ClientT = TypeVar("ClientT", bound=discord.Client)
T = TypeVar("T")


# ---------------------------------------------------------------------------------------- the fake


class FakeDiscord:
    """The fake Discord: an in-memory world, a REST API and a gateway on one 127.0.0.1 port."""

    def __init__(
        self,
        *,
        limits: DiscordLimits | None = None,
        clock: Callable[[], float] | None = None,
        shards: int = 1,
        heartbeat_interval: float = 41.25,
        compression: bool = True,
        allowed_intents: int | None = None,
        bot_name: str = "supportbot",
        default_world: bool = True,
    ) -> None:
        """``shards``: what ``GET /gateway/bot`` recommends; ``heartbeat_interval`` in seconds (HELLO);
        ``compression=False`` answers every connection with plain text frames; ``allowed_intents``:
        the intents switched on in the developer portal (privileged ones missing -> close 4014)."""
        self._clock = clock or time.monotonic
        self.ratelimits = RateLimiter(limits or DiscordLimits(), self._clock)
        self.gateway = FakeGateway(
            self,
            heartbeat_interval=heartbeat_interval,
            compression=compression,
            allowed_intents=allowed_intents,
        )
        self.shard_count = shards
        self.ids = SnowflakeGenerator()

        self.application_id = self.ids.next()
        self.bot_user = FakeUser(self.application_id, bot_name, bot=True)
        self.owner_user = FakeUser(self.ids.next(), "app-owner")
        encoded = base64.b64encode(str(self.bot_user.id).encode()).decode().rstrip("=")
        self.token = f"{encoded}.FAKE.{secrets.token_urlsafe(27)}"

        self.users: dict[int, FakeUser] = {u.id: u for u in (self.bot_user, self.owner_user)}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self._messages: dict[int, list[FakeMessage]] = {}
        self._message_index: dict[int, FakeMessage] = {}
        self._dm_by_user: dict[int, FakeChannel] = {}
        self._commands: dict[int | None, list[JSON]] = {}
        self.command_syncs: list[tuple[int | None, list[JSON]]] = []
        self._interactions: dict[int, FakeInteraction] = {}
        self._interactions_by_token: dict[str, FakeInteraction] = {}
        self._typing: dict[int, list[float]] = {}
        self._attachment_data: dict[int, tuple[bytes, str]] = {}

        self._calls: list[RecordedCall] = []
        self._changed = asyncio.Event()
        self.message_listeners: list[Callable[[str, FakeMessage], None]] = []
        """Called with ("create" or "edit", message) after the bot's or a webhook's message is stored or
        edited over REST (benchmarks watch replies this way instead of scanning every channel)."""
        self._runner: web.AppRunner | None = None
        self._port = 0

        if default_world:
            self._build_default_world()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{version:v\\d+}/{tail:.*}", self._handle_rest)
        app.router.add_get("/", self.gateway.handle)
        app.router.add_get("/resume", self.gateway.handle)
        app.router.add_get("/attachments/{channel}/{attachment}/{filename}", self._serve_attachment)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def close(self) -> None:
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        if not self._port:
            raise RuntimeError("FakeDiscord is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_base(self) -> str:
        """What ``discord.http.Route.BASE`` must be."""
        return f"{self.base_url}/api/v{API_VERSION}"

    @property
    def gateway_url(self) -> str:
        """What ``DiscordWebSocket.DEFAULT_GATEWAY`` must be (also the ``url`` of ``/gateway/bot``)."""
        return f"ws://127.0.0.1:{self._port}/"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/resume"

    @property
    def limits(self) -> DiscordLimits:
        """The limits in force (mutable; assigning a new :class:`DiscordLimits` works too)."""
        return self.ratelimits.limits

    @limits.setter
    def limits(self, value: DiscordLimits) -> None:
        self.ratelimits.limits = value

    def clock(self) -> float:
        """The fake's clock (``time.monotonic`` or the :class:`ManualClock` given)."""
        return self._clock()

    @contextlib.contextmanager
    def patch_discord_py(self) -> Iterator[None]:
        """Point discord.py's REST base and default gateway at this fake; restored on exit."""
        route_cls = discord.http.Route
        ws_cls = discord.gateway.DiscordWebSocket
        old_base, old_gateway = route_cls.BASE, ws_cls.DEFAULT_GATEWAY
        route_cls.BASE = self.api_base
        ws_cls.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            route_cls.BASE = old_base
            ws_cls.DEFAULT_GATEWAY = old_gateway

    # ------------------------------------------------------------------ world building

    def _build_default_world(self) -> None:
        self.alice_user = self.add_user("alice")
        self.admin_user = self.add_user("admin")
        self.lead_user = self.add_user("lead")
        self.guild = self.add_guild("Fake Support Guild", owner=self.admin_user, shard_id=0)
        self.admin_role = self.add_role(self.guild, "Admin", permissions=Perm.ADMINISTRATOR)
        self.lead_role = self.add_role(
            self.guild, "Lead", permissions=Perm.EVERYONE_DEFAULT | Perm.MANAGE_THREADS
        )
        self.alice = self.add_member(self.guild, self.alice_user)
        self.admin = self.add_member(self.guild, self.admin_user, roles=[self.admin_role])
        self.lead = self.add_member(self.guild, self.lead_user, roles=[self.lead_role], nick="Team Lead")
        self.general = self.add_text_channel(self.guild, "general")
        self.support = self.add_text_channel(self.guild, "support", topic="Ask us anything")
        self.forum = self.add_forum(self.guild, "help", tags=["question", "bug", "resolved"])

    def add_user(self, username: str, *, bot: bool = False, global_name: str | None = None) -> FakeUser:
        user = FakeUser(self.ids.next(), username, bot=bot, global_name=global_name)
        self.users[user.id] = user
        return user

    def add_guild(
        self, name: str, *, owner: FakeUser | None = None, shard_id: int | None = None
    ) -> FakeGuild:
        """A guild with ``@everyone``, the bot's managed role and the bot as a member.

        ``shard_id``: pick an id that lands on that shard of ``self.shard_count``."""
        if shard_id is not None:
            guild_id = self.ids.next_for_shard(shard_id, self.shard_count)
        else:
            guild_id = self.ids.next()
        guild = FakeGuild(guild_id, name, owner_id=(owner or self.owner_user).id)
        guild.roles[guild_id] = FakeRole(guild_id, guild_id, "@everyone", permissions=Perm.EVERYONE_DEFAULT)
        self.guilds[guild_id] = guild
        bot_role = self.add_role(guild, self.bot_user.username, permissions=Perm.BOT_DEFAULT, managed=True)
        bot_role.bot_id = self.bot_user.id
        self.add_member(guild, self.bot_user, roles=[bot_role])
        if owner is not None:
            self.add_member(guild, owner)
        return guild

    def add_role(
        self,
        guild: FakeGuild | int,
        name: str,
        *,
        permissions: int = 0,
        mentionable: bool = False,
        managed: bool = False,
    ) -> FakeRole:
        g = self._guild(guild)
        role = FakeRole(self.ids.next(), g.id, name, permissions, len(g.roles), mentionable, managed)
        g.roles[role.id] = role
        return role

    def add_member(
        self,
        guild: FakeGuild | int,
        user: FakeUser | str,
        *,
        roles: Iterable[FakeRole | int] = (),
        nick: str | None = None,
    ) -> FakeMember:
        g = self._guild(guild)
        if isinstance(user, str):
            user = self.add_user(user)
        self.users.setdefault(user.id, user)
        role_ids = [r.id if isinstance(r, FakeRole) else r for r in roles]
        member = FakeMember(user, g.id, role_ids, nick)
        g.members[user.id] = member
        return member

    def add_text_channel(self, guild: FakeGuild | int, name: str, *, topic: str | None = None) -> FakeChannel:
        g = self._guild(guild)
        channel = FakeChannel(
            self.ids.next(), ChannelType.TEXT, name, g.id, topic=topic, position=len(g.channel_ids)
        )
        return self._register_channel(channel)

    def add_forum(self, guild: FakeGuild | int, name: str, *, tags: Iterable[str] = ()) -> FakeChannel:
        g = self._guild(guild)
        channel = FakeChannel(self.ids.next(), ChannelType.FORUM, name, g.id, position=len(g.channel_ids))
        channel.available_tags = [
            {
                "id": str(self.ids.next()),
                "name": tag,
                "moderated": False,
                "emoji_id": None,
                "emoji_name": None,
            }
            for tag in tags
        ]
        return self._register_channel(channel)

    def add_thread(
        self,
        parent: FakeChannel | int,
        name: str,
        *,
        owner: FakeUser | FakeMember | int | None = None,
        thread_type: int = ChannelType.PUBLIC_THREAD,
        thread_id: int | None = None,
    ) -> FakeChannel:
        """A thread known to the world (no gateway event; use the builders for that)."""
        p = self._channel(parent)
        owner_user = self._user(owner) if owner is not None else self.bot_user
        thread = FakeChannel(
            thread_id or self.ids.next(),
            thread_type,
            name,
            p.guild_id,
            parent_id=p.id,
            owner_id=owner_user.id,
            auto_archive_duration=4320 if p.is_forum else 1440,
            thread_member_ids={owner_user.id},
        )
        return self._register_channel(thread)

    def dm_channel(self, user: FakeUser | FakeMember | int) -> FakeChannel:
        """The DM channel between the bot and ``user`` (created on first use)."""
        u = self._user(user)
        channel = self._dm_by_user.get(u.id)
        if channel is None:
            channel = FakeChannel(self.ids.next(), ChannelType.DM, None, recipients=[u])
            self._dm_by_user[u.id] = channel
            self._register_channel(channel)
        return channel

    def _register_channel(self, channel: FakeChannel) -> FakeChannel:
        self.channels[channel.id] = channel
        self._messages.setdefault(channel.id, [])
        if channel.guild_id is not None and not channel.is_thread:
            self.guilds[channel.guild_id].channel_ids.append(channel.id)
        return channel

    # ------------------------------------------------------------------ lookups

    def _guild(self, guild: FakeGuild | int) -> FakeGuild:
        return guild if isinstance(guild, FakeGuild) else self.guilds[guild]

    def _channel(self, channel: FakeChannel | int) -> FakeChannel:
        return channel if isinstance(channel, FakeChannel) else self.channels[channel]

    def _user(self, user: FakeUser | FakeMember | int) -> FakeUser:
        if isinstance(user, FakeMember):
            return user.user
        if isinstance(user, FakeUser):
            return user
        return self.users[user]

    def member(self, guild: FakeGuild | int, user: FakeUser | FakeMember | int) -> FakeMember:
        return self._guild(guild).members[self._user(user).id]

    def permissions(self, guild: FakeGuild | int | None, user: FakeUser | FakeMember | int) -> int:
        """The user's guild-level permissions (roles and ownership; channel overwrites are not modelled)."""
        if guild is None:
            return Perm.EVERYONE_DEFAULT & ~Perm.MENTION_EVERYONE
        g = self._guild(guild)
        u = self._user(user)
        if u.id == g.owner_id:
            return Perm.ALL
        member = g.members.get(u.id)
        perms = g.everyone_role.permissions
        for role_id in member.roles if member else []:
            role = g.roles.get(role_id)
            if role is not None:
                perms |= role.permissions
        return Perm.ALL if perms & Perm.ADMINISTRATOR else perms

    def mention(self, target: FakeUser | FakeMember | FakeRole | FakeChannel) -> str:
        return target.mention

    # ------------------------------------------------------------------ assertions

    def messages(self, channel: FakeChannel | int, *, include_deleted: bool = False) -> list[FakeMessage]:
        """The channel's messages now, oldest first (ephemeral ones included, flagged)."""
        return [
            m for m in self._messages.get(self._channel(channel).id, []) if include_deleted or not m.deleted
        ]

    def message(self, message_id: int) -> FakeMessage:
        return self._message_index[message_id]

    def bot_messages(self, channel: FakeChannel | int | None = None) -> list[FakeMessage]:
        pool = self.messages(channel) if channel is not None else self._all_messages()
        return [m for m in pool if m.author.id == self.bot_user.id]

    def _all_messages(self) -> list[FakeMessage]:
        return sorted((m for m in self._message_index.values() if not m.deleted), key=lambda m: m.id)

    def threads(self, parent: FakeChannel | int) -> list[FakeChannel]:
        parent_id = self._channel(parent).id
        return [c for c in self.channels.values() if c.is_thread and c.parent_id == parent_id]

    def typing(self, channel: FakeChannel | int) -> list[float]:
        """When (by the fake's clock) the bot triggered the typing indicator in the channel."""
        return list(self._typing.get(self._channel(channel).id, []))

    def calls(self, method: str | None = None, route: str | None = None) -> list[RecordedCall]:
        """Requests received, oldest first (failed and rate-limited ones included).

        ``route``: a template as discord.py spells it (``/channels/{channel_id}/messages``), a concrete
        path, or an ``fnmatch`` pattern over the concrete path (``/channels/*/messages/*``)."""
        return [
            c
            for c in self._calls
            if (method is None or c.method == method.upper()) and (route is None or _route_matches(route, c))
        ]

    def reset_calls(self) -> None:
        self._calls.clear()
        self.ratelimits.hits.clear()

    @property
    def rate_limit_hits(self) -> list[RateLimitHit]:
        """Every 429 served, oldest first (scope, retry_after, bucket, injected or not)."""
        return self.ratelimits.hits

    @property
    def rate_limited_count(self) -> int:
        """How many 429 answers were served (by the limiters or injected)."""
        return len(self.ratelimits.hits)

    def fail_next(
        self,
        method: str,
        route_pattern: str,
        status: int = 429,
        *,
        retry_after: float = 1.0,
        times: int = 1,
        scope: str = "user",
        is_global: bool = False,
        body: JSON | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next ``times`` requests matching ``route_pattern`` (a route template as discord.py
        spells it, a concrete path, or an ``fnmatch`` pattern over the path) with ``status`` instead of
        handling them.  See :meth:`RateLimiter.fail_next`."""
        self.ratelimits.fail_next(
            method,
            route_pattern,
            status,
            retry_after=retry_after,
            times=times,
            scope=scope,
            is_global=is_global,
            body=body,
            delay=delay,
        )

    def interaction(self, interaction_id: int) -> FakeInteraction:
        return self._interactions[interaction_id]

    def interaction_responses(self, interaction: FakeInteraction | int) -> list[InteractionResponse]:
        iid = interaction.id if isinstance(interaction, FakeInteraction) else interaction
        return list(self._interactions[iid].responses)

    def commands(self, guild: FakeGuild | int | None = None) -> list[JSON]:
        """The application commands registered (globally, or for ``guild``)."""
        key = None if guild is None else self._guild(guild).id
        return copy.deepcopy(self._commands.get(key, []))

    def pinged(self, message: FakeMessage | int) -> Pings:
        """Everyone the message's text could notify, over its creation and every edit.

        Discord notifies on creation only, but an edit that adds a mention still highlights the message
        for the user, so for "model text pinged nobody" the union is the safe check."""
        msg = message if isinstance(message, FakeMessage) else self.message(message)
        result = Pings()
        for pings in msg.ping_history:
            result = result | pings
        return result

    # ------------------------------------------------------------------ gateway (see FakeGateway)

    def events(self, event: str | None = None) -> list[SentEvent]:
        """Dispatches sent to gateway sessions, oldest first."""
        return [e for e in self.gateway.sent_events if event is None or e.event == event]

    @property
    def sessions(self) -> list[GatewaySession]:
        return self.gateway.sessions

    @property
    def connections(self) -> list[GatewayConnection]:
        return self.gateway.connections

    @property
    def heartbeats(self) -> int:
        """HEARTBEATs received on all connections."""
        return self.gateway.heartbeats

    @property
    def heartbeat_acks(self) -> int:
        return self.gateway.heartbeat_acks

    def identifies(self) -> list[JSON]:
        """The IDENTIFY payloads received (token included), oldest first."""
        return self.gateway.identifies()

    async def dispatch(self, event: str, payload: JSON) -> int:
        """Send a DISPATCH to every session that would get it (shard, intents); returns how many did.

        Disconnected sessions keep the event for a RESUME; with no session at all the event is lost,
        as on Discord."""
        return await self.gateway.dispatch(event, payload)

    async def reconnect_clients(self) -> None:
        """Send op 7 RECONNECT on every open connection (the client should RESUME)."""
        await self.gateway.reconnect_clients()

    async def drop_connections(self, code: int = 4000) -> None:
        """Close every open connection from the server side (4000: resumable)."""
        await self.gateway.drop_connections(code)

    async def invalidate_sessions(self, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION (``resumable=False``: the client must IDENTIFY again)."""
        await self.gateway.invalidate_sessions(resumable=resumable)

    async def wait_for(
        self, predicate: Callable[[], T], seconds: float = 5.0, *, what: str = "condition"
    ) -> T:
        """Wait until ``predicate()`` is truthy and return its value (checked after every request,
        gateway payload and dispatch, and every 20 ms besides, so client-side state works too)."""
        try:
            async with asyncio.timeout(seconds):
                while not (value := predicate()):
                    changed = self._changed
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(changed.wait(), 0.02)
                return value
        except TimeoutError:
            raise TimeoutError(f"fake Discord: {what} not reached within {seconds} s") from None

    async def wait_for_calls(
        self, method: str, route: str, count: int = 1, seconds: float = 5.0
    ) -> list[RecordedCall]:
        """Wait until ``count`` answered calls match; returns them all."""
        await self.wait_for(
            lambda: len([c for c in self.calls(method, route) if c.status]) >= count,
            seconds,
            what=f"{count} {method} {route} call(s)",
        )
        return self.calls(method, route)

    def notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # ------------------------------------------------------------------ HTTP plumbing

    async def _read_body(self, request: web.Request) -> tuple[Any, list[JSON]]:
        files: list[JSON] = []
        if request.content_type == "multipart/form-data":
            body: Any = None
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, BodyPartReader):
                    continue
                data = await part.read(decode=False)
                if part.name == "payload_json":
                    body = json.loads(bytes(data).decode())
                else:
                    files.append({"field": part.name, "filename": part.filename or "file", "size": len(data)})
            return body, files
        raw = await request.read()
        if not raw:
            return None, files
        try:
            return json.loads(raw), files
        except ValueError:
            raise ApiError(400, 50109, "The request body contains invalid JSON.") from None

    def _match(self, method: str, path: str) -> tuple[str, dict[str, str], str] | None:
        seen_path = False
        for route_method, template, pattern, handler in _COMPILED:
            found = pattern.match(path)
            if found is None:
                continue
            seen_path = True
            if route_method == method:
                return template, found.groupdict(), handler
        if seen_path:
            raise ApiError(405, 0, "405: Method Not Allowed")
        return None

    async def _handle_rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        method = request.method.upper()
        call = RecordedCall(method, path, None, {}, dict(request.query), None, [], self._clock())
        self._calls.append(call)
        headers: dict[str, str] = {"Via": "1.1 google"}
        try:
            call.body, call.files = await self._read_body(request)
            matched = self._match(method, path)
            if matched is None:
                raise ApiError(404, 0, "404: Not Found")
            route, params, handler_name = matched
            call.route, call.params = route, params
            authorized = request.headers.get("Authorization") == f"Bot {self.token}"
            if not path.startswith(_NO_AUTH_PREFIXES) and not authorized:
                raise ApiError(401, 0, "401: Unauthorized")
            failure = self.ratelimits.take_failure(method, path, route)
            if failure is not None:
                if failure.delay:
                    await asyncio.sleep(failure.delay)
                raise self.ratelimits.injected(failure, method, path, route)
            self.ratelimits.check_global(method, path, route)
            rl_headers = self.ratelimits.take_bucket(method, path, route, params)
            if self.limits.send_ratelimit_headers:
                headers.update(rl_headers)
            handler: Callable[[_Request], Awaitable[tuple[int, Any]]] = getattr(self, handler_name)
            req = _Request(method, path, route, params, dict(request.query), call.body, call.files)
            status, payload = await handler(req)
        except ApiError as error:
            status, payload = error.status, error.body
            headers.update(error.headers)
        call.status, call.response, call.headers = status, payload, headers
        self.notify()
        if status == 204 or payload is None:
            return web.Response(status=204, headers=headers)
        # Exactly ``application/json``: discord.py compares the header verbatim and would otherwise hand
        # the caller a str (aiohttp's json_response adds ``; charset=utf-8``).
        headers["Content-Type"] = "application/json"
        return web.Response(status=status, body=json.dumps(payload).encode(), headers=headers)

    # ------------------------------------------------------------------ JSON views

    def user_json(self, user: FakeUser) -> JSON:
        return user.to_api()

    def guild_json(self, guild: FakeGuild, *, full: bool) -> JSON:
        data: JSON = {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(guild.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [r.to_api() for r in guild.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
        }
        if full:
            threads = [
                self.channels[c].to_api(bot_id=self.bot_user.id)
                for c in self.channels
                if self.channels[c].guild_id == guild.id
                and self.channels[c].is_thread
                and not self.channels[c].archived
            ]
            data.update(
                joined_at=_iso(guild.members[self.bot_user.id].joined_at),
                large=False,
                unavailable=False,
                member_count=len(guild.members),
                voice_states=[],
                members=[m.to_api() for m in guild.members.values()],
                channels=[self.channels[c].to_api() for c in guild.channel_ids],
                threads=threads,
                presences=[],
                stage_instances=[],
                guild_scheduled_events=[],
                soundboard_sounds=[],
            )
        return data

    def channel_json(self, channel: FakeChannel) -> JSON:
        return channel.to_api(bot_id=self.bot_user.id)

    def message_json(self, msg: FakeMessage, *, gateway: bool = False, with_reference: bool = True) -> JSON:
        """The message as Discord sends it (``gateway=True``: with ``guild_id`` and ``member``)."""
        data: JSON = {
            "id": str(msg.id),
            "channel_id": str(msg.channel_id),
            "type": msg.type,
            "content": msg.content,
            "author": msg.author.to_api(),
            "timestamp": _iso(msg.created_at),
            "edited_timestamp": _iso(msg.edited_at),
            "tts": msg.tts,
            "mention_everyone": msg.mention_everyone,
            "mentions": [self._mention_json(u, msg.guild_id, gateway) for u in msg.mentions],
            "mention_roles": [str(r) for r in msg.mention_roles],
            "attachments": copy.deepcopy(msg.attachments),
            "embeds": copy.deepcopy(msg.embeds),
            "pinned": False,
            "flags": msg.flags,
            "components": copy.deepcopy(msg.components),
        }
        if msg.reactions:
            data["reactions"] = [
                {
                    "emoji": {"id": None, "name": emoji},
                    "count": len(users),
                    "count_details": {"burst": 0, "normal": len(users)},
                    "me": self.bot_user.id in users,
                    "me_burst": False,
                    "burst_colors": [],
                }
                for emoji, users in msg.reactions.items()
                if users
            ]
        if msg.webhook_id is not None:
            data["webhook_id"] = str(msg.webhook_id)
        if msg.application_id is not None:
            data["application_id"] = str(msg.application_id)
        if msg.nonce is not None:
            data["nonce"] = msg.nonce
        if msg.interaction_metadata is not None:
            data["interaction_metadata"] = copy.deepcopy(msg.interaction_metadata)
        if msg.position is not None:
            data["position"] = msg.position
        if msg.thread_id is not None and msg.thread_id in self.channels:
            data["thread"] = self.channel_json(self.channels[msg.thread_id])
        if msg.message_reference is not None:
            data["message_reference"] = copy.deepcopy(msg.message_reference)
            ref_id = _as_int(msg.message_reference.get("message_id"))
            if with_reference and msg.type == 19:
                ref = self._message_index.get(ref_id) if ref_id is not None else None
                data["referenced_message"] = (
                    None if ref is None or ref.deleted else self.message_json(ref, with_reference=False)
                )
        if gateway and msg.guild_id is not None:
            data["guild_id"] = str(msg.guild_id)
            member = self.guilds[msg.guild_id].members.get(msg.author.id)
            if member is not None and msg.webhook_id is None:
                data["member"] = member.to_api(with_user=False)
        return data

    def _mention_json(self, user: FakeUser, guild_id: int | None, gateway: bool) -> JSON:
        data = user.to_api()
        if gateway and guild_id is not None:
            member = self.guilds[guild_id].members.get(user.id)
            if member is not None:
                data["member"] = member.to_api(with_user=False)
        return data

    def _application_json(self) -> JSON:
        return {
            "id": str(self.application_id),
            "name": self.bot_user.username,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": self.owner_user.to_api(),
            "team": None,
            "flags": APP_FLAGS_LIMITED_INTENTS,
            "bot": self.bot_user.to_api(),
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "approximate_guild_count": len(self.guilds),
            "tags": [],
        }

    # ------------------------------------------------------------------ mentions

    def _resolve_pings(
        self,
        author: FakeUser,
        guild_id: int | None,
        content: str,
        allowed: JSON | None,
        reply_to: FakeMessage | None,
    ) -> tuple[Pings, list[FakeUser]]:
        """Who ``content`` pings under ``allowed`` (None: Discord's default, everything), and the
        ``mentions`` array Discord would return (the pinged users plus the replied-to author)."""
        if allowed is None:
            parse = {"users", "roles", "everyone"}
            allowed_users: set[int] = set()
            allowed_roles: set[int] = set()
            replied_user = True
        else:
            parse = set(allowed.get("parse") or [])
            allowed_users = {int(u) for u in allowed.get("users") or [] if _as_int(u) is not None}
            allowed_roles = {int(r) for r in allowed.get("roles") or [] if _as_int(r) is not None}
            replied_user = bool(allowed.get("replied_user", False))
        guild = self.guilds.get(guild_id) if guild_id is not None else None
        can_everyone = guild is not None and bool(self.permissions(guild, author) & Perm.MENTION_EVERYONE)

        users: list[FakeUser] = []
        for raw in _USER_MENTION_RE.findall(content):
            uid = int(raw)
            target = self.users.get(uid)
            if target is None or target in users:
                continue
            if "users" in parse or uid in allowed_users:
                users.append(target)
        roles: list[int] = []
        if guild is not None:
            for raw in _ROLE_MENTION_RE.findall(content):
                role = guild.roles.get(int(raw))
                if role is None or role.id in roles or role.id == guild.id:
                    continue
                if ("roles" in parse or role.id in allowed_roles) and (role.mentionable or can_everyone):
                    roles.append(role.id)
        everyone = "@everyone" in content and "everyone" in parse and can_everyone
        here = "@here" in content and "everyone" in parse and can_everyone
        mentions = list(users)
        if (
            reply_to is not None
            and replied_user
            and reply_to.author.id != author.id
            and reply_to.author not in mentions
        ):
            mentions.append(reply_to.author)
        pings = Pings(everyone, here, frozenset(u.id for u in mentions), frozenset(roles))
        return pings, mentions

    def _apply_mentions(self, msg: FakeMessage, reply_to: FakeMessage | None) -> None:
        pings, mentions = self._resolve_pings(
            msg.author, msg.guild_id, msg.content, msg.allowed_mentions, reply_to
        )
        if msg.flags & MessageFlag.EPHEMERAL:
            pings = Pings()
        msg.mentions = mentions
        msg.mention_roles = sorted(pings.roles)
        msg.mention_everyone = pings.everyone or pings.here
        msg.ping_history.append(pings)

    def attachment(
        self, channel: FakeChannel | int, filename: str, data: bytes, content_type: str = "text/plain"
    ) -> JSON:
        """An attachment for ``user_message(..., attachments=[...])`` whose ``url`` serves ``data`` (the
        fake's CDN, like ``cdn.discordapp.com``: no token needed)."""
        attachment_id = self.ids.next()
        self._attachment_data[attachment_id] = (data, content_type)
        url = f"{self.base_url}/attachments/{self._channel(channel).id}/{attachment_id}/{filename}"
        return {
            "id": str(attachment_id),
            "filename": filename,
            "size": len(data),
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
        }

    async def _serve_attachment(self, request: web.Request) -> web.Response:
        found = self._attachment_data.get(_as_int(request.match_info["attachment"]) or 0)
        if found is None:
            return web.Response(status=404, text="Not Found")
        data, content_type = found
        return web.Response(body=data, content_type=content_type.split(";")[0])

    def _new_attachments(self, files: list[JSON], body: JSON, channel_id: int) -> list[JSON]:
        descriptions = {_as_int(a.get("id")): a for a in body.get("attachments") or [] if isinstance(a, dict)}
        out: list[JSON] = []
        for index, upload in enumerate(files):
            attachment_id = self.ids.next()
            meta = descriptions.get(index) or {}
            filename = str(meta.get("filename") or upload["filename"])
            url = f"{self.base_url}/attachments/{channel_id}/{attachment_id}/{filename}"
            out.append(
                {
                    "id": str(attachment_id),
                    "filename": filename,
                    "description": meta.get("description"),
                    "size": upload["size"],
                    "url": url,
                    "proxy_url": url,
                    "content_type": "application/octet-stream",
                }
            )
        return out

    # ------------------------------------------------------------------ message operations

    def _check_can_post(self, channel: FakeChannel, author: FakeUser) -> None:
        if channel.type in (ChannelType.FORUM, ChannelType.CATEGORY):
            raise ApiError(400, 50008, "Cannot send messages in a non-text channel")
        if author.id == self.bot_user.id and not channel.bot_can_send:
            raise ApiError(403, 50013, "Missing Permissions")
        if channel.is_dm and channel.recipients and not channel.recipients[0].accepts_dms:
            raise ApiError(403, 50007, "Cannot send messages to this user")
        if channel.is_thread and channel.archived and channel.locked:
            raise ApiError(400, 50083, "Thread is archived")

    async def _store_message(self, msg: FakeMessage, *, dispatch: bool = True) -> None:
        channel = self.channels[msg.channel_id]
        msg.versions.append(msg.content)
        self._messages[channel.id].append(msg)
        self._message_index[msg.id] = msg
        if msg.ephemeral:
            return
        channel.last_message_id = msg.id
        if channel.is_thread:
            msg.position = channel.total_message_sent
            if msg.id != channel.id:
                channel.message_count += 1
            channel.total_message_sent += 1
            if channel.archived and not channel.locked:
                channel.archived = False
                channel.archive_timestamp = _now()
                await self.dispatch("THREAD_UPDATE", self.channel_json(channel))
        if dispatch:
            await self.dispatch("MESSAGE_CREATE", self.message_json(msg, gateway=True))

    async def _create_message(
        self,
        channel: FakeChannel,
        author: FakeUser,
        body: JSON,
        files: list[JSON],
        *,
        message_id: int | None = None,
        flags_allowed: int = MessageFlag.SETTABLE_ON_CREATE,
        extra_flags: int = 0,
        message_type: int = 0,
        webhook: bool = False,
        interaction: FakeInteraction | None = None,
        error_prefix: Sequence[str | int] = (),
    ) -> FakeMessage:
        validate_message_body(body, self.limits, prefix=error_prefix)
        self._check_can_post(channel, author)
        content = body.get("content") or ""
        embeds = list(body.get("embeds") or [])
        components = list(body.get("components") or [])
        attachments = self._new_attachments(files, body, channel.id)
        if not extra_flags & MessageFlag.LOADING and is_empty_message(
            content, embeds, components, attachments, body
        ):
            raise ApiError(400, 50006, "Cannot send an empty message")
        reply_to: FakeMessage | None = None
        reference = body.get("message_reference")
        if isinstance(reference, dict):
            ref_id = _as_int(reference.get("message_id"))
            reply_to = self._message_index.get(ref_id) if ref_id is not None else None
            if reply_to is None or reply_to.deleted:
                if reference.get("fail_if_not_exists", True):
                    raise _invalid_form(
                        {"message_reference": _field_error("REPLIES_UNKNOWN_MESSAGE", "Unknown message")}
                    )
                reference, reply_to = None, None
            else:
                reference = {
                    "type": 0,
                    "message_id": str(reply_to.id),
                    "channel_id": str(reply_to.channel_id),
                    **({"guild_id": str(reply_to.guild_id)} if reply_to.guild_id else {}),
                }
                message_type = 19
        else:
            reference = None
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            for existing in reversed(self._messages[channel.id]):
                if existing.nonce == nonce and existing.author.id == author.id:
                    return existing
        flags = ((_as_int(body.get("flags")) or 0) & flags_allowed) | extra_flags
        msg = FakeMessage(
            id=message_id or self.ids.next(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=author,
            content=content,
            embeds=embeds,
            components=components,
            attachments=attachments,
            flags=flags,
            type=message_type,
            message_reference=reference,
            allowed_mentions=body.get("allowed_mentions"),
            nonce=nonce,
            tts=bool(body.get("tts", False)),
        )
        if webhook:
            msg.webhook_id = self.application_id
            msg.application_id = self.application_id
        if interaction is not None:
            msg.interaction_metadata = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": interaction.user.to_api(),
                "authorizing_integration_owners": (
                    {"0": str(interaction.guild_id)}
                    if interaction.guild_id
                    else {"1": str(interaction.user.id)}
                ),
            }
            if interaction.type == 3 and interaction.message_id is not None:
                msg.interaction_metadata["interacted_message_id"] = str(interaction.message_id)
        self._apply_mentions(msg, reply_to)
        await self._store_message(msg)
        for listener in self.message_listeners:
            listener("create", msg)
        return msg

    async def _edit_message(
        self, msg: FakeMessage, body: JSON, files: list[JSON], *, editor: FakeUser
    ) -> FakeMessage:
        if msg.author.id != editor.id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        channel = self.channels[msg.channel_id]
        if channel.is_thread and channel.archived:
            raise ApiError(400, 50083, "Thread is archived")
        validate_message_body(body, self.limits)
        content = msg.content
        if "content" in body:
            content = body.get("content") or ""
        embeds = list(body["embeds"] or []) if "embeds" in body else msg.embeds
        components = list(body["components"] or []) if "components" in body else msg.components
        attachments = msg.attachments
        if "attachments" in body or files:
            keep = {str(a.get("id")) for a in body.get("attachments") or [] if isinstance(a, dict)}
            attachments = (
                [a for a in msg.attachments if a["id"] in keep] if "attachments" in body else msg.attachments
            )
            attachments = attachments + self._new_attachments(files, body, channel.id)
        was_loading = msg.loading
        if not was_loading and is_empty_message(content, embeds, components, attachments, body):
            raise ApiError(400, 50006, "Cannot send an empty message")
        msg.content, msg.embeds, msg.components, msg.attachments = content, embeds, components, attachments
        if "flags" in body and body["flags"] is not None:
            settable = MessageFlag.SUPPRESS_EMBEDS
            msg.flags = (msg.flags & ~settable) | ((_as_int(body["flags"]) or 0) & settable)
        msg.flags &= ~MessageFlag.LOADING
        msg.edited_at = None if was_loading else _now()
        msg.versions.append(msg.content)
        if "content" in body:
            msg.allowed_mentions = body.get("allowed_mentions")
            reply_to = None
            if msg.message_reference is not None:
                ref_id = _as_int(msg.message_reference.get("message_id"))
                reply_to = self._message_index.get(ref_id) if ref_id is not None else None
            self._apply_mentions(msg, reply_to)
        if not msg.ephemeral:
            await self.dispatch("MESSAGE_UPDATE", self.message_json(msg, gateway=True))
        for listener in self.message_listeners:
            listener("edit", msg)
        return msg

    async def _delete(self, msg: FakeMessage) -> None:
        msg.deleted = True
        if msg.ephemeral:
            return
        payload: JSON = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
        if msg.guild_id is not None:
            payload["guild_id"] = str(msg.guild_id)
        await self.dispatch("MESSAGE_DELETE", payload)

    def _live_channel(self, req: _Request) -> FakeChannel:
        channel = self.channels.get(req.id("channel_id"))
        if channel is None:
            raise ApiError(404, 10003, "Unknown Channel")
        return channel

    def _live_message(self, channel: FakeChannel, message_id: int) -> FakeMessage:
        msg = self._message_index.get(message_id)
        if msg is None or msg.deleted or msg.channel_id != channel.id or msg.ephemeral:
            raise ApiError(404, 10008, "Unknown Message")
        return msg

    # ------------------------------------------------------------------ REST: gateway, users, apps

    async def _gateway(self, req: _Request) -> tuple[int, Any]:
        return 200, {"url": self.gateway_url.rstrip("/")}

    async def _gateway_bot(self, req: _Request) -> tuple[int, Any]:
        return 200, {
            "url": self.gateway_url.rstrip("/"),
            "shards": self.shard_count,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 14_400_000,
                "max_concurrency": 1,
            },
        }

    async def _get_me(self, req: _Request) -> tuple[int, Any]:
        return 200, {
            **self.bot_user.to_api(),
            "verified": True,
            "mfa_enabled": False,
            "flags": 0,
            "locale": "en-US",
        }

    async def _get_user(self, req: _Request) -> tuple[int, Any]:
        user = self.users.get(req.id("user_id"))
        if user is None:
            raise ApiError(404, 10013, "Unknown User")
        return 200, user.to_api()

    async def _create_dm(self, req: _Request) -> tuple[int, Any]:
        recipient = _as_int(req.json.get("recipient_id"))
        user = self.users.get(recipient) if recipient is not None else None
        if user is None:
            raise _invalid_form(
                {"recipient_id": _field_error("NUMBER_TYPE_COERCE", "Value is not snowflake.")}
            )
        return 200, self.channel_json(self.dm_channel(user))

    async def _get_application(self, req: _Request) -> tuple[int, Any]:
        return 200, self._application_json()

    def _check_app(self, req: _Request) -> int | None:
        if req.id("application_id") != self.application_id:
            raise ApiError(403, 50001, "Missing Access")
        if "guild_id" in req.params:
            guild_id = req.id("guild_id")
            if guild_id not in self.guilds:
                raise ApiError(403, 50001, "Missing Access")
            return guild_id
        return None

    def _normalise_command(self, raw: Any, guild_id: int | None, index: int, existing: list[JSON]) -> JSON:
        if not isinstance(raw, dict):
            raise _invalid_form(
                {str(index): _field_error("DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")}
            )
        name = raw.get("name")
        ctype = raw.get("type", 1)
        errors: JSON = {}
        if not isinstance(name, str) or (ctype == 1 and not _COMMAND_NAME_RE.match(name)):
            _set_error(errors, [index, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        description = raw.get("description", "")
        if ctype == 1 and not (isinstance(description, str) and 1 <= len(description) <= 100):
            _set_error(
                errors, [index, "description"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        if errors:
            raise _invalid_form(errors)
        old = next((c for c in existing if c["name"] == name and c["type"] == ctype), None)
        command: JSON = {
            "id": old["id"] if old else str(self.ids.next()),
            "application_id": str(self.application_id),
            "version": str(self.ids.next()),
            "default_member_permissions": raw.get("default_member_permissions"),
            "type": ctype,
            "name": name,
            "name_localizations": raw.get("name_localizations"),
            "description": description,
            "description_localizations": raw.get("description_localizations"),
            "dm_permission": raw.get("dm_permission", True),
            "contexts": raw.get("contexts"),
            "integration_types": raw.get("integration_types", [0]),
            "nsfw": raw.get("nsfw", False),
            "options": copy.deepcopy(raw.get("options") or []),
        }
        if guild_id is not None:
            command["guild_id"] = str(guild_id)
        return command

    async def _get_commands(self, req: _Request) -> tuple[int, Any]:
        return 200, copy.deepcopy(self._commands.get(self._check_app(req), []))

    async def _put_commands(self, req: _Request) -> tuple[int, Any]:
        guild_id = self._check_app(req)
        if not isinstance(req.body, list):
            raise _invalid_form(
                {
                    "_errors": [
                        {"code": "LIST_TYPE_CONVERT", "message": "Only iterables may be used in a ListType"}
                    ]
                }
            )
        if len(req.body) > 100:
            raise _invalid_form(
                {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 100 or fewer in length."}]}
            )
        existing = self._commands.get(guild_id, [])
        commands = [self._normalise_command(raw, guild_id, i, existing) for i, raw in enumerate(req.body)]
        self._commands[guild_id] = commands
        self.command_syncs.append((guild_id, copy.deepcopy(req.body)))
        return 200, copy.deepcopy(commands)

    async def _post_command(self, req: _Request) -> tuple[int, Any]:
        guild_id = self._check_app(req)
        existing = self._commands.setdefault(guild_id, [])
        command = self._normalise_command(req.json, guild_id, 0, existing)
        replaced = [c for c in existing if c["id"] == command["id"]]
        for old in replaced:
            existing.remove(old)
        existing.append(command)
        return (200 if replaced else 201), copy.deepcopy(command)

    # ------------------------------------------------------------------ REST: guilds

    def _live_guild(self, req: _Request) -> FakeGuild:
        guild = self.guilds.get(req.id("guild_id"))
        if guild is None:
            raise ApiError(404, 10004, "Unknown Guild")
        return guild

    async def _get_guild(self, req: _Request) -> tuple[int, Any]:
        return 200, self.guild_json(self._live_guild(req), full=False)

    async def _get_guild_channels(self, req: _Request) -> tuple[int, Any]:
        guild = self._live_guild(req)
        return 200, [self.channel_json(self.channels[c]) for c in guild.channel_ids]

    async def _get_active_threads(self, req: _Request) -> tuple[int, Any]:
        guild = self._live_guild(req)
        threads = [
            c for c in self.channels.values() if c.guild_id == guild.id and c.is_thread and not c.archived
        ]
        members = [
            {
                "id": str(t.id),
                "user_id": str(self.bot_user.id),
                "join_timestamp": _iso(t.created_at),
                "flags": 0,
            }
            for t in threads
            if self.bot_user.id in t.thread_member_ids
        ]
        return 200, {"threads": [self.channel_json(t) for t in threads], "members": members}

    async def _get_member(self, req: _Request) -> tuple[int, Any]:
        guild = self._live_guild(req)
        member = guild.members.get(req.id("user_id"))
        if member is None:
            raise ApiError(404, 10007, "Unknown Member")
        return 200, member.to_api()

    # ------------------------------------------------------------------ REST: channels and messages

    async def _get_channel(self, req: _Request) -> tuple[int, Any]:
        return 200, self.channel_json(self._live_channel(req))

    async def _patch_channel(self, req: _Request) -> tuple[int, Any]:
        channel = self._live_channel(req)
        body = req.json
        errors: JSON = {}
        if "name" in body:
            name = body["name"]
            if not isinstance(name, str) or not 1 <= len(name) <= 100:
                _set_error(errors, ["name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        if channel.is_thread:
            parent = self.channels.get(channel.parent_id or 0)
            if "applied_tags" in body:
                tags = [_as_int(t) for t in body.get("applied_tags") or []]
                valid = {int(t["id"]) for t in parent.available_tags} if parent and parent.is_forum else set()
                if len(tags) > 5:
                    _set_error(
                        errors, ["applied_tags"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length."
                    )
                for i, tag in enumerate(tags):
                    if tag not in valid:
                        _set_error(
                            errors,
                            ["applied_tags", i],
                            "INVALID_FORUM_TAG",
                            "Tag is not available in this channel.",
                        )
            if errors:
                raise _invalid_form(errors)
            if channel.archived and body.get("archived", True) and set(body) - {"archived", "locked"}:
                raise ApiError(400, 50083, "Thread is archived")
            if "name" in body:
                channel.name = body["name"]
            if "applied_tags" in body:
                channel.applied_tags = [int(t) for t in body.get("applied_tags") or []]
            if "auto_archive_duration" in body:
                channel.auto_archive_duration = int(body["auto_archive_duration"])
            if "locked" in body:
                channel.locked = bool(body["locked"])
            if "archived" in body and bool(body["archived"]) != channel.archived:
                channel.archived = bool(body["archived"])
                channel.archive_timestamp = _now()
            await self.dispatch("THREAD_UPDATE", self.channel_json(channel))
            return 200, self.channel_json(channel)
        if channel.is_dm:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        if errors:
            raise _invalid_form(errors)
        if "name" in body:
            channel.name = body["name"]
        if "topic" in body:
            channel.topic = body["topic"]
        if channel.is_forum and "available_tags" in body:
            channel.available_tags = [
                {
                    "id": str(t.get("id") or self.ids.next()),
                    "name": t["name"],
                    "moderated": bool(t.get("moderated", False)),
                    "emoji_id": t.get("emoji_id"),
                    "emoji_name": t.get("emoji_name"),
                }
                for t in body["available_tags"]
            ]
        await self.dispatch("CHANNEL_UPDATE", self.channel_json(channel))
        return 200, self.channel_json(channel)

    async def _get_messages(self, req: _Request) -> tuple[int, Any]:
        channel = self._live_channel(req)
        raw_limit = req.query.get("limit", "50")
        limit = _as_int(raw_limit)
        if limit is None or not 1 <= limit <= 100:
            raise _invalid_form(
                {"limit": _field_error("NUMBER_TYPE_MAX", "int value should be less than or equal to 100.")}
            )
        history = [m for m in self._messages[channel.id] if not m.deleted and not m.ephemeral]
        before, after, around = (_as_int(req.query.get(k)) for k in ("before", "after", "around"))
        if around is not None:
            older = [m for m in history if m.id <= around][-(limit // 2 + limit % 2) :]
            newer = [m for m in history if m.id > around][: limit // 2]
            picked = older + newer
        elif after is not None:
            picked = [m for m in history if m.id > after][:limit]
        else:
            picked = [m for m in history if before is None or m.id < before][-limit:]
        return 200, [self.message_json(m) for m in reversed(picked)]

    async def _get_message(self, req: _Request) -> tuple[int, Any]:
        channel = self._live_channel(req)
        return 200, self.message_json(self._live_message(channel, req.id("message_id")))

    async def _post_message(self, req: _Request) -> tuple[int, Any]:
        channel = self._live_channel(req)
        msg = await self._create_message(channel, self.bot_user, req.json, req.files)
        return 200, self.message_json(msg)

    async def _patch_message(self, req: _Request) -> tuple[int, Any]:
        channel = self._live_channel(req)
        msg = self._live_message(channel, req.id("message_id"))
        await self._edit_message(msg, req.json, req.files, editor=self.bot_user)
        return 200, self.message_json(msg)

    async def _delete_message(self, req: _Request) -> tuple[int, Any]:
        channel = self._live_channel(req)
        msg = self._live_message(channel, req.id("message_id"))
        may_manage = (
            not channel.is_dm and self.permissions(channel.guild_id, self.bot_user) & Perm.MANAGE_MESSAGES
        )
        if msg.author.id != self.bot_user.id and not may_manage:
            raise ApiError(403, 50013, "Missing Permissions")
        await self._delete(msg)
        return 204, None

    async def _add_reaction(self, req: _Request) -> tuple[int, Any]:
        channel = self._live_channel(req)
        msg = self._live_message(channel, req.id("message_id"))
        msg.reactions.setdefault(req.params["emoji"], set()).add(self.bot_user.id)
        return 204, None

    async def _remove_reaction(self, req: _Request) -> tuple[int, Any]:
        channel = self._live_channel(req)
        msg = self._live_message(channel, req.id("message_id"))
        msg.reactions.get(req.params["emoji"], set()).discard(self.bot_user.id)
        return 204, None

    async def _trigger_typing(self, req: _Request) -> tuple[int, Any]:
        channel = self._live_channel(req)
        self._typing.setdefault(channel.id, []).append(self._clock())
        return 204, None

    async def _join_thread(self, req: _Request) -> tuple[int, Any]:
        channel = self._live_channel(req)
        if not channel.is_thread:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        channel.thread_member_ids.add(self.bot_user.id)
        return 204, None

    def _thread_name(self, body: JSON) -> str:
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            raise _invalid_form(
                {"name": _field_error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")}
            )
        return name

    async def _dispatch_thread_create(self, thread: FakeChannel) -> None:
        payload = self.channel_json(thread)
        payload["newly_created"] = True
        await self.dispatch("THREAD_CREATE", payload)

    async def _thread_from_message(self, req: _Request) -> tuple[int, Any]:
        channel = self._live_channel(req)
        msg = self._live_message(channel, req.id("message_id"))
        if channel.type not in (ChannelType.TEXT, ChannelType.NEWS):
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        if msg.thread_id is not None:
            raise ApiError(400, 160004, "A thread has already been created for this message")
        body = req.json
        name = self._thread_name(body)
        thread = self.add_thread(channel, name, owner=self.bot_user, thread_id=msg.id)
        thread.auto_archive_duration = int(body.get("auto_archive_duration") or 1440)
        thread.rate_limit_per_user = int(body.get("rate_limit_per_user") or 0)
        msg.thread_id = thread.id
        await self._dispatch_thread_create(thread)
        return 201, self.channel_json(thread)

    async def _create_thread(self, req: _Request) -> tuple[int, Any]:
        channel = self._live_channel(req)
        body = req.json
        if channel.is_forum:
            errors: JSON = {}
            message = body.get("message")
            if not isinstance(message, dict):
                _set_error(errors, ["message"], "BASE_TYPE_REQUIRED", "This field is required")
            tags = body.get("applied_tags") or []
            valid = {int(t["id"]) for t in channel.available_tags}
            if len(tags) > 5:
                _set_error(errors, ["applied_tags"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
            for i, tag in enumerate(tags):
                if _as_int(tag) not in valid:
                    _set_error(
                        errors,
                        ["applied_tags", i],
                        "INVALID_FORUM_TAG",
                        "Tag is not available in this channel.",
                    )
            if errors:
                raise _invalid_form(errors)
            name = self._thread_name(body)
            assert isinstance(message, dict)
            validate_message_body(message, self.limits, prefix=["message"])
            thread_id = self.ids.next()
            thread = FakeChannel(
                thread_id,
                ChannelType.PUBLIC_THREAD,
                name,
                channel.guild_id,
                parent_id=channel.id,
                owner_id=self.bot_user.id,
                applied_tags=[int(t) for t in tags],
                auto_archive_duration=int(body.get("auto_archive_duration") or 4320),
                thread_member_ids={self.bot_user.id},
            )
            content = message.get("content") or ""
            if is_empty_message(
                content, message.get("embeds") or [], message.get("components") or [], req.files, message
            ):
                raise ApiError(400, 50006, "Cannot send an empty message")
            self._register_channel(thread)
            channel.last_message_id = thread.id
            await self._dispatch_thread_create(thread)
            starter = await self._create_message(
                thread, self.bot_user, message, req.files, message_id=thread_id, error_prefix=["message"]
            )
            return 201, {**self.channel_json(thread), "message": self.message_json(starter)}
        if channel.type not in (ChannelType.TEXT, ChannelType.NEWS):
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        name = self._thread_name(body)
        thread_type = int(body.get("type") or ChannelType.PRIVATE_THREAD)
        thread = self.add_thread(channel, name, owner=self.bot_user, thread_type=thread_type)
        thread.auto_archive_duration = int(body.get("auto_archive_duration") or 1440)
        await self._dispatch_thread_create(thread)
        return 201, self.channel_json(thread)

    # ------------------------------------------------------------------ REST: interactions

    def _record_response(
        self,
        interaction: FakeInteraction,
        kind: str,
        ctype: int | None,
        body: Any,
        status: int,
        message_id: int | None,
    ) -> None:
        interaction.responses.append(
            InteractionResponse(kind, ctype, copy.deepcopy(body), status, message_id, self._clock())
        )

    async def _interaction_callback(self, req: _Request) -> tuple[int, Any]:
        interaction = self._interactions.get(req.id("webhook_id"))
        if interaction is None or interaction.token != req.params["webhook_token"]:
            raise ApiError(404, 10062, "Unknown interaction")
        body = req.json
        ctype = body.get("type")
        try:
            if interaction.callback_type is not None:
                raise ApiError(400, 40060, "Interaction has already been acknowledged.")
            if self._clock() - interaction.created_at > self.limits.interaction_deadline:
                raise ApiError(404, 10062, "Unknown interaction")
            status, payload = await self._answer_interaction(interaction, ctype, body, req)
        except ApiError as error:
            self._record_response(
                interaction, "callback", ctype if isinstance(ctype, int) else None, body, error.status, None
            )
            raise
        return status, payload

    async def _answer_interaction(
        self, interaction: FakeInteraction, ctype: Any, body: JSON, req: _Request
    ) -> tuple[int, Any]:
        valid = _CALLBACK_TYPES.get(interaction.type, frozenset())
        if ctype not in valid:
            raise _invalid_form(
                {
                    "type": _field_error(
                        "INTERACTION_RESPONSE_TYPE_INVALID", "Interaction response type is invalid"
                    )
                }
            )
        data = body.get("data") or {}
        channel = self.channels[interaction.channel_id]
        message: FakeMessage | None = None
        message_type = 20 if interaction.type == 2 else 0
        if ctype == 4:
            ephemeral = (_as_int(data.get("flags")) or 0) & MessageFlag.EPHEMERAL
            message = await self._create_message(
                channel,
                self.bot_user,
                data,
                req.files,
                flags_allowed=MessageFlag.SETTABLE_ON_CREATE | MessageFlag.EPHEMERAL,
                extra_flags=ephemeral,
                message_type=message_type,
                webhook=True,
                interaction=interaction,
                error_prefix=["data"],
            )
            interaction.original_message_id = message.id
        elif ctype == 5:
            ephemeral = (_as_int(data.get("flags")) or 0) & MessageFlag.EPHEMERAL
            message = await self._create_message(
                channel,
                self.bot_user,
                {},
                [],
                extra_flags=MessageFlag.LOADING | ephemeral,
                message_type=message_type,
                webhook=True,
                interaction=interaction,
            )
            interaction.original_message_id = message.id
            interaction.awaiting_first_followup = True
        elif ctype in (6, 7):
            target = self._message_index.get(interaction.message_id or 0)
            if target is None or target.deleted:
                raise ApiError(404, 10008, "Unknown Message")
            interaction.original_message_id = target.id
            if ctype == 7:
                message = await self._edit_message(target, data, req.files, editor=target.author)
        interaction.callback_type = int(ctype)
        self._record_response(interaction, "callback", int(ctype), body, 200, message.id if message else None)
        if req.query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        result: JSON = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "activity_instance_id": None,
                "response_message_id": None if message is None else str(message.id),
                "response_message_loading": ctype == 5,
                "response_message_ephemeral": bool(message is not None and message.ephemeral),
            }
        }
        if message is not None:
            result["resource"] = {"type": ctype, "message": self.message_json(message)}
        elif ctype in (8, 9):
            result["resource"] = {"type": ctype}
        return 200, result

    def _webhook_interaction(self, req: _Request) -> FakeInteraction:
        if req.id("webhook_id") != self.application_id:
            raise ApiError(404, 10015, "Unknown Webhook")
        interaction = self._interactions_by_token.get(req.params["webhook_token"])
        if interaction is None:
            raise ApiError(404, 10015, "Unknown Webhook")
        if self._clock() - interaction.created_at > self.limits.interaction_token_ttl:
            raise ApiError(401, 50027, "Invalid Webhook Token")
        return interaction

    def _original(self, interaction: FakeInteraction) -> FakeMessage:
        if interaction.original_message_id is None:
            raise ApiError(404, 10015, "Unknown Webhook")
        msg = self._message_index[interaction.original_message_id]
        if msg.deleted:
            raise ApiError(404, 10008, "Unknown Message")
        return msg

    async def _get_original(self, req: _Request) -> tuple[int, Any]:
        interaction = self._webhook_interaction(req)
        return 200, self.message_json(self._original(interaction))

    async def _edit_original(self, req: _Request) -> tuple[int, Any]:
        interaction = self._webhook_interaction(req)
        try:
            msg = self._original(interaction)
            await self._edit_message(msg, req.json, req.files, editor=msg.author)
        except ApiError as error:
            self._record_response(interaction, "edit_original", None, req.body, error.status, None)
            raise
        interaction.awaiting_first_followup = False
        self._record_response(interaction, "edit_original", None, req.body, 200, msg.id)
        return 200, self.message_json(msg)

    async def _delete_original(self, req: _Request) -> tuple[int, Any]:
        interaction = self._webhook_interaction(req)
        msg = self._original(interaction)
        await self._delete(msg)
        self._record_response(interaction, "delete_original", None, None, 204, msg.id)
        return 204, None

    async def _post_followup(self, req: _Request) -> tuple[int, Any]:
        interaction = self._webhook_interaction(req)
        body = req.json
        try:
            if interaction.callback_type is None:
                raise ApiError(404, 10015, "Unknown Webhook")
            if interaction.awaiting_first_followup and interaction.original_message_id is not None:
                msg = self._message_index[interaction.original_message_id]
                # The "thinking…" message becomes the answer; of the flags, only SUPPRESS_EMBEDS is taken.
                await self._edit_message(msg, body, req.files, editor=msg.author)
                interaction.awaiting_first_followup = False
            else:
                channel = self.channels[interaction.channel_id]
                ephemeral = (_as_int(body.get("flags")) or 0) & MessageFlag.EPHEMERAL
                msg = await self._create_message(
                    channel,
                    self.bot_user,
                    body,
                    req.files,
                    flags_allowed=MessageFlag.SETTABLE_ON_CREATE | MessageFlag.EPHEMERAL,
                    extra_flags=ephemeral,
                    message_type=20 if interaction.type == 2 else 0,
                    webhook=True,
                    interaction=interaction,
                )
            interaction.followup_ids.append(msg.id)
        except ApiError as error:
            self._record_response(interaction, "followup", None, body, error.status, None)
            raise
        self._record_response(interaction, "followup", None, body, 200, msg.id)
        if req.query.get("wait") in ("1", "true", "True"):
            return 200, self.message_json(msg)
        return 204, None

    def _followup(self, interaction: FakeInteraction, req: _Request) -> FakeMessage:
        message_id = req.id("message_id")
        if message_id not in interaction.followup_ids and message_id != interaction.original_message_id:
            raise ApiError(404, 10008, "Unknown Message")
        msg = self._message_index[message_id]
        if msg.deleted:
            raise ApiError(404, 10008, "Unknown Message")
        return msg

    async def _get_followup(self, req: _Request) -> tuple[int, Any]:
        interaction = self._webhook_interaction(req)
        return 200, self.message_json(self._followup(interaction, req))

    async def _edit_followup(self, req: _Request) -> tuple[int, Any]:
        interaction = self._webhook_interaction(req)
        msg = self._followup(interaction, req)
        await self._edit_message(msg, req.json, req.files, editor=msg.author)
        self._record_response(interaction, "edit_followup", None, req.body, 200, msg.id)
        return 200, self.message_json(msg)

    async def _delete_followup(self, req: _Request) -> tuple[int, Any]:
        interaction = self._webhook_interaction(req)
        msg = self._followup(interaction, req)
        await self._delete(msg)
        self._record_response(interaction, "delete_followup", None, None, 204, msg.id)
        return 204, None

    # ------------------------------------------------------------------ builders (user side)

    def _author_member(self, guild_id: int | None, author: FakeUser) -> FakeMember | None:
        if guild_id is None:
            return None
        return self.guilds[guild_id].members.get(author.id)

    def user_message(
        self,
        channel: FakeChannel | int,
        author: FakeUser | FakeMember | int,
        content: str,
        *,
        mentions: Iterable[FakeUser | FakeMember | int] | None = None,
        message_reference: FakeMessage | int | None = None,
        attachments: Iterable[JSON] = (),
        embeds: Iterable[JSON] = (),
    ) -> JSON:
        """A message from a user, stored in the channel as if posted; returns the MESSAGE_CREATE payload
        (``await fake.dispatch("MESSAGE_CREATE", payload)``).

        ``mentions``: users the message mentions besides the ``<@id>`` in ``content`` (pass
        ``[fake.bot_user]`` when testing a bot that reacts to mentions; put ``fake.bot_user.mention``
        in the text for realism)."""
        msg = self._build_user_message(
            channel, author, content, mentions, message_reference, attachments, embeds
        )
        return self.message_json(msg, gateway=True)

    def _build_user_message(
        self,
        channel: FakeChannel | int,
        author: FakeUser | FakeMember | int,
        content: str,
        mentions: Iterable[FakeUser | FakeMember | int] | None,
        message_reference: FakeMessage | int | None,
        attachments: Iterable[JSON],
        embeds: Iterable[JSON],
        *,
        message_id: int | None = None,
    ) -> FakeMessage:
        ch = self._channel(channel)
        user = self._user(author)
        reply_to: FakeMessage | None = None
        reference: JSON | None = None
        if message_reference is not None:
            reply_to = (
                message_reference
                if isinstance(message_reference, FakeMessage)
                else self.message(message_reference)
            )
            reference = {"type": 0, "message_id": str(reply_to.id), "channel_id": str(reply_to.channel_id)}
            if reply_to.guild_id is not None:
                reference["guild_id"] = str(reply_to.guild_id)
        msg = FakeMessage(
            id=message_id or self.ids.next(),
            channel_id=ch.id,
            guild_id=ch.guild_id,
            author=user,
            content=content,
            embeds=[dict(e) for e in embeds],
            attachments=[dict(a) for a in attachments],
            type=19 if reply_to is not None else 0,
            message_reference=reference,
        )
        self._apply_mentions(msg, reply_to)
        for extra in mentions or []:
            target = self._user(extra)
            if target not in msg.mentions:
                msg.mentions.append(target)
        msg.versions.append(content)
        self._messages[ch.id].append(msg)
        self._message_index[msg.id] = msg
        ch.last_message_id = msg.id
        if ch.is_thread:
            msg.position = ch.total_message_sent
            if msg.id != ch.id:
                ch.message_count += 1
            ch.total_message_sent += 1
        return msg

    async def post_as_user(
        self,
        channel: FakeChannel | int,
        author: FakeUser | FakeMember | int,
        content: str,
        *,
        mentions: Iterable[FakeUser | FakeMember | int] | None = None,
        message_reference: FakeMessage | int | None = None,
        attachments: Iterable[JSON] = (),
        embeds: Iterable[JSON] = (),
    ) -> FakeMessage:
        """:meth:`user_message` and dispatch it; returns the stored message."""
        msg = self._build_user_message(
            channel, author, content, mentions, message_reference, attachments, embeds
        )
        await self.dispatch("MESSAGE_CREATE", self.message_json(msg, gateway=True))
        return msg

    async def edit_as_user(self, message: FakeMessage | int, content: str) -> FakeMessage:
        """A user edits their message: stored and MESSAGE_UPDATE dispatched."""
        msg = message if isinstance(message, FakeMessage) else self.message(message)
        msg.content = content
        msg.edited_at = _now()
        msg.versions.append(content)
        self._apply_mentions(msg, None)
        await self.dispatch("MESSAGE_UPDATE", self.message_json(msg, gateway=True))
        return msg

    async def dm(self, user: FakeUser | FakeMember | int, content: str) -> FakeMessage:
        """``user`` sends the bot a direct message (channel created if needed, MESSAGE_CREATE dispatched)."""
        channel = self.dm_channel(user)
        return await self.post_as_user(channel, user, content)

    async def forum_post(
        self,
        forum: FakeChannel | int,
        author: FakeUser | FakeMember | int,
        title: str,
        content: str,
        tags: Iterable[str | int] = (),
    ) -> ForumPost:
        """A user opens a forum post: a public thread under ``forum`` with a starter message of the same
        id; THREAD_CREATE then MESSAGE_CREATE are dispatched, as Discord does."""
        parent = self._channel(forum)
        if not parent.is_forum:
            raise ValueError(f"channel {parent.id} is not a forum")
        tag_ids = [t if isinstance(t, int) else parent.tag_id(t) for t in tags]
        user = self._user(author)
        thread = self.add_thread(parent, title, owner=user)
        thread.applied_tags = tag_ids
        parent.last_message_id = thread.id
        payload = self.channel_json(thread)
        payload["newly_created"] = True
        await self.dispatch("THREAD_CREATE", payload)
        msg = self._build_user_message(thread, user, content, None, None, (), (), message_id=thread.id)
        await self.dispatch("MESSAGE_CREATE", self.message_json(msg, gateway=True))
        return ForumPost(thread, msg)

    def _interaction_base(
        self, itype: int, channel: FakeChannel, user: FakeUser, data: JSON, message: FakeMessage | None = None
    ) -> FakeInteraction:
        interaction_id = self.ids.next()
        token = f"aW50ZXJhY3Rpb246{interaction_id}:{secrets.token_urlsafe(48)}"
        payload: JSON = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "channel_id": str(channel.id),
            "channel": {
                **self.channel_json(channel),
                "permissions": str(self.permissions(channel.guild_id, user)),
            },
            "token": token,
            "version": 1,
            "locale": "en-US",
            "app_permissions": str(self.permissions(channel.guild_id, self.bot_user)),
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if channel.guild_id is not None:
            guild = self.guilds[channel.guild_id]
            member = guild.members.get(user.id) or FakeMember(user, guild.id)
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                member={**member.to_api(), "permissions": str(self.permissions(guild, user))},
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
        else:
            payload.update(user=user.to_api(), authorizing_integration_owners={"1": str(user.id)}, context=1)
        if message is not None:
            payload["message"] = self.message_json(message)
        interaction = FakeInteraction(
            interaction_id,
            token,
            itype,
            payload,
            channel.guild_id,
            channel.id,
            user,
            self._clock(),
            message_id=message.id if message else None,
        )
        self._interactions[interaction_id] = interaction
        self._interactions_by_token[token] = interaction
        return interaction

    async def slash_command(
        self,
        guild: FakeGuild | int | None,
        channel: FakeChannel | int,
        member: FakeMember | FakeUser | int,
        name: str = "support",
        options: Mapping[str, Any] | Sequence[JSON] | None = None,
    ) -> FakeInteraction:
        """A user runs ``/name``: INTERACTION_CREATE type 2 dispatched; returns the interaction.

        ``options``: ``{"question": "text"}`` (types inferred: str 3, int 4, bool 5, float 10) or raw option
        dicts.  The command id (and ``guild_id`` for a guild command) comes from the registered
        commands, so sync the command tree first."""
        ch = self._channel(channel)
        user = self._user(member)
        guild_id = ch.guild_id if guild is None else self._guild(guild).id
        registered = None
        for key in (guild_id, None):
            registered = next(
                (c for c in self._commands.get(key, []) if c["name"] == name and c["type"] == 1), None
            )
            if registered is not None:
                break
        data: JSON = {
            "id": registered["id"] if registered else str(self.ids.next()),
            "name": name,
            "type": 1,
            "options": _options(options),
        }
        if registered is not None and registered.get("guild_id"):
            data["guild_id"] = registered["guild_id"]
        interaction = self._interaction_base(2, ch, user, data)
        await self.dispatch("INTERACTION_CREATE", copy.deepcopy(interaction.payload))
        return interaction

    async def button_click(
        self, message: FakeMessage | int, member: FakeMember | FakeUser | int, custom_id: str
    ) -> FakeInteraction:
        """A user clicks the button ``custom_id`` on ``message``: INTERACTION_CREATE type 3 dispatched."""
        msg = message if isinstance(message, FakeMessage) else self.message(message)
        if custom_id not in msg.custom_ids():
            raise ValueError(f"message {msg.id} has no component {custom_id!r} (has {msg.custom_ids()})")
        data = {"custom_id": custom_id, "component_type": 2}
        interaction = self._interaction_base(3, self.channels[msg.channel_id], self._user(member), data, msg)
        await self.dispatch("INTERACTION_CREATE", copy.deepcopy(interaction.payload))
        return interaction


# ---------------------------------------------------------------------------------------- fixtures


@pytest_asyncio.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A started :class:`FakeDiscord` with the default world and limits."""
    async with FakeDiscord() as fake:
        yield fake


@contextlib.asynccontextmanager
async def discord_client_against(
    fake: FakeDiscord,
    client: ClientT,
    *,
    token: str | None = None,
    ready_timeout: float = 10.0,
    fast_identify: bool = True,
) -> AsyncIterator[ClientT]:
    """Run ``client`` (``Client``, ``commands.Bot``, ``AutoShardedClient``) against ``fake`` until exit.

    Patches ``Route.BASE`` and ``DEFAULT_GATEWAY``, starts ``client.start(token)`` in a task, waits for
    READY (``client.is_ready()``; an error from login or the gateway is raised here), and on exit closes
    the client, waits for its task and restores discord.py.  ``fast_identify`` replaces
    ``before_identify_hook`` (discord.py sleeps 5 s before every IDENTIFY but the first, for Discord's
    identify concurrency) with a no-op on this client instance."""
    with fake.patch_discord_py():
        if fast_identify:

            async def no_identify_delay(shard_id: int | None, *, initial: bool = False) -> None:
                return None

            client.before_identify_hook = no_identify_delay  # type: ignore[method-assign]
        task = asyncio.create_task(client.start(token or fake.token), name="discord-client-under-test")
        try:
            async with asyncio.timeout(ready_timeout):
                while not client.is_ready():
                    if task.done():
                        task.result()
                        raise RuntimeError("the discord client stopped before it was ready")
                    await asyncio.sleep(0.01)
        except BaseException:
            await _stop_client(client, task)
            raise
        try:
            yield client
        finally:
            await _stop_client(client, task)


async def _stop_client(client: discord.Client, task: asyncio.Task[None]) -> None:
    with contextlib.suppress(Exception):
        await client.close()
    if not task.done():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait({task}, timeout=5.0)
    if not task.done():
        task.cancel()
    with contextlib.suppress(BaseException):
        await task
