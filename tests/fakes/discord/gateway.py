"""The gateway side of the fake Discord: HELLO, IDENTIFY, READY, GUILD_CREATE, heartbeats, RESUME,
dispatches filtered by shard and intents, ``zlib-stream`` compression.

:class:`server.FakeDiscord` owns a :class:`FakeGateway`; tests import everything from ``fakes.discord``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import secrets
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import WSMsgType, web

from .state import API_VERSION, APP_FLAGS_LIMITED_INTENTS, JSON, FakeGuild, FakeUser, _as_int


class Intent:
    """Gateway intent bits."""

    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    GUILD_MESSAGE_TYPING = 1 << 11
    DIRECT_MESSAGES = 1 << 12
    DIRECT_MESSAGE_REACTIONS = 1 << 13
    DIRECT_MESSAGE_TYPING = 1 << 14
    MESSAGE_CONTENT = 1 << 15
    PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT


class Op:
    DISPATCH = 0
    HEARTBEAT = 1
    IDENTIFY = 2
    PRESENCE_UPDATE = 3
    VOICE_STATE_UPDATE = 4
    RESUME = 6
    RECONNECT = 7
    REQUEST_GUILD_MEMBERS = 8
    INVALID_SESSION = 9
    HELLO = 10
    HEARTBEAT_ACK = 11


@dataclass(frozen=True)
class SentEvent:
    session_id: str
    shard: tuple[int, int] | None
    seq: int
    event: str
    data: JSON


# ---------------------------------------------------------------------------------------- gateway


@dataclass(eq=False)
class GatewaySession:
    id: str
    shard: tuple[int, int] | None
    intents: int
    identify: JSON
    seq: int = 0
    log: list[tuple[int, str, JSON]] = field(default_factory=list)
    connection: GatewayConnection | None = None
    invalidated: bool = False
    resumes: int = 0

    def covers_guild(self, guild_id: int | None) -> bool:
        if self.shard is None or self.shard[1] <= 1:
            return True
        shard_id, count = self.shard
        if guild_id is None:
            return shard_id == 0
        return (guild_id >> 22) % count == shard_id


@dataclass(eq=False)
class GatewayConnection:
    ws: web.WebSocketResponse
    path: str
    query: dict[str, str]
    compression: str | None
    opened_at: float
    session: GatewaySession | None = None
    heartbeats: int = 0
    heartbeat_acks: int = 0
    received: list[JSON] = field(default_factory=list)
    """Every payload the client sent, in order."""
    close_code: int | None = None
    server_closed: bool = False
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _compressor: Any = None

    @property
    def closed(self) -> bool:
        return self.ws.closed

    async def send(self, payload: JSON) -> None:
        text = json.dumps(payload, separators=(",", ":"))
        async with self._lock:
            if self.ws.closed:
                return
            if self.compression == "zlib-stream":
                if self._compressor is None:
                    self._compressor = zlib.compressobj()
                data = self._compressor.compress(text.encode()) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
                await self.ws.send_bytes(data)
            else:
                await self.ws.send_str(text)

    async def close(self, code: int, message: str = "") -> None:
        self.close_code = code
        await self.ws.close(code=code, message=message.encode())


_GUILD_EVENTS = frozenset(
    {
        "GUILD_CREATE",
        "GUILD_UPDATE",
        "GUILD_DELETE",
        "GUILD_ROLE_CREATE",
        "GUILD_ROLE_UPDATE",
        "GUILD_ROLE_DELETE",
        "CHANNEL_CREATE",
        "CHANNEL_UPDATE",
        "CHANNEL_DELETE",
        "THREAD_CREATE",
        "THREAD_UPDATE",
        "THREAD_DELETE",
        "THREAD_LIST_SYNC",
        "THREAD_MEMBER_UPDATE",
    }
)


def _required_intent(event: str, data: Mapping[str, Any]) -> int:
    in_guild = data.get("guild_id") is not None
    if event in _GUILD_EVENTS:
        return Intent.GUILDS
    if event in {"GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE", "GUILD_MEMBER_REMOVE"}:
        return Intent.GUILD_MEMBERS
    if event.startswith("MESSAGE_REACTION"):
        return Intent.GUILD_MESSAGE_REACTIONS if in_guild else Intent.DIRECT_MESSAGE_REACTIONS
    if event.startswith("MESSAGE_"):
        return Intent.GUILD_MESSAGES if in_guild else Intent.DIRECT_MESSAGES
    if event == "TYPING_START":
        return Intent.GUILD_MESSAGE_TYPING if in_guild else Intent.DIRECT_MESSAGE_TYPING
    if event == "PRESENCE_UPDATE":
        return Intent.GUILD_PRESENCES
    return 0


class GatewayWorld(Protocol):
    """What the gateway needs from the fake's world (:class:`server.FakeDiscord`)."""

    token: str
    bot_user: FakeUser
    application_id: int
    guilds: dict[int, FakeGuild]

    @property
    def resume_gateway_url(self) -> str: ...

    def guild_json(self, guild: FakeGuild, *, full: bool) -> JSON: ...

    def clock(self) -> float: ...

    def notify(self) -> None: ...


class FakeGateway:
    """The gateway: sessions, connections and the dispatches sent on them."""

    def __init__(
        self,
        world: GatewayWorld,
        *,
        heartbeat_interval: float,
        compression: bool,
        allowed_intents: int | None,
    ) -> None:
        self.world = world
        self.heartbeat_interval = heartbeat_interval
        self.compression = compression
        self.allowed_intents = allowed_intents
        self.ack_heartbeats = True
        self.sessions: list[GatewaySession] = []
        self.connections: list[GatewayConnection] = []
        self.sent_events: list[SentEvent] = []
        self.presence_updates: list[JSON] = []

    @property
    def heartbeats(self) -> int:
        return sum(c.heartbeats for c in self.connections)

    @property
    def heartbeat_acks(self) -> int:
        return sum(c.heartbeat_acks for c in self.connections)

    async def close_all(self) -> None:
        for conn in list(self.connections):
            if not conn.closed:
                with contextlib.suppress(Exception):
                    await self._server_close(conn, 1001, "fake Discord shutting down")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        query = dict(request.query)
        requested = query.get("compress")
        compression = "zlib-stream" if self.compression and requested == "zlib-stream" else None
        conn = GatewayConnection(ws, request.path, query, compression, self.world.clock())
        self.connections.append(conn)
        try:
            if query.get("encoding", "json") != "json":
                await conn.close(4002, "Only encoding=json is supported by the fake")
                return ws
            await conn.send(
                {
                    "op": Op.HELLO,
                    "d": {"heartbeat_interval": int(self.heartbeat_interval * 1000)},
                    "s": None,
                    "t": None,
                }
            )
            self.world.notify()
            async for frame in ws:
                if frame.type != WSMsgType.TEXT:
                    await conn.close(4002, "Error while decoding payload")
                    break
                try:
                    payload = json.loads(frame.data)
                except ValueError:
                    await conn.close(4002, "Error while decoding payload")
                    break
                if not isinstance(payload, dict):
                    await conn.close(4002, "Error while decoding payload")
                    break
                conn.received.append(payload)
                await self._gateway_op(conn, payload)
                self.world.notify()
        finally:
            if conn.close_code is None:
                conn.close_code = ws.close_code
            session = conn.session
            if session is not None and session.connection is conn:
                session.connection = None
                # A client that closes with 1000/1001 ends its session (Discord does not let it resume).
                if not conn.server_closed and ws.close_code in (1000, 1001):
                    session.invalidated = True
            self.world.notify()
        return ws

    async def _server_close(self, conn: GatewayConnection, code: int, message: str) -> None:
        conn.server_closed = True
        await conn.close(code, message)

    async def _gateway_op(self, conn: GatewayConnection, payload: JSON) -> None:
        op = payload.get("op")
        data = payload.get("d")
        if op == Op.HEARTBEAT:
            conn.heartbeats += 1
            if self.ack_heartbeats:
                conn.heartbeat_acks += 1
                await conn.send({"op": Op.HEARTBEAT_ACK, "d": None, "s": None, "t": None})
            return
        if op == Op.IDENTIFY:
            await self._identify(conn, data if isinstance(data, dict) else {})
            return
        if op == Op.RESUME:
            await self._resume(conn, data if isinstance(data, dict) else {})
            return
        if conn.session is None:
            await self._server_close(conn, 4003, "Not authenticated.")
            return
        if op == Op.PRESENCE_UPDATE:
            self.presence_updates.append(data if isinstance(data, dict) else {})
        elif op == Op.REQUEST_GUILD_MEMBERS:
            await self._members_chunk(conn.session, data if isinstance(data, dict) else {})
        elif op == Op.VOICE_STATE_UPDATE:
            pass
        else:
            await self._server_close(conn, 4001, "Unknown opcode.")

    async def _identify(self, conn: GatewayConnection, data: JSON) -> None:
        if conn.session is not None:
            await self._server_close(conn, 4005, "Already authenticated.")
            return
        if data.get("token") != self.world.token:
            await self._server_close(conn, 4004, "Authentication failed.")
            return
        intents = data.get("intents")
        if not isinstance(intents, int):
            await self._server_close(conn, 4013, "Invalid intent(s).")
            return
        if self.allowed_intents is not None and intents & Intent.PRIVILEGED & ~self.allowed_intents:
            await self._server_close(conn, 4014, "Disallowed intent(s).")
            return
        shard: tuple[int, int] | None = None
        raw_shard = data.get("shard")
        if raw_shard is not None:
            if (
                not isinstance(raw_shard, list)
                or len(raw_shard) != 2
                or not all(isinstance(x, int) for x in raw_shard)
                or not 0 <= raw_shard[0] < raw_shard[1]
            ):
                await self._server_close(conn, 4010, "Invalid shard.")
                return
            shard = (raw_shard[0], raw_shard[1])
        session = GatewaySession(secrets.token_hex(16), shard, intents, copy.deepcopy(data))
        self.sessions.append(session)
        session.connection = conn
        conn.session = session
        guilds = [g for g in self.world.guilds.values() if session.covers_guild(g.id)]
        ready: JSON = {
            "v": API_VERSION,
            "user": {**self.world.bot_user.to_api(), "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.world.resume_gateway_url.rstrip("/"),
            "application": {"id": str(self.world.application_id), "flags": APP_FLAGS_LIMITED_INTENTS},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "_trace": ["fake-discord"],
        }
        if shard is not None:
            ready["shard"] = list(shard)
        await self._send_to(session, "READY", ready)
        for guild in guilds:
            await self._send_to(session, "GUILD_CREATE", self.world.guild_json(guild, full=True))

    async def _resume(self, conn: GatewayConnection, data: JSON) -> None:
        session = next((s for s in self.sessions if s.id == data.get("session_id")), None)
        if data.get("token") != self.world.token:
            await self._server_close(conn, 4004, "Authentication failed.")
            return
        if session is None or session.invalidated:
            await conn.send({"op": Op.INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        old = session.connection
        if old is not None and old is not conn and not old.closed:
            await self._server_close(old, 4000, "Session resumed elsewhere")
        session.connection = conn
        conn.session = session
        session.resumes += 1
        raw_seq = data.get("seq")
        last_seq = raw_seq if isinstance(raw_seq, int) else 0
        for seq, event, payload in list(session.log):
            if seq > last_seq:
                await conn.send({"op": Op.DISPATCH, "s": seq, "t": event, "d": payload})
        await self._send_to(session, "RESUMED", {})

    async def _members_chunk(self, session: GatewaySession, data: JSON) -> None:
        guild_ids = data.get("guild_id")
        for raw_gid in guild_ids if isinstance(guild_ids, list) else [guild_ids]:
            guild = self.world.guilds.get(_as_int(raw_gid) or 0)
            if guild is None:
                continue
            members = list(guild.members.values())
            wanted = data.get("user_ids")
            not_found: list[str] = []
            if wanted is not None:
                ids = [_as_int(u) for u in (wanted if isinstance(wanted, list) else [wanted])]
                not_found = [str(u) for u in ids if u not in guild.members]
                members = [m for m in members if m.id in ids]
            else:
                query = str(data.get("query") or "").lower()
                members = [
                    m
                    for m in members
                    if m.user.username.lower().startswith(query) or (m.nick or "").lower().startswith(query)
                ]
                limit = _as_int(data.get("limit")) or 0
                if limit:
                    members = members[:limit]
            chunk: JSON = {
                "guild_id": str(guild.id),
                "members": [m.to_api() for m in members],
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": not_found,
            }
            if data.get("nonce") is not None:
                chunk["nonce"] = data["nonce"]
            if data.get("presences"):
                chunk["presences"] = []
            await self._send_to(session, "GUILD_MEMBERS_CHUNK", chunk)

    async def _send_to(self, session: GatewaySession, event: str, data: JSON) -> None:
        session.seq += 1
        session.log.append((session.seq, event, data))
        self.sent_events.append(SentEvent(session.id, session.shard, session.seq, event, data))
        conn = session.connection
        if conn is not None and not conn.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await conn.send({"op": Op.DISPATCH, "s": session.seq, "t": event, "d": data})

    def _view_for(self, session: GatewaySession, event: str, data: JSON) -> JSON | None:
        needed = _required_intent(event, data)
        if needed and not session.intents & needed:
            return None
        if event in ("MESSAGE_CREATE", "MESSAGE_UPDATE") and not session.intents & Intent.MESSAGE_CONTENT:
            author = (data.get("author") or {}).get("id")
            mentioned = any(m.get("id") == str(self.world.bot_user.id) for m in data.get("mentions") or [])
            if data.get("guild_id") is not None and author != str(self.world.bot_user.id) and not mentioned:
                data = {**data, "content": "", "embeds": [], "attachments": [], "components": []}
                data.pop("poll", None)
        return data

    async def dispatch(self, event: str, payload: JSON) -> int:
        """Send a DISPATCH to every session that would get it (shard, intents); returns how many did.

        Sessions that are disconnected keep the event for a RESUME; with no session at all the event
        is lost, as on Discord."""
        raw_guild = payload.get("guild_id")
        if event in ("GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"):
            raw_guild = payload.get("id")
        guild_id = _as_int(raw_guild)
        delivered = 0
        for session in self.sessions:
            if session.invalidated or not session.covers_guild(guild_id):
                continue
            view = self._view_for(session, event, payload)
            if view is None:
                continue
            await self._send_to(session, event, copy.deepcopy(view))
            delivered += 1
        self.world.notify()
        return delivered

    async def reconnect_clients(self) -> None:
        """Send op 7 RECONNECT on every open connection (the client should RESUME)."""
        for conn in self.connections:
            if not conn.closed:
                await conn.send({"op": Op.RECONNECT, "d": None, "s": None, "t": None})

    async def drop_connections(self, code: int = 4000) -> None:
        """Close every open connection from the server side (4000: resumable)."""
        for conn in self.connections:
            if not conn.closed:
                await self._server_close(conn, code, "dropped by the test")

    async def invalidate_sessions(self, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION (``resumable=False``: the client must IDENTIFY again)."""
        for session in self.sessions:
            if not resumable:
                session.invalidated = True
            conn = session.connection
            if conn is not None and not conn.closed:
                await conn.send({"op": Op.INVALID_SESSION, "d": resumable, "s": None, "t": None})

    def identifies(self) -> list[JSON]:
        """The IDENTIFY payloads received (token included), oldest first."""
        return [s.identify for s in self.sessions]
