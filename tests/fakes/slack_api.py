"""A fake Slack Web API and an Events API sender, on 127.0.0.1, for end-to-end tests.

The real ``slack_sdk`` client talks to it unchanged::

    async with FakeSlack() as fake:                  # or the ``fake_slack`` pytest fixture
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
        alice = fake.add_user(name="alice")
        post = fake.post_as_user(fake.general.id, alice.id, f"{mention()} where is ORD-1?")
        sender = fake.event_sender("http://127.0.0.1:PORT/slack/events", SIGNING_SECRET)
        await sender.send_event(post.event)           # signed exactly like Slack signs it
        await fake.wait_for_calls("chat.postMessage")
        assert "ORD-1" in fake.visible_text(fake.general.id, fake.bot_messages()[-1].ts)

What it enforces (DESIGN.md section 5; every number lives in :class:`SlackLimits`):

- ``chat.postMessage``: about one message per second per channel with a small burst (token bucket);
- ``chat.update``: a sliding-window budget shared by the whole workspace (default 50 a minute); a channel
  added with ``team_id=`` belongs to another workspace of the same (org-wide) install, which has a budget of
  its own;
- optionally ``conversations.replies`` (some app types get one request a minute);
- beyond a limit: HTTP 429, an integer ``Retry-After`` header and ``{"ok": false, "error": "ratelimited"}``;
- ``msg_too_long`` above 4,000 characters of ``text``; ``invalid_blocks`` for a section text above
  3,000 characters (and a few other Block Kit limits); ``cant_update_message`` for a message the bot did
  not post; ``message_not_found``; ``chat.update`` keeps the old blocks when ``blocks`` is left out;
- ``not_authed`` without a token, ``invalid_auth`` with a wrong one, ``unknown_method``;
- Socket Mode: ``apps.connections.open`` (app-level token only) hands out a ``ws://`` URL where the fake
  says ``hello`` and :meth:`FakeSlack.send_socket_mode` sends envelopes and returns the app's ack.

Requests are accepted the ways Slack accepts them: query string (``GET`` and ``POST ...?a=b``, which
``slack_sdk`` uses for many methods), form-encoded bodies and JSON bodies; the token as
``Authorization: Bearer`` (required for JSON bodies) or a ``token`` form/query field.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import hashlib
import hmac
import itertools
import json
import math
import re
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, TypeAlias
from urllib.parse import urlencode

import aiohttp
import pytest_asyncio
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

JSON: TypeAlias = dict[str, Any]
ChannelKind: TypeAlias = Literal["channel", "group", "im", "mpim"]

TEAM_ID = "T0FAKE"
TEAM_DOMAIN = "fake-workspace"
TEAM_NAME = "Fake Workspace"
EXTERNAL_TEAM_ID = "T0EXTERNAL"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
BOT_NAME = "supportbot"
APP_ID = "A0FAKEAPP"
BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-1-fake-app-token"
SIGNING_SECRET = "fake-signing-secret"
VERIFICATION_TOKEN = "fake-verification-token"
GENERAL_CHANNEL_ID = "C0GENERAL"
TS_START = 1_700_000_000.0001

_MENTION_RE = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_TEXT_OBJECT_TYPES = frozenset({"plain_text", "mrkdwn"})
_KNOWN_BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "table",
        "video",
    }
)
_MAX_MARKDOWN_BLOCK_CHARS = 12_000


def mention(user_id: str = BOT_USER_ID) -> str:
    """The mention markup Slack puts in message text, ``<@U0BOT>`` for the bot."""
    return f"<@{user_id}>"


# --------------------------------------------------------------------------------------------------
# configuration and clock


@dataclass
class SlackLimits:
    """Slack's limits as the fake enforces them; mutable, so a test may tighten them mid-run."""

    post_message_per_second: float = 1.0
    """Sustained ``chat.postMessage`` rate per channel."""
    post_message_burst: int = 2
    """How many posts one channel may take at once before the per-second rate applies."""
    update_limit: int = 50
    """``chat.update`` calls allowed per ``update_window`` for the whole workspace."""
    update_window: float = 60.0
    replies_limit: int | None = None
    """``conversations.replies`` calls per ``replies_window`` (None: unlimited; 1 for some app types)."""
    replies_window: float = 60.0
    max_text_chars: int = 4000
    """Longer ``text`` gets ``msg_too_long``."""
    max_section_text_chars: int = 3000
    max_section_field_chars: int = 2000
    max_header_text_chars: int = 150
    max_blocks: int = 50

    @classmethod
    def relaxed(cls) -> SlackLimits:
        """Limits no ordinary test reaches (message size limits stay real)."""
        return cls(post_message_per_second=1000.0, post_message_burst=1000, update_limit=1_000_000)


class ManualClock:
    """A clock for the rate limiters that moves only when told: ``FakeSlack(clock=clock)``."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# --------------------------------------------------------------------------------------------------
# workspace model


@dataclass
class FakeUser:
    id: str
    name: str
    real_name: str
    display_name: str
    team_id: str
    is_bot: bool = False
    bot_id: str | None = None
    is_restricted: bool = False
    is_ultra_restricted: bool = False
    is_stranger: bool = False
    is_admin: bool = False
    deleted: bool = False
    email: str | None = None
    tz: str = "Europe/London"
    enterprise_id: str | None = None
    """The user's Enterprise Grid organisation (``users.info`` then carries ``enterprise_user``)."""

    def is_external(self, workspace_team_id: str) -> bool:
        """A Slack Connect user from another organisation."""
        return self.is_stranger or self.team_id != workspace_team_id

    def to_api(self) -> JSON:
        profile: JSON = {
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            "display_name": self.display_name,
            "display_name_normalized": self.display_name,
            "team": self.team_id,
            "image_48": f"https://avatars.example/{self.id}_48.png",
        }
        if self.email is not None:
            profile["email"] = self.email
        if self.bot_id is not None:
            profile["bot_id"] = self.bot_id
            profile["api_app_id"] = APP_ID if self.bot_id == BOT_ID else ""
        user: JSON = {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_offset": 0,
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": self.is_ultra_restricted,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1_700_000_000,
        }
        if self.is_stranger:
            user["is_stranger"] = True
        if self.enterprise_id is not None:
            user["enterprise_user"] = {
                "id": self.id,
                "enterprise_id": self.enterprise_id,
                "enterprise_name": "Fake Org",
                "is_admin": False,
                "is_owner": False,
                "teams": [self.team_id],
            }
        return user


@dataclass
class FakeMessage:
    """The current state of one message in the fake workspace."""

    channel: str
    ts: str
    text: str
    user: str | None = None
    bot_id: str | None = None
    app_id: str | None = None
    blocks: list[JSON] | None = None
    attachments: list[JSON] | None = None
    thread_ts: str | None = None
    subtype: str | None = None
    team: str | None = None
    edited: JSON | None = None
    reply_broadcast: bool = False
    unfurl_links: bool | None = None
    unfurl_media: bool | None = None
    metadata: JSON | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)
    deleted: bool = False
    update_count: int = 0
    versions: list[str] = field(default_factory=list)
    """The visible text after the post and after every successful edit, oldest first."""

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    @property
    def is_from_bot(self) -> bool:
        return self.bot_id == BOT_ID

    @property
    def visible_text(self) -> str:
        """What a person sees: the blocks' text when there are blocks, else ``text``."""
        return blocks_text(self.blocks) if self.blocks else self.text


@dataclass
class FakeChannel:
    id: str
    name: str
    kind: ChannelKind = "channel"
    is_ext_shared: bool = False
    is_archived: bool = False
    bot_is_member: bool = True
    members: set[str] | None = None
    """None: everybody may be addressed in it (``chat.postEphemeral`` checks membership otherwise)."""
    im_user: str | None = None
    messages: dict[str, FakeMessage] = field(default_factory=dict)
    team_id: str | None = None
    """The workspace the channel belongs to (None: the fake's own ``team_id``)."""

    @property
    def channel_type(self) -> ChannelKind:
        """The ``channel_type`` of message events in this conversation."""
        return self.kind

    def to_api(self, team_id: str) -> JSON:
        if self.kind == "im":
            return {
                "id": self.id,
                "created": 1_700_000_000,
                "is_im": True,
                "is_org_shared": False,
                "context_team_id": team_id,
                "user": self.im_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": self.kind == "channel",
            "is_group": self.kind == "group",
            "is_im": False,
            "is_mpim": self.kind == "mpim",
            "is_private": self.kind != "channel",
            "created": 1_700_000_000,
            "is_archived": self.is_archived,
            "is_general": self.id == GENERAL_CHANNEL_ID,
            "name_normalized": self.name,
            "is_shared": self.is_ext_shared,
            "is_ext_shared": self.is_ext_shared,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "context_team_id": team_id,
            "is_member": self.bot_is_member,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }


@dataclass
class Ephemeral:
    channel: str
    user: str | None
    text: str
    blocks: list[JSON] | None
    thread_ts: str | None
    via: Literal["chat.postEphemeral", "response_url"]
    message_ts: str | None = None

    @property
    def visible_text(self) -> str:
        return blocks_text(self.blocks) if self.blocks else self.text


@dataclass
class AssistantStatus:
    channel_id: str
    thread_ts: str
    status: str
    time: float


@dataclass
class RecordedCall:
    """One request the fake received, with what it answered."""

    method: str
    args: JSON
    time: float
    """The fake's (rate-limiter) clock when the request arrived."""
    wall_time: float
    http_method: str
    content_type: str
    token: str | None
    status: int = 0
    response: JSON = field(default_factory=dict)
    injected: bool = False
    """Answered by a failure from :meth:`FakeSlack.fail_next`."""

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.response.get("ok") is True

    @property
    def error(self) -> str | None:
        error = self.response.get("error")
        return error if isinstance(error, str) else None


@dataclass
class ResponseUrlPost:
    url_id: str
    body: JSON
    time: float


@dataclass
class UserPost:
    """A human message stored by :meth:`FakeSlack.post_as_user`, with the events Slack would send."""

    ts: str
    message_event: JSON
    app_mention_event: JSON | None

    @property
    def event(self) -> JSON:
        """The event a bot acts on: ``app_mention`` for a channel mention, else the ``message`` event."""
        return self.app_mention_event if self.app_mention_event is not None else self.message_event


@dataclass
class _Failure:
    status: int
    body: JSON
    retry_after: int | None
    delay: float
    apply: bool
    remaining: int


@dataclass
class _ResponseUrl:
    channel_id: str | None
    user_id: str | None
    message_ts: str | None
    posts: list[JSON] = field(default_factory=list)


class _ApiError(Exception):
    def __init__(
        self,
        error: str,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        extra: JSON | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


def _missing(name: str) -> _ApiError:
    return _ApiError(
        "invalid_arguments",
        extra={"response_metadata": {"messages": [f"[ERROR] missing required field: {name}"]}},
    )


# --------------------------------------------------------------------------------------------------
# argument coercion (form and query values are strings, JSON values are typed)


def _opt_str(args: Mapping[str, Any], key: str) -> str | None:
    value = args.get(key)
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _req_str(args: Mapping[str, Any], key: str) -> str:
    value = _opt_str(args, key)
    if not value:
        raise _missing(key)
    return value


def _opt_bool(args: Mapping[str, Any], key: str) -> bool | None:
    value = args.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes"}


def _int_arg(args: Mapping[str, Any], key: str, default: int) -> int:
    value = args.get(key)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _ApiError("invalid_arguments") from None


def _json_list(args: Mapping[str, Any], key: str, *, bad_format_error: str) -> list[Any] | None:
    value = args.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            return []
        try:
            value = json.loads(value)
        except ValueError:
            raise _ApiError(bad_format_error) from None
    if not isinstance(value, list):
        raise _ApiError(bad_format_error)
    return value


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    return int(seconds), int((micros or "0").ljust(6, "0")[:6])


def _encode_cursor(ts: str) -> str:
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def _decode_cursor(cursor: str) -> str:
    try:
        decoded = base64.b64decode(cursor.encode(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise _ApiError("invalid_cursor") from None
    prefix, _, ts = decoded.partition(":")
    if prefix != "next_ts" or not re.fullmatch(r"\d+\.\d{6}", ts):
        raise _ApiError("invalid_cursor")
    return ts


# --------------------------------------------------------------------------------------------------
# Block Kit: validation (the limits that matter to a streaming bot) and visible text


def _check_text_object(
    obj: Any, pointer: str, *, max_len: int, types: frozenset[str] = _TEXT_OBJECT_TYPES
) -> list[str]:
    if not isinstance(obj, dict):
        return [f"must be an object [json-pointer:{pointer}]"]
    errors: list[str] = []
    if obj.get("type") not in types:
        errors.append(f"must be one of {sorted(types)} [json-pointer:{pointer}/type]")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        errors.append(f"must be more than 0 characters [json-pointer:{pointer}/text]")
    elif len(text) > max_len:
        errors.append(f"must be less than {max_len + 1} characters [json-pointer:{pointer}/text]")
    return errors


def validate_blocks(blocks: Any, limits: SlackLimits | None = None) -> list[str]:
    """Block Kit errors in Slack's ``[json-pointer:...]`` style; empty when the blocks are acceptable."""
    limits = limits or SlackLimits()
    if not isinstance(blocks, list):
        return ["must be an array [json-pointer:/blocks]"]
    errors: list[str] = []
    if len(blocks) > limits.max_blocks:
        errors.append(f"no more than {limits.max_blocks} items allowed [json-pointer:/blocks]")
    markdown_chars = 0
    for index, block in enumerate(blocks):
        pointer = f"/blocks/{index}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(f"missing required field: type [json-pointer:{pointer}]")
            continue
        kind = block["type"]
        if kind not in _KNOWN_BLOCK_TYPES:
            errors.append(f"unsupported type: {kind} [json-pointer:{pointer}/type]")
        elif kind == "section":
            text, fields = block.get("text"), block.get("fields")
            if text is None and not fields:
                errors.append(f"must provide either text or fields [json-pointer:{pointer}]")
            if text is not None:
                errors += _check_text_object(text, f"{pointer}/text", max_len=limits.max_section_text_chars)
            if fields is not None:
                if not isinstance(fields, list) or len(fields) > 10:
                    errors.append(f"no more than 10 items allowed [json-pointer:{pointer}/fields]")
                else:
                    for i, item in enumerate(fields):
                        errors += _check_text_object(
                            item, f"{pointer}/fields/{i}", max_len=limits.max_section_field_chars
                        )
        elif kind == "header":
            errors += _check_text_object(
                block.get("text"),
                f"{pointer}/text",
                max_len=limits.max_header_text_chars,
                types=frozenset({"plain_text"}),
            )
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                errors.append(f"must have 1 to 10 items [json-pointer:{pointer}/elements]")
        elif kind == "markdown":
            text = block.get("text")
            if not isinstance(text, str) or not text:
                errors.append(f"must be more than 0 characters [json-pointer:{pointer}/text]")
            else:
                markdown_chars += len(text)
    if markdown_chars > _MAX_MARKDOWN_BLOCK_CHARS:
        errors.append(
            f"markdown blocks must have less than {_MAX_MARKDOWN_BLOCK_CHARS + 1} characters in total"
            " [json-pointer:/blocks]"
        )
    return errors


def _rich_inline_text(element: Mapping[str, Any]) -> str:
    kind = element.get("type")
    if kind == "text":
        return str(element.get("text", ""))
    if kind == "link":
        return str(element.get("text") or element.get("url", ""))
    if kind == "user":
        return f"<@{element.get('user_id', '')}>"
    if kind == "usergroup":
        return f"<!subteam^{element.get('usergroup_id', '')}>"
    if kind == "channel":
        return f"<#{element.get('channel_id', '')}>"
    if kind == "emoji":
        return f":{element.get('name', '')}:"
    if kind == "broadcast":
        return f"<!{element.get('range', '')}>"
    return ""


def _rich_text(block: Mapping[str, Any]) -> str:
    lines: list[str] = []
    for element in block.get("elements") or []:
        if not isinstance(element, dict):
            continue
        if element.get("type") == "rich_text_list":
            lines.append(_rich_text(element))
        else:
            lines.append("".join(_rich_inline_text(e) for e in element.get("elements") or []))
    return "\n".join(lines)


def blocks_text(blocks: Iterable[Mapping[str, Any]] | None) -> str:
    """The text a person reads in a list of blocks (one line per text-bearing part)."""
    parts: list[str] = []
    for block in blocks or []:
        kind = block.get("type")
        if kind in {"section", "header"}:
            text = block.get("text")
            if isinstance(text, dict):
                parts.append(str(text.get("text", "")))
            for item in block.get("fields") or []:
                if isinstance(item, dict):
                    parts.append(str(item.get("text", "")))
        elif kind == "context":
            for element in block.get("elements") or []:
                if isinstance(element, dict) and element.get("type") in _TEXT_OBJECT_TYPES:
                    parts.append(str(element.get("text", "")))
        elif kind == "markdown":
            parts.append(str(block.get("text", "")))
        elif kind == "rich_text":
            parts.append(_rich_text(block))
    return "\n".join(part for part in parts if part)


def rich_text_blocks(text: str) -> list[JSON]:
    """The ``rich_text`` block Slack's clients attach to a typed message (mentions as user elements)."""
    elements: list[JSON] = []
    position = 0
    for match in _MENTION_RE.finditer(text):
        if match.start() > position:
            elements.append({"type": "text", "text": text[position : match.start()]})
        elements.append({"type": "user", "user_id": match.group(1)})
        position = match.end()
    if position < len(text):
        elements.append({"type": "text", "text": text[position:]})
    block_id = hashlib.sha1(text.encode()).hexdigest()[:5]
    return [
        {
            "type": "rich_text",
            "block_id": block_id,
            "elements": [{"type": "rich_text_section", "elements": elements}],
        }
    ]


# --------------------------------------------------------------------------------------------------
# the fake Web API server


class FakeSlack:
    """An in-memory Slack workspace behind Slack's Web API, served by aiohttp on 127.0.0.1."""

    def __init__(
        self,
        *,
        limits: SlackLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
        team_id: str = TEAM_ID,
        team_domain: str = TEAM_DOMAIN,
        bot_token: str = BOT_TOKEN,
        app_token: str = APP_TOKEN,
        ts_start: float | None = TS_START,
        replies_parent_on_every_page: bool = True,
    ) -> None:
        """
        Args:
            limits: the enforced limits (defaults: :class:`SlackLimits`).
            clock: the rate limiters' clock (seconds); pass a :class:`ManualClock` to step time by hand.
            ts_start: the first message ``ts``; later ones grow by 100 µs. ``None``: follow the wall clock.
            replies_parent_on_every_page: ``conversations.replies`` repeats the parent message at the top of
                every page, not only the first (clients must de-duplicate by ``ts``; reports differ on
                whether Slack does this, so the stricter case is the default).
        """
        self.limits = limits or SlackLimits()
        self.team_id = team_id
        self.team_domain = team_domain
        self.bot_token = bot_token
        self.app_token = app_token
        self.valid_tokens: set[str] = {bot_token}
        self.replies_parent_on_every_page = replies_parent_on_every_page
        self._clock = clock
        self._wall_ts = ts_start is None
        self._last_ts_micros = round((ts_start or time.time()) * 1_000_000) - 100

        self.users: dict[str, FakeUser] = {}
        self.channels: dict[str, FakeChannel] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.assistant_statuses: list[AssistantStatus] = []
        self._current_status: dict[tuple[str, str], str] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self.response_url_posts: list[ResponseUrlPost] = []

        self._calls: list[RecordedCall] = []
        self._rate_limited = 0
        self._failures: dict[str, deque[_Failure]] = {}
        self._post_buckets: dict[str, tuple[float, float]] = {}
        self._update_times: dict[str, deque[float]] = {}  # per workspace
        self._replies_times: deque[float] = deque()
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self.message_listeners: list[Callable[[str, FakeMessage], None]] = []
        """Called with (method, message) after every successful ``chat.postMessage`` and ``chat.update``
        (benchmarks watch replies this way instead of scanning every channel)."""

        self._sockets: list[web.WebSocketResponse] = []
        self._socket_acks: dict[str, asyncio.Future[JSON]] = {}
        self._runner: web.AppRunner | None = None
        self._base_url = ""
        self._handlers: dict[str, Callable[[JSON], JSON]] = {
            "api.test": self._api_test,
            "apps.connections.open": self._apps_connections_open,
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.replies": self._conversations_replies,
            "conversations.history": self._conversations_history,
            "conversations.info": self._conversations_info,
            "conversations.open": self._conversations_open,
            "users.info": self._users_info,
            "usergroups.users.list": self._usergroups_users_list,
            "assistant.threads.setStatus": self._assistant_set_status,
            "reactions.add": self._reactions_add,
            "reactions.remove": self._reactions_remove,
        }

        self.bot_user = self.add_user(
            BOT_USER_ID, name=BOT_NAME, real_name="Support", is_bot=True, bot_id=BOT_ID
        )
        self.general = self.add_channel(GENERAL_CHANNEL_ID, name="general")

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{url_id}", self._handle_response_url)
        app.router.add_get("/socket/{socket_id}", self._handle_socket)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self._base_url = f"http://{host}:{port}"

    async def close(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        if not self._base_url:
            raise RuntimeError("FakeSlack is not started")
        return self._base_url

    @property
    def api_url(self) -> str:
        """The Web API base URL for ``AsyncWebClient(base_url=...)``; ends in ``/``."""
        return f"{self.base_url}/api/"

    def client(self, **kwargs: Any) -> AsyncWebClient:
        """A real ``AsyncWebClient`` with the bot token pointed at this fake (default retry handlers)."""
        kwargs.setdefault("token", self.bot_token)
        return AsyncWebClient(base_url=self.api_url, **kwargs)

    def event_sender(
        self, url: str, signing_secret: str = SIGNING_SECRET, *, team_id: str | None = None
    ) -> EventSender:
        """An :class:`EventSender` for this workspace (or for workspace ``team_id`` of the same install)
        whose slash commands get a response_url here."""
        return EventSender(
            url,
            signing_secret,
            team_id=team_id or self.team_id,
            team_domain=self.team_domain if team_id in (None, self.team_id) else team_id.lower(),
            response_url_factory=self.new_response_url,
        )

    # ---------------------------------------------------------------- test data

    def next_ts(self) -> str:
        """A fresh message ``ts``, later than every earlier one (``"1700000000.000100"`` style)."""
        micros = self._last_ts_micros + 100
        if self._wall_ts:
            micros = max(micros, round(time.time() * 1_000_000))
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def add_user(
        self,
        user_id: str | None = None,
        *,
        name: str = "user",
        real_name: str | None = None,
        display_name: str | None = None,
        team_id: str | None = None,
        external: bool = False,
        is_restricted: bool = False,
        is_ultra_restricted: bool = False,
        is_stranger: bool = False,
        is_admin: bool = False,
        is_bot: bool = False,
        bot_id: str | None = None,
        email: str | None = None,
        deleted: bool = False,
        enterprise_id: str | None = None,
    ) -> FakeUser:
        """Add a person (or bot). ``external=True`` makes a Slack Connect user of another team."""
        user = FakeUser(
            id=user_id or self._new_id("U"),
            name=name,
            real_name=real_name if real_name is not None else name.title(),
            display_name=display_name if display_name is not None else name,
            team_id=team_id or (EXTERNAL_TEAM_ID if external else self.team_id),
            is_bot=is_bot,
            bot_id=bot_id,
            is_restricted=is_restricted,
            is_ultra_restricted=is_ultra_restricted,
            is_stranger=is_stranger,
            is_admin=is_admin,
            deleted=deleted,
            email=email,
            enterprise_id=enterprise_id,
        )
        self.users[user.id] = user
        return user

    def add_channel(
        self,
        channel_id: str | None = None,
        *,
        name: str | None = None,
        private: bool = False,
        is_ext_shared: bool = False,
        is_archived: bool = False,
        bot_is_member: bool = True,
        members: Iterable[str] | None = None,
        team_id: str | None = None,
    ) -> FakeChannel:
        """``team_id``: the channel is in that workspace of the install (default: the fake's own)."""
        kind: ChannelKind = "group" if private else "channel"
        channel_id = channel_id or self._new_id("G" if private else "C")
        channel = FakeChannel(
            id=channel_id,
            name=name or channel_id.lower(),
            kind=kind,
            is_ext_shared=is_ext_shared,
            is_archived=is_archived,
            bot_is_member=bot_is_member,
            members=set(members) if members is not None else None,
            team_id=team_id,
        )
        self.channels[channel.id] = channel
        return channel

    def add_dm(self, user_id: str, channel_id: str | None = None) -> FakeChannel:
        """The bot's DM (``im``) with ``user_id``; returns the existing one if there is one."""
        for channel in self.channels.values():
            if channel.kind == "im" and channel.im_user == user_id:
                return channel
        channel = FakeChannel(
            id=channel_id or self._new_id("D"),
            name=user_id,
            kind="im",
            im_user=user_id,
            members={user_id, BOT_USER_ID},
        )
        self.channels[channel.id] = channel
        return channel

    def add_usergroup(self, users: Iterable[str], usergroup_id: str | None = None) -> str:
        group_id = usergroup_id or self._new_id("S")
        self.usergroups[group_id] = list(users)
        return group_id

    def _store(self, message: FakeMessage) -> None:
        channel = self.channels[message.channel]
        channel.messages[message.ts] = message
        message.versions.append(message.visible_text)
        if message.is_reply and message.thread_ts is not None:
            parent = channel.messages.get(message.thread_ts)
            if parent is not None and parent.thread_ts is None:
                parent.thread_ts = parent.ts

    def post_as_user(self, channel: str, user: str, text: str, thread_ts: str | None = None) -> UserPost:
        """Store a human's message as Slack would, returning its ts and the events Slack would send."""
        if channel not in self.channels:
            raise KeyError(f"unknown channel {channel!r}: add it with add_channel() or add_dm() first")
        if user not in self.users:
            raise KeyError(f"unknown user {user!r}: add it with add_user() first")
        conversation = self.channels[channel]
        if thread_ts is not None:
            parent = conversation.messages.get(thread_ts)
            if parent is not None and parent.is_reply and parent.thread_ts is not None:
                thread_ts = parent.thread_ts
        team = self.users[user].team_id
        message = FakeMessage(
            channel=channel,
            ts=self.next_ts(),
            text=text,
            user=user,
            blocks=rich_text_blocks(text),
            thread_ts=thread_ts,
            team=team,
        )
        self._store(message)
        parent_user = self._parent_user(conversation, thread_ts) if thread_ts else None
        message_event = message_event_payload(
            channel=channel,
            user=user,
            text=text,
            ts=message.ts,
            channel_type=conversation.channel_type,
            thread_ts=thread_ts,
            parent_user_id=parent_user,
            team=team,
            blocks=message.blocks,
        )
        mention_event = None
        if conversation.kind != "im" and mention(BOT_USER_ID) in text:
            mention_event = app_mention_event(
                user=user, text=text, channel=channel, ts=message.ts, thread_ts=thread_ts, team=team
            )
            mention_event["blocks"] = copy.deepcopy(message.blocks)
            if parent_user is not None:
                mention_event["parent_user_id"] = parent_user
        return UserPost(ts=message.ts, message_event=message_event, app_mention_event=mention_event)

    def _parent_user(self, channel: FakeChannel, thread_ts: str | None) -> str | None:
        parent = channel.messages.get(thread_ts) if thread_ts else None
        return parent.user if parent is not None else None

    # ---------------------------------------------------------------- assertions

    def message(self, channel: str, ts: str) -> FakeMessage:
        return self.channels[channel].messages[ts]

    def messages(self, channel: str) -> list[FakeMessage]:
        """Every message in ``channel`` that is not deleted, thread replies included, oldest first."""
        found = [m for m in self.channels[channel].messages.values() if not m.deleted]
        return sorted(found, key=lambda m: _ts_key(m.ts))

    def thread(self, channel: str, thread_ts: str) -> list[FakeMessage]:
        """The parent (when it still exists) then its replies, oldest first."""
        return [m for m in self.messages(channel) if m.ts == thread_ts or m.thread_ts == thread_ts]

    def visible_text(self, channel: str, ts: str) -> str:
        return self.message(channel, ts).visible_text

    def bot_messages(self, channel: str | None = None) -> list[FakeMessage]:
        """The bot's live messages (in ``channel`` or anywhere), oldest first."""
        channels = [channel] if channel is not None else list(self.channels)
        found = [m for c in channels for m in self.messages(c) if m.is_from_bot]
        return sorted(found, key=lambda m: _ts_key(m.ts))

    def assistant_status(self, channel_id: str, thread_ts: str) -> str | None:
        """The status line shown in an assistant thread now (cleared when the bot replies there)."""
        return self._current_status.get((channel_id, thread_ts))

    def calls(self, method: str | None = None) -> list[RecordedCall]:
        """Every request received (for ``method``), oldest first, failed and rate-limited ones included."""
        return [c for c in self._calls if method is None or c.method == method]

    def reset_calls(self) -> None:
        self._calls.clear()
        self._rate_limited = 0

    @property
    def rate_limited_count(self) -> int:
        """How many 429 answers were served (by the limiters or injected)."""
        return self._rate_limited

    async def wait_for(
        self, predicate: Callable[[], bool], *, seconds: float = 5.0, what: str = "condition"
    ) -> None:
        """Wait until ``predicate()`` holds (the app under test runs in the same event loop).

        It is checked after every request the fake answers, and every 50 ms besides.
        """
        try:
            async with asyncio.timeout(seconds):
                while not predicate():
                    changed = self._changed
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(changed.wait(), 0.05)
        except TimeoutError:
            raise TimeoutError(f"fake Slack: {what} not reached within {seconds} s") from None

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for_calls(
        self, method: str, count: int = 1, *, seconds: float = 5.0
    ) -> list[RecordedCall]:
        """Wait until ``method`` has been answered ``count`` times; returns all its calls so far."""
        await self.wait_for(
            lambda: sum(1 for c in self.calls(method) if c.status) >= count,
            seconds=seconds,
            what=f"{count} {method} call(s)",
        )
        return self.calls(method)

    # ---------------------------------------------------------------- failure injection

    def fail_next(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        delay: float = 0.0,
        apply: bool = False,
        body: JSON | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with a failure instead of handling them.

        ``status=429`` sends ``Retry-After`` (default 1 s) and ``ratelimited``; ``status=500`` sends
        ``internal_error``; ``status=200`` needs ``error=`` (``{"ok": false, "error": error}``).
        ``delay`` holds the answer back (for client timeouts); ``apply=True`` performs the call before
        answering with the failure (a request that took effect although the client saw it fail).
        Failures queue up in the order given.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        if status == 429:
            error = error or "ratelimited"
            retry_after = 1 if retry_after is None else retry_after
        elif status >= 500:
            error = error or "internal_error"
        elif error is None and body is None:
            raise ValueError("a failure with status 200 needs error= or body=")
        response = body if body is not None else {"ok": False, "error": error}
        self._failures.setdefault(method, deque()).append(
            _Failure(status, response, retry_after, delay, apply, times)
        )

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining <= 0:
            queue.popleft()
        return failure

    # ---------------------------------------------------------------- rate limits

    def _ratelimited(self, wait: float) -> _ApiError:
        retry_after = max(1, math.ceil(wait - 1e-9))
        return _ApiError("ratelimited", status=429, headers={"Retry-After": str(retry_after)})

    def _sliding_window(self, times: deque[float], limit: int, window: float, now: float) -> None:
        while times and times[0] <= now - window:
            times.popleft()
        if len(times) >= limit:
            raise self._ratelimited(times[0] + window - now)
        times.append(now)

    def _check_rate_limit(self, method: str, args: JSON) -> None:
        now = self._clock()
        limits = self.limits
        if method == "chat.postMessage":
            target = self._find_post_target(_opt_str(args, "channel") or "")
            key = target.id if target is not None else (_opt_str(args, "channel") or "")
            rate, burst = limits.post_message_per_second, max(1, limits.post_message_burst)
            tokens, last = self._post_buckets.get(key, (float(burst), now))
            tokens = min(float(burst), tokens + (now - last) * rate)
            if tokens < 1.0:
                self._post_buckets[key] = (tokens, now)
                raise self._ratelimited((1.0 - tokens) / rate)
            self._post_buckets[key] = (tokens - 1.0, now)
        elif method == "chat.update":
            channel = self.channels.get(_opt_str(args, "channel") or "")
            team = (channel.team_id if channel is not None else None) or self.team_id
            times = self._update_times.setdefault(team, deque())
            self._sliding_window(times, limits.update_limit, limits.update_window, now)
        elif method == "conversations.replies" and limits.replies_limit is not None:
            self._sliding_window(self._replies_times, limits.replies_limit, limits.replies_window, now)

    # ---------------------------------------------------------------- HTTP

    async def _parse_args(self, request: web.Request) -> tuple[JSON, str | None]:
        args: JSON = dict(request.query)
        body_token = args.pop("token", None)
        if request.method == "POST" and request.body_exists:
            if request.content_type == "application/json":
                raw = await request.read()
                try:
                    data = json.loads(raw) if raw.strip() else {}
                except ValueError:
                    raise _ApiError("invalid_json") from None
                if not isinstance(data, dict):
                    raise _ApiError("invalid_json")
                data.pop("token", None)  # Slack takes the token of a JSON call from the header only
                args.update(data)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, str):
                        args[key] = value
                form_token = args.pop("token", None)
                body_token = form_token if form_token is not None else body_token
        return {k: v for k, v in args.items() if v is not None}, body_token

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call = RecordedCall(
            method=method,
            args={},
            time=self._clock(),
            wall_time=time.time(),
            http_method=request.method,
            content_type=request.content_type,
            token=None,
        )
        self._calls.append(call)
        status, body, headers = await self._answer(request, method, call)
        call.status, call.response = status, body
        self._notify()
        return web.json_response(body, status=status, headers=headers)

    async def _answer(
        self, request: web.Request, method: str, call: RecordedCall
    ) -> tuple[int, JSON, dict[str, str]]:
        try:
            args, body_token = await self._parse_args(request)
        except _ApiError as exc:
            return exc.status, {"ok": False, "error": exc.error, **exc.extra}, exc.headers
        call.args = copy.deepcopy(args)
        authorization = request.headers.get("Authorization", "")
        token = authorization[7:].strip() if authorization.startswith("Bearer ") else body_token
        call.token = token
        handler = self._handlers.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method", "req_method": method}, {}
        if not token:
            return 200, {"ok": False, "error": "not_authed"}, {}
        if (method == "apps.connections.open") != (token == self.app_token):
            # An app-level token opens Socket Mode connections and does nothing else.
            allowed = token == self.app_token or token in self.valid_tokens
            return 200, {"ok": False, "error": "not_allowed_token_type" if allowed else "invalid_auth"}, {}
        if token not in self.valid_tokens and token != self.app_token:
            return 200, {"ok": False, "error": "invalid_auth"}, {}

        failure = self._take_failure(method)
        if failure is not None:
            call.injected = True
            if failure.delay:
                await asyncio.sleep(failure.delay)
            if failure.apply:
                with contextlib.suppress(_ApiError):
                    handler(args)
            if failure.status == 429:
                self._rate_limited += 1
            headers = {} if failure.retry_after is None else {"Retry-After": str(failure.retry_after)}
            return failure.status, copy.deepcopy(failure.body), headers

        try:
            self._check_rate_limit(method, args)
            result = handler(args)
        except _ApiError as exc:
            if exc.status == 429:
                self._rate_limited += 1
            return exc.status, {"ok": False, "error": exc.error, **exc.extra}, exc.headers
        return 200, {"ok": True, **result}, {}

    # ---------------------------------------------------------------- helpers for methods

    def _channel(self, args: JSON, key: str = "channel") -> FakeChannel:
        channel_id = _opt_str(args, key)
        if not channel_id:
            raise _ApiError("channel_not_found")
        channel = self.channels.get(channel_id)
        if channel is None:
            raise _ApiError("channel_not_found")
        return channel

    def _find_post_target(self, channel_id: str) -> FakeChannel | None:
        channel = self.channels.get(channel_id)
        if channel is None and channel_id in self.users and channel_id[:1] in {"U", "W"}:
            channel = self.add_dm(channel_id)  # posting to a user id opens the bot's DM with them
        return channel

    def _writable_channel(self, args: JSON) -> FakeChannel:
        channel = self._find_post_target(_opt_str(args, "channel") or "")
        if channel is None:
            raise _ApiError("channel_not_found")
        if channel.is_archived:
            raise _ApiError("is_archived")
        if channel.kind != "im" and not channel.bot_is_member:
            raise _ApiError("not_in_channel")
        return channel

    def _message_content(self, args: JSON) -> tuple[str | None, list[JSON] | None, bool]:
        """(text, blocks, blocks_given) after Slack's checks on size and Block Kit."""
        text = _opt_str(args, "text")
        markdown_text = _opt_str(args, "markdown_text")
        if markdown_text is not None:
            if text is not None or "blocks" in args:
                raise _ApiError("markdown_text_conflict")
            if len(markdown_text) > _MAX_MARKDOWN_BLOCK_CHARS:
                raise _ApiError("msg_too_long")
            text = markdown_text
        if text is not None and len(text) > self.limits.max_text_chars:
            raise _ApiError("msg_too_long")
        blocks_given = "blocks" in args
        blocks = _json_list(args, "blocks", bad_format_error="invalid_blocks_format")
        if blocks:
            errors = validate_blocks(blocks, self.limits)
            if errors:
                raise _ApiError(
                    "invalid_blocks",
                    extra={
                        "errors": errors,
                        "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]},
                    },
                )
        return text, blocks, blocks_given

    def _replies(self, channel: FakeChannel, thread_ts: str) -> list[FakeMessage]:
        found = [
            m
            for m in channel.messages.values()
            if m.thread_ts == thread_ts and m.ts != thread_ts and not m.deleted
        ]
        return sorted(found, key=lambda m: _ts_key(m.ts))

    def message_json(self, message: FakeMessage) -> JSON:
        """The message as the Web API returns it (``conversations.history``/``replies`` shape)."""
        channel = self.channels[message.channel]
        if message.deleted:
            return {
                "type": "message",
                "subtype": "tombstone",
                "text": "This message was deleted.",
                "user": "USLACKBOT",
                "hidden": True,
                "ts": message.ts,
                "thread_ts": message.thread_ts or message.ts,
            }
        data: JSON = {"type": "message"}
        if message.subtype:
            data["subtype"] = message.subtype
        data["text"] = message.text
        if message.user:
            data["user"] = message.user
        if message.bot_id:
            data["bot_id"] = message.bot_id
            if message.app_id:
                data["app_id"] = message.app_id
            if message.bot_id == BOT_ID:
                data["bot_profile"] = {
                    "id": BOT_ID,
                    "app_id": APP_ID,
                    "name": BOT_NAME,
                    "deleted": False,
                    "team_id": self.team_id,
                }
        data["ts"] = message.ts
        if message.team:
            data["team"] = message.team
        if message.blocks is not None:
            data["blocks"] = copy.deepcopy(message.blocks)
        if message.attachments:
            data["attachments"] = copy.deepcopy(message.attachments)
        if message.metadata is not None:
            data["metadata"] = copy.deepcopy(message.metadata)
        if message.edited is not None:
            data["edited"] = dict(message.edited)
        if message.thread_ts is not None:
            data["thread_ts"] = message.thread_ts
            if message.is_reply:
                parent = channel.messages.get(message.thread_ts)
                if parent is not None and parent.user:
                    data["parent_user_id"] = parent.user
            else:
                replies = self._replies(channel, message.ts)
                users = list(dict.fromkeys(r.user or r.bot_id or "" for r in replies))
                data.update(
                    reply_count=len(replies),
                    reply_users_count=len(users),
                    latest_reply=replies[-1].ts if replies else message.ts,
                    reply_users=users,
                    is_locked=False,
                    subscribed=False,
                )
        if message.reactions:
            data["reactions"] = [
                {"name": name, "users": list(users), "count": len(users)}
                for name, users in message.reactions.items()
            ]
        return data

    def _live_message(self, channel: FakeChannel, ts: str | None) -> FakeMessage:
        message = channel.messages.get(ts or "")
        if message is None or message.deleted:
            raise _ApiError("message_not_found")
        return message

    # ---------------------------------------------------------------- methods

    def _api_test(self, args: JSON) -> JSON:
        return {"args": args} if args else {}

    def _apps_connections_open(self, args: JSON) -> JSON:
        socket_id = uuid.uuid4().hex[:12]
        return {"url": f"{self.base_url.replace('http://', 'ws://', 1)}/socket/{socket_id}"}

    def _auth_test(self, args: JSON) -> JSON:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": TEAM_NAME,
            "user": BOT_NAME,
            "team_id": self.team_id,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, args: JSON) -> JSON:
        channel = self._writable_channel(args)
        text, blocks, _ = self._message_content(args)
        attachments = _json_list(args, "attachments", bad_format_error="invalid_attachments")
        if not text and not blocks and not attachments:
            raise _ApiError("no_text")
        thread_ts = _opt_str(args, "thread_ts") or None
        if thread_ts is not None:
            parent = channel.messages.get(thread_ts)
            if parent is not None and parent.is_reply and parent.thread_ts is not None:
                thread_ts = parent.thread_ts  # a reply to a reply lands in the same thread
        metadata = args.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata) if metadata else None
        message = FakeMessage(
            channel=channel.id,
            ts=self.next_ts(),
            text=text or "",
            user=BOT_USER_ID,
            bot_id=BOT_ID,
            app_id=APP_ID,
            blocks=blocks or None,
            attachments=attachments or None,
            thread_ts=thread_ts,
            team=channel.team_id or self.team_id,
            reply_broadcast=bool(_opt_bool(args, "reply_broadcast")),
            unfurl_links=_opt_bool(args, "unfurl_links"),
            unfurl_media=_opt_bool(args, "unfurl_media"),
            metadata=metadata if isinstance(metadata, dict) else None,
        )
        self._store(message)
        if thread_ts is not None:
            self._current_status.pop((channel.id, thread_ts), None)  # a reply clears the status
        for listener in self.message_listeners:
            listener("chat.postMessage", message)
        return {"channel": channel.id, "ts": message.ts, "message": self.message_json(message)}

    def _chat_update(self, args: JSON) -> JSON:
        channel = self._channel(args)
        message = self._live_message(channel, _opt_str(args, "ts"))
        if message.bot_id != BOT_ID:
            raise _ApiError("cant_update_message")
        text, blocks, blocks_given = self._message_content(args)
        attachments = _json_list(args, "attachments", bad_format_error="invalid_attachments")
        if text is None and not blocks_given and attachments is None:
            raise _ApiError("no_text")
        if text is not None:
            message.text = text
        if blocks_given:
            message.blocks = blocks or None  # an empty list removes the blocks
        if attachments is not None:
            message.attachments = attachments or None
        message.edited = {"user": BOT_USER_ID, "ts": self.next_ts()}
        message.update_count += 1
        message.versions.append(message.visible_text)
        for listener in self.message_listeners:
            listener("chat.update", message)
        return {
            "channel": channel.id,
            "ts": message.ts,
            "text": message.text,
            "message": self.message_json(message),
        }

    def _chat_delete(self, args: JSON) -> JSON:
        channel = self._channel(args)
        message = self._live_message(channel, _opt_str(args, "ts"))
        if message.bot_id != BOT_ID:
            raise _ApiError("cant_delete_message")
        message.deleted = True
        return {"channel": channel.id, "ts": message.ts}

    def _chat_post_ephemeral(self, args: JSON) -> JSON:
        channel = self._writable_channel(args)
        user = _req_str(args, "user")
        if user not in self.users:
            raise _ApiError("user_not_found")
        if channel.members is not None and user not in channel.members:
            raise _ApiError("user_not_in_channel")
        text, blocks, _ = self._message_content(args)
        if not text and not blocks:
            raise _ApiError("no_text")
        message_ts = self.next_ts()
        self.ephemerals.append(
            Ephemeral(
                channel=channel.id,
                user=user,
                text=text or "",
                blocks=blocks or None,
                thread_ts=_opt_str(args, "thread_ts"),
                via="chat.postEphemeral",
                message_ts=message_ts,
            )
        )
        return {"message_ts": message_ts}

    def _chat_get_permalink(self, args: JSON) -> JSON:
        channel = self._channel(args)
        message = self._live_message(channel, _opt_str(args, "message_ts"))
        link = f"https://{self.team_domain}.slack.com/archives/{channel.id}/p{message.ts.replace('.', '')}"
        if message.is_reply:
            link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
        return {"channel": channel.id, "permalink": link}

    def _conversations_replies(self, args: JSON) -> JSON:
        channel = self._channel(args)
        ts = _req_str(args, "ts")
        message = channel.messages.get(ts)
        if message is None:
            raise _ApiError("thread_not_found")
        root_ts = message.thread_ts or message.ts
        parent = channel.messages.get(root_ts)
        replies = self._replies(channel, root_ts)
        if parent is None or (parent.deleted and not replies):
            raise _ApiError("thread_not_found")
        inclusive = bool(_opt_bool(args, "inclusive"))
        oldest, latest = _opt_str(args, "oldest"), _opt_str(args, "latest")
        if oldest:
            low = _ts_key(oldest)
            replies = [r for r in replies if _ts_key(r.ts) > low or (inclusive and _ts_key(r.ts) == low)]
        if latest:
            high = _ts_key(latest)
            replies = [r for r in replies if _ts_key(r.ts) < high or (inclusive and _ts_key(r.ts) == high)]
        limit = min(max(_int_arg(args, "limit", 1000), 1), 1000)
        cursor = _opt_str(args, "cursor")
        start = 0
        if cursor:
            after = _ts_key(_decode_cursor(cursor))
            start = next((i for i, r in enumerate(replies) if _ts_key(r.ts) >= after), len(replies))
        with_parent = not cursor or self.replies_parent_on_every_page
        count = limit - 1 if with_parent else limit  # the parent counts against the limit
        if count == 0 and cursor:
            count = 1  # a later page that repeats the parent still makes progress
        page = replies[start : start + count]
        has_more = start + count < len(replies)
        messages = [self.message_json(parent)] if with_parent else []
        messages += [self.message_json(r) for r in page]
        next_cursor = _encode_cursor(replies[start + count].ts) if has_more else ""
        return {
            "messages": messages,
            "has_more": has_more,
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _conversations_history(self, args: JSON) -> JSON:
        channel = self._channel(args)
        top_level = [
            m for m in channel.messages.values() if not m.deleted and (not m.is_reply or m.reply_broadcast)
        ]
        top_level.sort(key=lambda m: _ts_key(m.ts), reverse=True)
        inclusive = bool(_opt_bool(args, "inclusive"))
        oldest, latest = _opt_str(args, "oldest"), _opt_str(args, "latest")
        if oldest:
            low = _ts_key(oldest)
            top_level = [m for m in top_level if _ts_key(m.ts) > low or (inclusive and _ts_key(m.ts) == low)]
        if latest:
            high = _ts_key(latest)
            top_level = [
                m for m in top_level if _ts_key(m.ts) < high or (inclusive and _ts_key(m.ts) == high)
            ]
        limit = min(max(_int_arg(args, "limit", 100), 1), 999)
        cursor = _opt_str(args, "cursor")
        start = 0
        if cursor:
            before = _ts_key(_decode_cursor(cursor))
            start = next((i for i, m in enumerate(top_level) if _ts_key(m.ts) <= before), len(top_level))
        page = top_level[start : start + limit]
        has_more = start + limit < len(top_level)
        return {
            "messages": [self.message_json(m) for m in page],
            "has_more": has_more,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {
                "next_cursor": _encode_cursor(top_level[start + limit].ts) if has_more else ""
            },
        }

    def _conversations_info(self, args: JSON) -> JSON:
        channel = self._channel(args)
        return {"channel": channel.to_api(channel.team_id or self.team_id)}

    def _conversations_open(self, args: JSON) -> JSON:
        channel_id = _opt_str(args, "channel")
        if channel_id:
            return {"channel": {"id": self._channel(args).id}}
        users = [u for u in (_opt_str(args, "users") or "").split(",") if u]
        if len(users) != 1:
            raise _missing("users") if not users else _ApiError("not_supported")
        if users[0] not in self.users:
            raise _ApiError("user_not_found")
        existed = any(c.kind == "im" and c.im_user == users[0] for c in self.channels.values())
        channel = self.add_dm(users[0])
        result: JSON = {"channel": {"id": channel.id}}
        if existed:
            result["already_open"] = True
        return result

    def _users_info(self, args: JSON) -> JSON:
        user = self.users.get(_req_str(args, "user"))
        if user is None:
            raise _ApiError("user_not_found")
        return {"user": user.to_api()}

    def _usergroups_users_list(self, args: JSON) -> JSON:
        group = _req_str(args, "usergroup")
        if group not in self.usergroups:
            raise _ApiError("no_such_subteam")
        return {"users": list(self.usergroups[group])}

    def _assistant_set_status(self, args: JSON) -> JSON:
        channel = self._channel(args, "channel_id")
        thread_ts = _req_str(args, "thread_ts")
        status = _opt_str(args, "status")
        if status is None:
            raise _missing("status")
        self.assistant_statuses.append(AssistantStatus(channel.id, thread_ts, status, self._clock()))
        if status:
            self._current_status[(channel.id, thread_ts)] = status
        else:
            self._current_status.pop((channel.id, thread_ts), None)
        return {}

    def _reaction_target(self, args: JSON) -> tuple[FakeMessage, str]:
        channel = self._channel(args)
        message = self._live_message(channel, _opt_str(args, "timestamp"))
        name = (_opt_str(args, "name") or "").strip(":")
        if not name:
            raise _ApiError("invalid_name")
        return message, name

    def _reactions_add(self, args: JSON) -> JSON:
        message, name = self._reaction_target(args)
        users = message.reactions.setdefault(name, [])
        if BOT_USER_ID in users:
            raise _ApiError("already_reacted")
        users.append(BOT_USER_ID)
        return {}

    def _reactions_remove(self, args: JSON) -> JSON:
        message, name = self._reaction_target(args)
        users = message.reactions.get(name, [])
        if BOT_USER_ID not in users:
            raise _ApiError("no_reaction")
        users.remove(BOT_USER_ID)
        if not users:
            del message.reactions[name]
        return {}

    # ---------------------------------------------------------------- Socket Mode

    @property
    def socket_connected(self) -> bool:
        """An app is connected over Socket Mode."""
        return bool(self._sockets)

    async def send_socket_mode(
        self,
        kind: Literal["events_api", "slash_commands", "interactive"],
        payload: JSON,
        *,
        seconds: float = 5.0,
    ) -> JSON:
        """Send an envelope to the connected app and return its acknowledgement (``envelope_id`` and, for
        commands and interactions, maybe a ``payload``). ``payload`` is what Slack would POST over HTTP: an
        ``event_callback`` envelope, or a slash command's or interaction's fields as a JSON object."""
        if not self._sockets:
            raise RuntimeError("no app is connected over Socket Mode")
        envelope_id = str(uuid.uuid4())
        acked: asyncio.Future[JSON] = asyncio.get_running_loop().create_future()
        self._socket_acks[envelope_id] = acked
        await self._sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        try:
            async with asyncio.timeout(seconds):
                return await acked
        except TimeoutError:
            raise TimeoutError(
                f"fake Slack: envelope {envelope_id} not acknowledged in {seconds} s"
            ) from None
        finally:
            self._socket_acks.pop(envelope_id, None)

    async def _handle_socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets),
                "debug_info": {"host": "fake-slack", "approximate_connection_time": 18060},
                "connection_info": {"app_id": APP_ID},
            }
        )
        self._notify()
        try:
            async for message in socket:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                with contextlib.suppress(ValueError):
                    ack = json.loads(message.data)
                    acked = (
                        self._socket_acks.get(str(ack.get("envelope_id"))) if isinstance(ack, dict) else None
                    )
                    if acked is not None and not acked.done():
                        acked.set_result(ack)
        finally:
            self._sockets.remove(socket)
            self._notify()
        return socket

    # ---------------------------------------------------------------- response_url

    def new_response_url(
        self,
        *,
        channel_id: str | None = None,
        user_id: str | None = None,
        message_ts: str | None = None,
    ) -> str:
        """A ``response_url`` (slash command or interaction) served by this fake."""
        url_id = uuid.uuid4().hex[:16]
        self._response_urls[url_id] = _ResponseUrl(channel_id, user_id, message_ts)
        return f"{self.base_url}/response/{url_id}"

    def response_posts(self, url: str | None = None) -> list[JSON]:
        """What the app posted to ``url`` (or to any response_url), oldest first."""
        url_id = url.rstrip("/").rsplit("/", 1)[-1] if url else None
        return [p.body for p in self.response_url_posts if url_id is None or p.url_id == url_id]

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        url_id = request.match_info["url_id"]
        target = self._response_urls.get(url_id)
        if target is None:
            return web.json_response({"ok": False, "error": "no_such_url"}, status=404)
        try:
            body = json.loads(await request.read())
        except ValueError:
            return web.json_response({"ok": False, "error": "invalid_json"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"ok": False, "error": "invalid_json"}, status=400)
        if len(target.posts) >= 5:  # Slack allows five uses of one response_url
            return web.json_response({"ok": False, "error": "used_url"}, status=404)
        target.posts.append(body)
        self.response_url_posts.append(ResponseUrlPost(url_id, body, self._clock()))
        self._apply_response(target, body)
        self._notify()
        return web.json_response({"ok": True})

    def _apply_response(self, target: _ResponseUrl, body: JSON) -> None:
        channel = self.channels.get(target.channel_id or "")
        text = str(body.get("text") or "")
        raw_blocks = body.get("blocks")
        blocks = raw_blocks if isinstance(raw_blocks, list) and raw_blocks else None
        original = channel.messages.get(target.message_ts or "") if channel is not None else None
        if body.get("delete_original") and original is not None:
            original.deleted = True
        elif body.get("replace_original") and original is not None:
            original.text, original.blocks = text, blocks
            original.edited = {"user": BOT_USER_ID, "ts": self.next_ts()}
            original.versions.append(original.visible_text)
        elif body.get("response_type") == "in_channel" and channel is not None:
            thread_ts = body.get("thread_ts")
            self._store(
                FakeMessage(
                    channel=channel.id,
                    ts=self.next_ts(),
                    text=text,
                    user=BOT_USER_ID,
                    bot_id=BOT_ID,
                    app_id=APP_ID,
                    blocks=blocks,
                    thread_ts=thread_ts if isinstance(thread_ts, str) else None,
                    team=self.team_id,
                )
            )
        else:
            self.ephemerals.append(
                Ephemeral(
                    channel=target.channel_id or "",
                    user=target.user_id,
                    text=text,
                    blocks=blocks,
                    thread_ts=None,
                    via="response_url",
                )
            )


@pytest_asyncio.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """A started :class:`FakeSlack` with default limits."""
    async with FakeSlack() as fake:
        yield fake


# --------------------------------------------------------------------------------------------------
# Events API payloads with Slack's shapes


def _wall_ts() -> str:
    micros = round(time.time() * 1_000_000)
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def app_mention_event(
    *,
    user: str,
    text: str,
    channel: str,
    ts: str,
    thread_ts: str | None = None,
    team: str = TEAM_ID,
) -> JSON:
    """An ``app_mention`` event; put ``mention()`` (``<@U0BOT>``) in ``text`` yourself."""
    event: JSON = {
        "type": "app_mention",
        "user": user,
        "ts": ts,
        "client_msg_id": str(uuid.uuid4()),
        "text": text,
        "team": team,
        "blocks": rich_text_blocks(text),
        "channel": channel,
        "event_ts": ts,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event


def message_event_payload(
    *,
    channel: str,
    user: str,
    text: str,
    ts: str,
    channel_type: ChannelKind,
    thread_ts: str | None,
    parent_user_id: str | None,
    team: str,
    blocks: list[JSON] | None,
) -> JSON:
    event: JSON = {
        "type": "message",
        "user": user,
        "ts": ts,
        "client_msg_id": str(uuid.uuid4()),
        "text": text,
        "team": team,
        "blocks": copy.deepcopy(blocks) if blocks is not None else rich_text_blocks(text),
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
        if parent_user_id is not None:
            event["parent_user_id"] = parent_user_id
    return event


MessageSubtype: TypeAlias = Literal["bot_message", "message_changed", "message_deleted", "channel_join"]


def message_event(
    *,
    channel: str,
    ts: str | None = None,
    text: str = "",
    user: str | None = None,
    channel_type: ChannelKind = "channel",
    thread_ts: str | None = None,
    parent_user_id: str | None = None,
    subtype: MessageSubtype | None = None,
    bot_id: str | None = None,
    previous_text: str | None = None,
    event_ts: str | None = None,
    team: str = TEAM_ID,
) -> JSON:
    """A ``message`` event as the Events API delivers it.

    - no subtype: a person's message (``user`` required); with ``bot_id`` (and ``user=BOT_USER_ID``) the
      echo of a message an app posted, which carries no subtype but a ``bot_id``;
    - ``bot_message``: a legacy bot/integration post (``bot_id``, no ``user``);
    - ``message_changed``: ``ts`` is the edited message, ``text`` its new text, ``previous_text`` the old;
    - ``message_deleted``: ``ts`` is the deleted message;
    - ``channel_join``: ``user`` joined ``channel``.

    ``event_ts`` defaults to ``ts`` for new messages and to the current time for changes and deletions.
    """
    ts = ts or _wall_ts()
    if subtype == "message_changed" or subtype == "message_deleted":
        when = event_ts or _wall_ts()
        previous: JSON = {"type": "message", "text": previous_text or "", "ts": ts}
        if user is not None:
            previous["user"] = user
        if bot_id is not None:
            previous["bot_id"] = bot_id
        if thread_ts is not None:
            previous["thread_ts"] = thread_ts
        event: JSON = {
            "type": "message",
            "subtype": subtype,
            "hidden": True,
            "channel": channel,
            "ts": when,
            "event_ts": when,
            "channel_type": channel_type,
            "previous_message": previous,
        }
        if subtype == "message_changed":
            changed = dict(previous, text=text, edited={"user": user or "", "ts": when})
            if bot_id is None:
                changed["blocks"] = rich_text_blocks(text)
            event["message"] = changed
        else:
            event["deleted_ts"] = ts
        return event
    event = {"type": "message"}
    if subtype == "bot_message":
        event.update(subtype="bot_message", bot_id=bot_id or "B0OTHERBOT", username="other bot")
    elif subtype == "channel_join":
        if user is None:
            raise ValueError("channel_join needs user=")
        event.update(subtype="channel_join", user=user)
        text = text or f"<@{user}> has joined the channel"
    else:
        if user is None:
            raise ValueError("a message event without a subtype needs user=")
        event["user"] = user
        if bot_id is not None:
            event.update(bot_id=bot_id, app_id=APP_ID if bot_id == BOT_ID else "A0OTHERAPP")
        else:
            event.update(client_msg_id=str(uuid.uuid4()), blocks=rich_text_blocks(text))
    event.update(text=text, ts=ts, team=team, channel=channel, event_ts=event_ts or ts)
    event["channel_type"] = channel_type
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
        if parent_user_id is not None:
            event["parent_user_id"] = parent_user_id
    return event


def block_actions_payload(
    *,
    user_id: str,
    channel_id: str,
    message_ts: str,
    action_id: str,
    value: str | None = None,
    block_id: str = "actions",
    response_url: str | None = None,
    thread_ts: str | None = None,
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    message: JSON | None = None,
) -> JSON:
    """A ``block_actions`` interaction payload for a button click on a message."""
    container: JSON = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel_id,
        "is_ephemeral": False,
    }
    if thread_ts is not None:
        container["thread_ts"] = thread_ts
    action: JSON = {
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": action_id, "emoji": True},
        "type": "button",
        "action_ts": _wall_ts(),
    }
    if value is not None:
        action["value"] = value
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": f"{next(_trigger_ids)}.{team_id}.fake",
        "team": {"id": team_id, "domain": team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_id.lower()},
        "message": message or {"type": "message", "ts": message_ts, "text": ""},
        "state": {"values": {}},
        "response_url": response_url or f"https://hooks.slack.com/actions/{team_id}/1/fake",
        "actions": [action],
    }


# --------------------------------------------------------------------------------------------------
# delivering signed requests to an app, as Slack does


_event_ids = itertools.count(1)
_trigger_ids = itertools.count(1_000_000)


def slack_signature(signing_secret: str, timestamp: int | str, body: bytes | str) -> str:
    """Slack's request signature: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    raw = body.encode() if isinstance(body, str) else body
    base = f"v0:{timestamp}:".encode() + raw
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


class Delivery(NamedTuple):
    """The app's answer to one delivered request."""

    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def reply_text(self) -> str:
        """The message in an acknowledgement: Slack takes a JSON ``{"text": ...}`` or a plain-text body."""
        if self.body.lstrip().startswith("{"):
            data = json.loads(self.body)
            return str(data.get("text", "")) if isinstance(data, dict) else ""
        return self.body


@dataclass
class SentRequest:
    kind: Literal["event", "url_verification", "slash_command", "interaction"]
    body: bytes
    headers: dict[str, str]
    status: int
    response: str


class EventSender:
    """Sends Events API callbacks, slash commands and interactions to an app, signed like Slack."""

    def __init__(
        self,
        url: str,
        signing_secret: str = SIGNING_SECRET,
        *,
        team_id: str = TEAM_ID,
        team_domain: str = TEAM_DOMAIN,
        api_app_id: str = APP_ID,
        bot_user_id: str = BOT_USER_ID,
        verification_token: str = VERIFICATION_TOKEN,
        response_url_factory: Callable[..., str] | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.team_domain = team_domain
        self.api_app_id = api_app_id
        self.bot_user_id = bot_user_id
        self.verification_token = verification_token
        self.response_url_factory = response_url_factory
        self.timeout = timeout
        self.sent: list[SentRequest] = []
        self.last_response_url: str | None = None

    def sign(self, body: bytes | str, timestamp: int | str) -> str:
        return slack_signature(self.signing_secret, timestamp, body)

    def envelope(
        self,
        event: JSON,
        *,
        event_id: str | None = None,
        event_time: int | None = None,
        host_team_id: str | None = None,
        host_enterprise_id: str | None = None,
        enterprise_id: str | None = None,
        authorizations: bool = True,
    ) -> JSON:
        """The ``event_callback`` envelope around ``event``; reuse it to redeliver the same event.

        For a Slack Connect channel that another organisation created, ``host_team_id`` (and
        ``host_enterprise_id``) are that organisation's: Slack puts them in the envelope's ``team_id`` and
        ``enterprise_id``, while ``authorizations`` and ``context_team_id`` name this installation
        (``enterprise_id``: its Grid organisation). ``authorizations=False`` leaves the list out, as the
        envelopes that carry only the ``context_*`` fields do.
        """
        shared = host_team_id is not None and host_team_id != self.team_id
        envelope: JSON = {
            "token": self.verification_token,
            "team_id": host_team_id or self.team_id,
            "enterprise_id": host_enterprise_id if shared else enterprise_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": enterprise_id,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_event_ids):010d}",
            "event_time": event_time if event_time is not None else int(time.time()),
            "is_ext_shared_channel": shared,
            "event_context": "4-" + base64.b64encode(uuid.uuid4().bytes).decode().rstrip("="),
        }
        if authorizations:
            envelope["authorizations"] = [
                {
                    "enterprise_id": enterprise_id,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ]
        return envelope

    async def post_signed(
        self,
        kind: Literal["event", "url_verification", "slash_command", "interaction"],
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Delivery:
        """POST ``body`` with Slack's headers; ``timestamp``/``signature`` override the real ones."""
        stamp = timestamp if timestamp is not None else int(time.time())
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": signature if signature is not None else self.sign(body, stamp),
            **(extra_headers or {}),
        }
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(self.url, data=body, headers=headers) as response,
        ):
            text = await response.text()
            status = response.status
        self.sent.append(SentRequest(kind, body, headers, status, text))
        return Delivery(status, text)

    async def send_envelope(
        self,
        envelope: JSON,
        *,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> Delivery:
        extra: dict[str, str] = {}
        if retry_num is not None:
            extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        body = json.dumps(envelope, separators=(",", ":")).encode()
        return await self.post_signed(
            "event",
            body,
            "application/json",
            timestamp=timestamp,
            signature=signature,
            extra_headers=extra,
        )

    async def send_event(
        self,
        event: JSON,
        *,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        timestamp: int | None = None,
        signature: str | None = None,
        event_id: str | None = None,
    ) -> Delivery:
        """Deliver ``event`` in an ``event_callback`` envelope (pass the same ``event_id`` to redeliver)."""
        return await self.send_envelope(
            self.envelope(event, event_id=event_id),
            retry_num=retry_num,
            retry_reason=retry_reason,
            timestamp=timestamp,
            signature=signature,
        )

    async def send_url_verification(
        self, challenge: str | None = None, *, timestamp: int | None = None, signature: str | None = None
    ) -> Delivery:
        body = {
            "token": self.verification_token,
            "challenge": challenge or uuid.uuid4().hex,
            "type": "url_verification",
        }
        return await self.post_signed(
            "url_verification",
            json.dumps(body, separators=(",", ":")).encode(),
            "application/json",
            timestamp=timestamp,
            signature=signature,
        )

    async def send_slash_command(
        self,
        command: str = "/support",
        text: str = "",
        *,
        user_id: str,
        channel_id: str,
        user_name: str | None = None,
        channel_name: str | None = None,
        response_url: str | None = None,
        trigger_id: str | None = None,
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> Delivery:
        """A slash command, form-encoded like Slack's; ``last_response_url`` is where replies may go."""
        if response_url is None:
            if self.response_url_factory is not None:
                response_url = self.response_url_factory(channel_id=channel_id, user_id=user_id)
            else:
                response_url = f"https://hooks.slack.com/commands/{self.team_id}/1/fake"
        self.last_response_url = response_url
        form = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name or channel_id.lower(),
            "user_id": user_id,
            "user_name": user_name or user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id or f"{next(_trigger_ids)}.{self.team_id}.fake",
        }
        return await self.post_signed(
            "slash_command",
            urlencode(form).encode(),
            "application/x-www-form-urlencoded",
            timestamp=timestamp,
            signature=signature,
        )

    async def send_interaction(
        self, payload: JSON, *, timestamp: int | None = None, signature: str | None = None
    ) -> Delivery:
        """An interaction (``block_actions`` and the like): form-encoded ``payload=<json>``."""
        if isinstance(payload.get("response_url"), str):
            self.last_response_url = payload["response_url"]
        body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()
        return await self.post_signed(
            "interaction",
            body,
            "application/x-www-form-urlencoded",
            timestamp=timestamp,
            signature=signature,
        )
