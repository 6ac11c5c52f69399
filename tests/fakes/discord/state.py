"""The fake Discord's records: ids, permission and channel constants, users, guilds, channels, messages."""

from __future__ import annotations

import copy
import datetime as dt
import fnmatch
import itertools
import re
import time
from collections.abc import Iterable, Mapping, Sequence
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


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


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
