"""The REST side of the fake Discord: data model, limits, error shapes, validation, rate limiter.

:class:`discord_api.FakeDiscord` puts these together; tests import everything from ``discord_api``.
"""

from __future__ import annotations

import copy
import datetime as dt
import fnmatch
import hashlib
import itertools
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeAlias

JSON: TypeAlias = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000
API_VERSION = 10

# ---------------------------------------------------------------------------------------- constants


class Perm:
    """Permission bits (https://discord.com/developers/docs/topics/permissions)."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    SEND_MESSAGES_IN_THREADS = 1 << 38
    ALL = (1 << 51) - 1

    EVERYONE_DEFAULT = (
        CREATE_INSTANT_INVITE
        | ADD_REACTIONS
        | VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | USE_APPLICATION_COMMANDS
        | CREATE_PUBLIC_THREADS
        | SEND_MESSAGES_IN_THREADS
    )
    BOT_DEFAULT = EVERYONE_DEFAULT | MANAGE_MESSAGES | MANAGE_THREADS | MENTION_EVERYONE


class ChannelType:
    TEXT = 0
    DM = 1
    CATEGORY = 4
    NEWS = 5
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12
    FORUM = 15
    THREADS = frozenset({10, 11, 12})


class MessageFlag:
    SUPPRESS_EMBEDS = 1 << 2
    EPHEMERAL = 1 << 6
    LOADING = 1 << 7
    SUPPRESS_NOTIFICATIONS = 1 << 12
    IS_COMPONENTS_V2 = 1 << 15
    SETTABLE_ON_CREATE = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2


# Application flags of an unverified bot with all three privileged intents switched on in the portal.
APP_FLAGS_LIMITED_INTENTS = (1 << 13) | (1 << 15) | (1 << 19)

_USER_MENTION_RE = re.compile(r"<@!?(\d{15,21})>")
_ROLE_MENTION_RE = re.compile(r"<@&(\d{15,21})>")
_COMMAND_NAME_RE = re.compile(r"^[-_a-z0-9]{1,32}$")

# ---------------------------------------------------------------------------------------- helpers


def snowflake_time(snowflake: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=dt.UTC)


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SnowflakeGenerator:
    """Snowflakes as Discord makes them (time in the top bits), strictly increasing."""

    def __init__(self) -> None:
        self._last = 0
        self._increment = itertools.count()

    def next(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        candidate = (ms << 22) | (1 << 17) | (next(self._increment) & 0xFFF)
        self._last = max(candidate, self._last + 1)
        return self._last

    def next_for_shard(self, shard_id: int, shard_count: int) -> int:
        """A snowflake whose guild would live on ``shard_id`` (``(id >> 22) % shard_count``)."""
        ms = max(int(time.time() * 1000) - DISCORD_EPOCH_MS, (self._last >> 22) + 1)
        while ms % shard_count != shard_id:
            ms += 1
        self._last = (ms << 22) | (1 << 17) | (next(self._increment) & 0xFFF)
        return self._last


def _field_error(code: str, message: str) -> JSON:
    return {"_errors": [{"code": code, "message": message}]}


def _set_error(errors: JSON, path: Sequence[str | int], code: str, message: str) -> None:
    node = errors
    for part in path:
        node = node.setdefault(str(part), {})
    node.setdefault("_errors", []).append({"code": code, "message": message})


def _max_length(errors: JSON, path: Sequence[str | int], value: object, limit: int) -> None:
    if isinstance(value, str) and len(value) > limit:
        _set_error(errors, path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


# ---------------------------------------------------------------------------------------- limits


@dataclass
class DiscordLimits:
    """Discord's limits as the fake enforces them; mutable, so a test may change them mid-run."""

    max_content: int = 2000
    max_embed_description: int = 4096
    max_embed_title: int = 256
    max_embed_total: int = 6000
    max_embeds: int = 10
    message_create: tuple[int, float] = (5, 5.0)
    """``POST /channels/{id}/messages``: (requests, seconds) per channel."""
    message_edit: tuple[int, float] = (5, 5.0)
    """``PATCH /channels/{id}/messages/{mid}``: (requests, seconds) per channel."""
    default_route: tuple[int, float] = (50, 1.0)
    """Every other route, per route and major parameter."""
    route_overrides: dict[str, tuple[int, float]] = field(default_factory=dict)
    """``{"METHOD /route/{template}": (requests, seconds)}``."""
    global_per_second: int | None = 50
    """Requests per second for the whole bot (interaction routes exempt); None: no global limit."""
    send_ratelimit_headers: bool = True
    """False: no ``X-RateLimit-*`` headers on successful answers, so discord.py cannot pace itself
    and meets real 429s (a second process sharing the token has the same effect)."""
    interaction_deadline: float = 3.0
    """Seconds to answer or defer an interaction before the callback gets 404/10062."""
    interaction_token_ttl: float = 15 * 60.0

    def for_route(self, method: str, route: str) -> tuple[int, float]:
        key = f"{method} {route}"
        if key in self.route_overrides:
            return self.route_overrides[key]
        if key == "POST /channels/{channel_id}/messages":
            return self.message_create
        if key == "PATCH /channels/{channel_id}/messages/{message_id}":
            return self.message_edit
        return self.default_route


class ManualClock:
    """A clock for rate limits and interaction deadlines that moves only when told:
    ``FakeDiscord(clock=clock)``; ``clock.advance(5)`` opens the next window."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# ---------------------------------------------------------------------------------------- world


@dataclass(eq=False)
class FakeUser:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None
    accepts_dms: bool = True
    """False: messages to a DM with this user fail with 403/50007."""

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def to_api(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "public_flags": 0,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass(eq=False)
class FakeRole:
    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 0
    mentionable: bool = False
    managed: bool = False
    bot_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def to_api(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass(eq=False)
class FakeMember:
    user: FakeUser
    guild_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: dt.datetime = field(default_factory=_now)

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def mention(self) -> str:
        return f"<@{self.user.id}>"

    def to_api(self, *, with_user: bool = True) -> JSON:
        data: JSON = {
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "roles": [str(r) for r in self.roles],
            "joined_at": _iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.to_api()
        return data


@dataclass(eq=False)
class FakeGuild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, FakeRole] = field(default_factory=dict)
    members: dict[int, FakeMember] = field(default_factory=dict)
    channel_ids: list[int] = field(default_factory=list)

    @property
    def everyone_role(self) -> FakeRole:
        return self.roles[self.id]

    def role_named(self, name: str) -> FakeRole:
        for role in self.roles.values():
            if role.name == name:
                return role
        raise KeyError(name)


@dataclass(eq=False)
class FakeChannel:
    """A guild text/forum channel, a thread (forum posts are threads whose parent is a forum) or a DM."""

    id: int
    type: int
    name: str | None
    guild_id: int | None = None
    parent_id: int | None = None
    position: int = 0
    topic: str | None = None
    available_tags: list[JSON] = field(default_factory=list)
    owner_id: int | None = None
    applied_tags: list[int] = field(default_factory=list)
    archived: bool = False
    locked: bool = False
    auto_archive_duration: int = 1440
    archive_timestamp: dt.datetime = field(default_factory=_now)
    created_at: dt.datetime = field(default_factory=_now)
    recipients: list[FakeUser] = field(default_factory=list)
    last_message_id: int | None = None
    message_count: int = 0
    total_message_sent: int = 0
    thread_member_ids: set[int] = field(default_factory=set)
    rate_limit_per_user: int = 0
    bot_can_send: bool = True
    """False: the bot's messages here fail with 403/50013 Missing Permissions."""

    @property
    def is_thread(self) -> bool:
        return self.type in ChannelType.THREADS

    @property
    def is_forum(self) -> bool:
        return self.type == ChannelType.FORUM

    @property
    def is_dm(self) -> bool:
        return self.type == ChannelType.DM

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def tag_id(self, name: str) -> int:
        """The id of the forum tag called ``name``."""
        for tag in self.available_tags:
            if tag["name"] == name:
                return int(tag["id"])
        raise KeyError(name)

    def to_api(self, *, bot_id: int | None = None) -> JSON:
        if self.is_dm:
            return {
                "id": str(self.id),
                "type": self.type,
                "last_message_id": None if self.last_message_id is None else str(self.last_message_id),
                "recipients": [u.to_api() for u in self.recipients],
                "flags": 0,
            }
        data: JSON = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "parent_id": None if self.parent_id is None else str(self.parent_id),
            "last_message_id": None if self.last_message_id is None else str(self.last_message_id),
            "rate_limit_per_user": self.rate_limit_per_user,
            "flags": 0,
        }
        if self.is_thread:
            data.update(
                owner_id=str(self.owner_id),
                message_count=self.message_count,
                member_count=min(50, len(self.thread_member_ids)),
                total_message_sent=self.total_message_sent,
                applied_tags=[str(t) for t in self.applied_tags],
                thread_metadata={
                    "archived": self.archived,
                    "auto_archive_duration": self.auto_archive_duration,
                    "archive_timestamp": _iso(self.archive_timestamp),
                    "locked": self.locked,
                    "invitable": True,
                    "create_timestamp": _iso(self.created_at),
                },
            )
            if bot_id is not None and bot_id in self.thread_member_ids:
                data["member"] = {
                    "id": str(self.id),
                    "user_id": str(bot_id),
                    "join_timestamp": _iso(self.created_at),
                    "flags": 0,
                }
            return data
        data.update(position=self.position, permission_overwrites=[], nsfw=False, topic=self.topic)
        if self.is_forum:
            data.update(
                available_tags=copy.deepcopy(self.available_tags),
                default_reaction_emoji=None,
                default_sort_order=None,
                default_forum_layout=0,
                default_auto_archive_duration=4320,
                default_thread_rate_limit_per_user=0,
            )
        else:
            data["default_auto_archive_duration"] = 1440
        return data


@dataclass(frozen=True)
class Pings:
    """Who a message notifies under Discord's rules; falsy when it pings nobody."""

    everyone: bool = False
    here: bool = False
    users: frozenset[int] = frozenset()
    roles: frozenset[int] = frozenset()

    def __bool__(self) -> bool:
        return self.everyone or self.here or bool(self.users) or bool(self.roles)

    def __or__(self, other: Pings) -> Pings:
        return Pings(
            self.everyone or other.everyone,
            self.here or other.here,
            self.users | other.users,
            self.roles | other.roles,
        )


@dataclass(eq=False)
class FakeMessage:
    id: int
    channel_id: int
    guild_id: int | None
    author: FakeUser
    content: str = ""
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    attachments: list[JSON] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    message_reference: JSON | None = None
    allowed_mentions: JSON | None = None
    """As last sent (None: not given, Discord's default allowances applied)."""
    mentions: list[FakeUser] = field(default_factory=list)
    mention_roles: list[int] = field(default_factory=list)
    mention_everyone: bool = False
    created_at: dt.datetime = field(default_factory=_now)
    edited_at: dt.datetime | None = None
    versions: list[str] = field(default_factory=list)
    """The content after creation and after every edit, oldest first."""
    ping_history: list[Pings] = field(default_factory=list)
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_metadata: JSON | None = None
    nonce: str | int | None = None
    tts: bool = False
    thread_id: int | None = None
    """The thread started from this message."""
    position: int | None = None
    reactions: dict[str, set[int]] = field(default_factory=dict)
    deleted: bool = False

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & MessageFlag.EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & MessageFlag.LOADING)

    @property
    def edits(self) -> int:
        return max(0, len(self.versions) - 1)

    def custom_ids(self) -> list[str]:
        found: list[str] = []

        def walk(items: Iterable[Any]) -> None:
            for item in items:
                if isinstance(item, dict):
                    if isinstance(item.get("custom_id"), str):
                        found.append(item["custom_id"])
                    walk(item.get("components") or [])
                    if isinstance(item.get("accessory"), dict):
                        walk([item["accessory"]])

        walk(self.components)
        return found


@dataclass(eq=False)
class InteractionResponse:
    kind: str
    """``callback``, ``edit_original``, ``delete_original``, ``followup``, ``edit_followup`` or
    ``delete_followup``."""
    type: int | None
    """The callback type (4, 5, 6, 7, 8, 9) for ``callback``."""
    body: Any
    status: int
    message_id: int | None
    at: float


@dataclass(eq=False)
class FakeInteraction:
    id: int
    token: str
    type: int
    payload: JSON
    guild_id: int | None
    channel_id: int
    user: FakeUser
    created_at: float
    message_id: int | None = None
    """For a component interaction: the message the component is on."""
    callback_type: int | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    responses: list[InteractionResponse] = field(default_factory=list)
    awaiting_first_followup: bool = False

    @property
    def name(self) -> str | None:
        data = self.payload.get("data") or {}
        name = data.get("name")
        return name if isinstance(name, str) else None

    @property
    def custom_id(self) -> str | None:
        data = self.payload.get("data") or {}
        custom_id = data.get("custom_id")
        return custom_id if isinstance(custom_id, str) else None

    @property
    def acknowledged(self) -> bool:
        return self.callback_type is not None


class ForumPost(NamedTuple):
    thread: FakeChannel
    message: FakeMessage


@dataclass(eq=False)
class RecordedCall:
    method: str
    path: str
    """The concrete path after ``/api/v10``."""
    route: str | None
    """The route template (discord.py's spelling), e.g. ``/channels/{channel_id}/messages``."""
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    files: list[JSON]
    at: float
    status: int = 0
    response: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    """The response headers."""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True)
class RateLimitHit:
    method: str
    path: str
    route: str | None
    bucket: str | None
    scope: str
    retry_after: float
    injected: bool


@dataclass
class _Failure:
    method: str
    pattern: str
    status: int
    retry_after: float
    remaining: int
    scope: str
    is_global: bool
    body: JSON | None
    delay: float


@dataclass
class _Bucket:
    limit: int
    window: float
    count: int = 0
    resets_at: float = 0.0


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: JSON | None = None,
        headers: Mapping[str, str] | None = None,
        body: JSON | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.body: JSON = body if body is not None else {"message": message, "code": code}
        if errors and body is None:
            self.body["errors"] = errors
        self.headers = dict(headers or {})


def _invalid_form(errors: JSON) -> ApiError:
    return ApiError(400, 50035, "Invalid Form Body", errors)


# ---------------------------------------------------------------------------------------- routes

_ROUTES: list[tuple[str, str, str]] = [
    # (method, discord.py's route template, handler name)
    ("GET", "/gateway", "_gateway"),
    ("GET", "/gateway/bot", "_gateway_bot"),
    ("GET", "/users/@me", "_get_me"),
    ("POST", "/users/@me/channels", "_create_dm"),
    ("GET", "/users/{user_id}", "_get_user"),
    ("GET", "/oauth2/applications/@me", "_get_application"),
    ("GET", "/applications/@me", "_get_application"),
    ("GET", "/applications/{application_id}/commands", "_get_commands"),
    ("PUT", "/applications/{application_id}/commands", "_put_commands"),
    ("POST", "/applications/{application_id}/commands", "_post_command"),
    ("GET", "/applications/{application_id}/guilds/{guild_id}/commands", "_get_commands"),
    ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", "_put_commands"),
    ("POST", "/applications/{application_id}/guilds/{guild_id}/commands", "_post_command"),
    ("GET", "/guilds/{guild_id}", "_get_guild"),
    ("GET", "/guilds/{guild_id}/channels", "_get_guild_channels"),
    ("GET", "/guilds/{guild_id}/threads/active", "_get_active_threads"),
    ("GET", "/guilds/{guild_id}/members/{user_id}", "_get_member"),
    ("GET", "/channels/{channel_id}", "_get_channel"),
    ("PATCH", "/channels/{channel_id}", "_patch_channel"),
    ("GET", "/channels/{channel_id}/messages", "_get_messages"),
    ("POST", "/channels/{channel_id}/messages", "_post_message"),
    ("GET", "/channels/{channel_id}/messages/{message_id}", "_get_message"),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}", "_patch_message"),
    ("DELETE", "/channels/{channel_id}/messages/{message_id}", "_delete_message"),
    ("POST", "/channels/{channel_id}/messages/{message_id}/threads", "_thread_from_message"),
    ("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", "_add_reaction"),
    ("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", "_remove_reaction"),
    ("POST", "/channels/{channel_id}/threads", "_create_thread"),
    ("POST", "/channels/{channel_id}/typing", "_trigger_typing"),
    ("PUT", "/channels/{channel_id}/thread-members/@me", "_join_thread"),
    ("POST", "/interactions/{webhook_id}/{webhook_token}/callback", "_interaction_callback"),
    ("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", "_get_original"),
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", "_edit_original"),
    ("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", "_delete_original"),
    ("POST", "/webhooks/{webhook_id}/{webhook_token}", "_post_followup"),
    ("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", "_get_followup"),
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", "_edit_followup"),
    ("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", "_delete_followup"),
]

_NO_AUTH_PREFIXES = ("/interactions/", "/webhooks/")
# Interaction type -> the callback types Discord accepts for it.
_CALLBACK_TYPES: dict[int, frozenset[int]] = {
    2: frozenset({4, 5, 9}),
    3: frozenset({4, 5, 6, 7, 9}),
    4: frozenset({8}),
    5: frozenset({4, 5, 6, 7}),
}
_NO_GLOBAL_LIMIT_PREFIXES = ("/interactions/", "/webhooks/")


def _compile(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return re.compile(f"^{pattern}$")


_COMPILED = [(method, template, _compile(template), handler) for method, template, handler in _ROUTES]


@dataclass
class _Request:
    method: str
    path: str
    route: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    files: list[JSON]

    def id(self, name: str) -> int:
        value = _as_int(self.params.get(name))
        if value is None:
            raise ApiError(404, 0, "404: Not Found")
        return value

    @property
    def json(self) -> JSON:
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise _invalid_form(
                {
                    "_errors": [
                        {
                            "code": "DICT_TYPE_CONVERT",
                            "message": "Only dictionaries may be used in a DictType",
                        }
                    ]
                }
            )
        return self.body


# ---------------------------------------------------------------------------------------- validation


def validate_allowed_mentions(errors: JSON, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        _set_error(
            errors,
            ["allowed_mentions"],
            "DICT_TYPE_CONVERT",
            "Only dictionaries may be used in a DictType",
        )
        return
    parse = value.get("parse") or []
    for i, item in enumerate(parse):
        if item not in ("users", "roles", "everyone"):
            _set_error(
                errors,
                ["allowed_mentions", "parse", i],
                "BASE_TYPE_CHOICES",
                "Value must be one of ('roles', 'users', 'everyone').",
            )
    for kind in ("users", "roles"):
        listed = value.get(kind) or []
        if kind in parse and listed:
            _set_error(
                errors,
                ["allowed_mentions"],
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
            )
        if len(listed) > 100:
            _set_error(
                errors,
                ["allowed_mentions", kind],
                "BASE_TYPE_MAX_LENGTH",
                "Must be 100 or fewer in length.",
            )


def validate_embeds(
    errors: JSON, embeds: Any, limits: DiscordLimits, prefix: Sequence[str | int] = ()
) -> None:
    if embeds is None:
        return
    if not isinstance(embeds, list):
        _set_error(
            errors, [*prefix, "embeds"], "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType"
        )
        return
    lim = limits
    if len(embeds) > lim.max_embeds:
        _set_error(
            errors,
            [*prefix, "embeds"],
            "BASE_TYPE_MAX_LENGTH",
            f"Must be {lim.max_embeds} or fewer in length.",
        )
    total = 0
    for i, embed in enumerate(embeds):
        if not isinstance(embed, dict):
            _set_error(
                errors,
                [*prefix, "embeds", i],
                "DICT_TYPE_CONVERT",
                "Only dictionaries may be used in a DictType",
            )
            continue
        path = [*prefix, "embeds", i]
        _max_length(errors, [*path, "title"], embed.get("title"), lim.max_embed_title)
        _max_length(errors, [*path, "description"], embed.get("description"), lim.max_embed_description)
        fields = embed.get("fields") or []
        if len(fields) > 25:
            _set_error(errors, [*path, "fields"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        texts = [embed.get("title"), embed.get("description")]
        for j, fld in enumerate(fields):
            if isinstance(fld, dict):
                _max_length(errors, [*path, "fields", j, "name"], fld.get("name"), 256)
                _max_length(errors, [*path, "fields", j, "value"], fld.get("value"), 1024)
                texts += [fld.get("name"), fld.get("value")]
        footer = embed.get("footer") or {}
        author = embed.get("author") or {}
        _max_length(errors, [*path, "footer", "text"], footer.get("text"), 2048)
        _max_length(errors, [*path, "author", "name"], author.get("name"), 256)
        texts += [footer.get("text"), author.get("name")]
        total += sum(len(t) for t in texts if isinstance(t, str))
    if total > lim.max_embed_total:
        _set_error(
            errors,
            [*prefix, "embeds"],
            "MAX_EMBED_SIZE_EXCEEDED",
            f"Embed size exceeds maximum size of {lim.max_embed_total}",
        )


def validate_components(errors: JSON, components: Any, flags: int, prefix: Sequence[str | int] = ()) -> None:
    if components is None:
        return
    if not isinstance(components, list):
        _set_error(
            errors,
            [*prefix, "components"],
            "LIST_TYPE_CONVERT",
            "Only iterables may be used in a ListType",
        )
        return
    if flags & MessageFlag.IS_COMPONENTS_V2:
        return
    if len(components) > 5:
        _set_error(errors, [*prefix, "components"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    seen: set[str] = set()
    for i, row in enumerate(components):
        path = [*prefix, "components", i]
        if not isinstance(row, dict) or row.get("type") != 1:
            _set_error(
                errors,
                [*path, "type"],
                "UNION_TYPE_CHOICES",
                'Value of field "type" must be one of (1,).',
            )
            continue
        children = row.get("components") or []
        if not 1 <= len(children) <= 5:
            _set_error(
                errors,
                [*path, "components"],
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 5 in length.",
            )
        for j, child in enumerate(children):
            if not isinstance(child, dict):
                continue
            cpath = [*path, "components", j]
            custom_id = child.get("custom_id")
            if child.get("type") == 2 and child.get("style") in (5, 6):
                pass
            elif not isinstance(custom_id, str) or not custom_id:
                _set_error(errors, [*cpath, "custom_id"], "BASE_TYPE_REQUIRED", "This field is required")
            else:
                _max_length(errors, [*cpath, "custom_id"], custom_id, 100)
                if custom_id in seen:
                    _set_error(
                        errors,
                        [*cpath, "custom_id"],
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        "Component custom id cannot be duplicated",
                    )
                seen.add(custom_id)
            _max_length(errors, [*cpath, "label"], child.get("label"), 80)


def validate_message_body(body: JSON, limits: DiscordLimits, *, prefix: Sequence[str | int] = ()) -> None:
    errors: JSON = {}
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        _set_error(errors, [*prefix, "content"], "BASE_TYPE_STRING", "Must be a string.")
    _max_length(errors, [*prefix, "content"], content, limits.max_content)
    validate_embeds(errors, body.get("embeds"), limits, prefix)
    flags = _as_int(body.get("flags")) or 0
    validate_components(errors, body.get("components"), flags, prefix)
    validate_allowed_mentions(errors, body.get("allowed_mentions"))
    if errors:
        raise _invalid_form(errors)


def is_empty_message(
    content: str, embeds: list[JSON], components: list[JSON], attachments: list[JSON], body: JSON
) -> bool:
    return not (content or embeds or components or attachments or body.get("sticker_ids") or body.get("poll"))


# ---------------------------------------------------------------------------------------- rate limits


class RateLimiter:
    """Discord's rate limits: per-route buckets (fixed windows), the global limit and injected failures."""

    def __init__(self, limits: DiscordLimits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self.clock = clock
        self.hits: list[RateLimitHit] = []
        self._failures: list[_Failure] = []
        self._buckets: dict[str, _Bucket] = {}
        self._global_window: tuple[float, int] = (0.0, 0)

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
        """Answer the next ``times`` matching requests with ``status`` instead of handling them.

        ``route_pattern``: a route template, a concrete path or an ``fnmatch`` pattern over the path.
        429: ``retry_after`` seconds in the body and ``Retry-After``, ``X-RateLimit-Scope: scope``
        (``user``/``shared``/``global``), ``"global": true`` when ``is_global``.  Other statuses get
        Discord's plain error body unless ``body`` is given.  ``delay`` holds the answer back that long
        (client timeouts).  Failures queue in the order given."""
        if times < 1:
            raise ValueError("times must be at least 1")
        self._failures.append(
            _Failure(method.upper(), route_pattern, status, retry_after, times, scope, is_global, body, delay)
        )

    def take_failure(self, method: str, path: str, route: str | None) -> _Failure | None:
        for failure in self._failures:
            if failure.method != method:
                continue
            if (
                failure.pattern == route
                or failure.pattern == path
                or fnmatch.fnmatchcase(path, failure.pattern)
            ):
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    @staticmethod
    def _bucket_hash(method: str, route: str) -> str:
        return hashlib.sha1(f"{method} {route}".encode()).hexdigest()[:32]

    @staticmethod
    def _major(params: Mapping[str, str]) -> str:
        for key in ("channel_id", "guild_id"):
            if key in params:
                return f"{key}={params[key]}"
        if "webhook_id" in params:
            return f"webhook={params['webhook_id']}+{params.get('webhook_token', '')}"
        return ""

    def _ratelimit_headers(self, bucket: _Bucket, bucket_hash: str, now: float) -> dict[str, str]:
        reset_after = max(0.0, bucket.resets_at - now)
        return {
            "X-RateLimit-Limit": str(bucket.limit),
            "X-RateLimit-Remaining": str(max(0, bucket.limit - bucket.count)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket_hash,
        }

    def too_many(
        self,
        req_method: str,
        path: str,
        route: str | None,
        retry_after: float,
        *,
        scope: str,
        is_global: bool,
        bucket: str | None,
        injected: bool,
        headers: Mapping[str, str] | None = None,
    ) -> ApiError:
        retry_after = round(max(retry_after, 0.001), 3)
        self.hits.append(RateLimitHit(req_method, path, route, bucket, scope, retry_after, injected))
        all_headers = {
            **(headers or {}),
            "Retry-After": str(max(1, math.ceil(retry_after))),
            "X-RateLimit-Scope": scope,
        }
        if is_global:
            all_headers["X-RateLimit-Global"] = "true"
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global}
        return ApiError(429, 0, "You are being rate limited.", headers=all_headers, body=body)

    def check_global(self, method: str, path: str, route: str) -> None:
        limit = self.limits.global_per_second
        if limit is None or path.startswith(_NO_GLOBAL_LIMIT_PREFIXES):
            return
        now = self.clock()
        start, count = self._global_window
        if now >= start + 1.0:
            start, count = now, 0
        if count >= limit:
            raise self.too_many(
                method,
                path,
                route,
                start + 1.0 - now,
                scope="global",
                is_global=True,
                bucket=None,
                injected=False,
            )
        self._global_window = (start, count + 1)

    def take_bucket(self, method: str, path: str, route: str, params: Mapping[str, str]) -> dict[str, str]:
        limit, window = self.limits.for_route(method, route)
        bucket_hash = self._bucket_hash(method, route)
        key = f"{bucket_hash}:{self._major(params)}"
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None or now >= bucket.resets_at:
            bucket = _Bucket(limit, window, 0, now + window)
            self._buckets[key] = bucket
        bucket.limit = limit
        if bucket.count >= bucket.limit:
            headers = self._ratelimit_headers(bucket, bucket_hash, now)
            raise self.too_many(
                method,
                path,
                route,
                bucket.resets_at - now,
                scope="user",
                is_global=False,
                bucket=bucket_hash,
                injected=False,
                headers=headers,
            )
        bucket.count += 1
        return self._ratelimit_headers(bucket, bucket_hash, now)

    def injected(self, failure: _Failure, method: str, path: str, route: str | None) -> ApiError:
        if failure.status == 429:
            return self.too_many(
                method,
                path,
                route,
                failure.retry_after,
                scope="global" if failure.is_global else failure.scope,
                is_global=failure.is_global,
                bucket=None,
                injected=True,
            )
        if failure.body is not None:
            return ApiError(failure.status, int(failure.body.get("code", 0)), "", body=failure.body)
        reasons = {
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
            504: "Gateway Timeout",
        }
        return ApiError(failure.status, 0, f"{failure.status}: {reasons.get(failure.status, 'Error')}")


def _options(options: Mapping[str, Any] | Sequence[JSON] | None) -> list[JSON]:
    if options is None:
        return []
    if isinstance(options, Mapping):
        out: list[JSON] = []
        for name, value in options.items():
            if isinstance(value, bool):
                otype = 5
            elif isinstance(value, int):
                otype = 4
            elif isinstance(value, float):
                otype = 10
            else:
                otype = 3
            out.append({"name": name, "type": otype, "value": value})
        return out
    return [dict(o) for o in options]


def _route_matches(pattern: str, call: RecordedCall) -> bool:
    if pattern == call.route or pattern == call.path:
        return True
    return fnmatch.fnmatchcase(call.path, pattern)
