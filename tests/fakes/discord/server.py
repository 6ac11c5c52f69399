"""The fake Discord: the aiohttp server, recorded calls, failures, REST dispatch; the fixture, the client."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import discord
import discord.gateway
import discord.http
import pytest_asyncio
import yarl
from aiohttp import BodyPartReader, web

from fakes.http_server import HttpFake

from .builders import UserSide
from .channels import ChannelRoutes
from .commands import CommandRoutes
from .gateway import FakeGateway, GatewayConnection, GatewaySession, SentEvent
from .guilds import GuildRoutes
from .interactions import InteractionRoutes
from .json_views import JsonViews
from .limits import DiscordLimits, RateLimiter, RateLimitHit
from .messages import MessageRoutes
from .routes import _COMPILED, _NO_AUTH_PREFIXES, _Request
from .state import (
    API_VERSION,
    JSON,
    FakeChannel,
    FakeGuild,
    FakeInteraction,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
    InteractionResponse,
    Perm,
    Pings,
    RecordedCall,
    SnowflakeGenerator,
    _route_matches,
)
from .validation import ApiError
from .world import World


class FakeDiscord(
    World,
    UserSide,
    MessageRoutes,
    ChannelRoutes,
    GuildRoutes,
    CommandRoutes,
    InteractionRoutes,
    JsonViews,
    HttpFake,
):
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
        self.cdn_downloads: list[int] = []
        """The ids of the attachments the CDN was asked for, oldest first (a 404 included)."""

        self._calls: list[RecordedCall] = []
        self._changed = asyncio.Event()
        self.message_listeners: list[Callable[[str, FakeMessage], None]] = []
        """Called with ("create" or "edit", message) after the bot's or a webhook's message is stored or
        edited over REST (benchmarks watch replies this way instead of scanning every channel)."""

        if default_world:
            self._build_default_world()

    # ------------------------------------------------------------------ lifecycle

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{version:v\\d+}/{tail:.*}", self._handle_rest)
        app.router.add_get("/", self.gateway.handle)
        app.router.add_get("/resume", self.gateway.handle)
        app.router.add_get("/attachments/{channel}/{attachment}/{filename}", self._serve_attachment)
        return app

    async def close(self) -> None:
        await self.gateway.close_all()
        await super().close()

    @property
    def api_base(self) -> str:
        """What ``discord.http.Route.BASE`` must be."""
        return f"{self.base_url}/api/v{API_VERSION}"

    @property
    def gateway_url(self) -> str:
        """What ``DiscordWebSocket.DEFAULT_GATEWAY`` must be (also the ``url`` of ``/gateway/bot``)."""
        return self.base_url.replace("http://", "ws://", 1) + "/"

    @property
    def resume_gateway_url(self) -> str:
        return self.gateway_url + "resume"

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


ClientT = TypeVar("ClientT", bound=discord.Client)
T = TypeVar("T")


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
