"""The one place that reads Slack's inbound payloads: Events API events, slash commands, button clicks.

Each payload becomes a small typed value, or None when it is not for the bot or is malformed (logged,
never raised). What an event means for the bot is decided here too: which messages are answered, which
only in a thread the bot already answers in, and which are ignored (the bot's own messages, other bots
unless the channel says otherwise, edits, deletions, joins and the like).
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.attachments import file_line
from bot.config import ChannelOverride
from bot.inbound import Inbound
from bot.names import one_line_name
from bot.types import Principal, ThreadRef

log = logging.getLogger(__name__)

PLATFORM = "slack"
DM_THREAD = "dm"
"""The thread id of the top-level exchange in a direct message: the bot answers there without a thread."""

# Message subtypes that are a person (or a bot) saying something; every other subtype (message_changed,
# message_deleted, channel_join, channel_topic, …) is ignored.
SPOKEN_SUBTYPES = frozenset({None, "bot_message", "thread_broadcast", "file_share", "me_message"})
_TS = re.compile(r"\d{1,10}\.\d{1,6}")  # seconds since 1970 (ten digits last until the year 2286)
_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
_CHANNEL_LINK = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>|<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>")
MAX_FILES = 10
"""Files read from one message (Slack attaches at most 10 to a message)."""
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")


@dataclass(frozen=True)
class BotIdentity:
    """The bot's own ids and its installation (from ``auth.test``, as slack-bolt keeps them)."""

    user_id: str
    bot_id: str | None = None
    team_id: str | None = None
    """The installing workspace."""
    enterprise_id: str | None = None
    """The installing workspace's Enterprise Grid organisation, if it has one."""

    def workspace(self, claimed_team: str | None, claimed_enterprise: str | None) -> tuple[str, str | None]:
        """The installing workspace (and organisation) a slash command or a click is for.

        These payloads carry no ``authorizations``; the team they name is the person's own, which in a
        Slack Connect channel is another organisation's. It is taken only when it is the installation or
        belongs to the installation's Grid organisation (an org-wide install); otherwise the installing
        workspace is.
        """
        if self.team_id is None:  # not yet authorised: only payloads read outside slack-bolt
            if not claimed_team:
                raise ValueError("no team_id")
            return claimed_team, claimed_enterprise
        ours = claimed_team == self.team_id or (
            self.enterprise_id is not None and claimed_enterprise == self.enterprise_id
        )
        return (claimed_team if ours and claimed_team else self.team_id), self.enterprise_id


@dataclass(frozen=True)
class SlackFile:
    """A file object of a message (the fields the bot reads; ``integrations.slack.files`` downloads it)."""

    name: str
    mimetype: str | None
    size: int
    url: str | None
    """``url_private_download``, else ``url_private``; None when Slack gave neither (e.g. a file hidden
    by the workspace's retention, or an external file)."""

    @property
    def line(self) -> str:
        """The line naming it in its message's text (``bot.attachments.file_line``)."""
        return file_line(self.name, self.mimetype, self.size)


@dataclass(frozen=True)
class SlackMessage:
    """A message the bot may answer."""

    team_id: str
    """The installing workspace (see :func:`installation`), never the envelope's ``team_id``."""
    channel_id: str
    user_id: str
    """The author: a user id, or the bot id of another bot that posted without a user."""
    text: str
    """As Slack sent it (mentions as ``<@U…>``, ``&lt;`` escapes)."""
    ts: str
    thread_ts: str | None
    is_dm: bool
    follow_up: bool
    """A message in a thread without a mention: answered only where the bot already answers."""
    bot_name: str | None = None
    """Set when another bot wrote it."""
    enterprise_id: str | None = None
    """The installing workspace's Enterprise Grid organisation."""
    files: tuple[SlackFile, ...] = ()
    """The files shared with it."""

    @property
    def in_dm_exchange(self) -> bool:
        """Top level of a direct message: answered there, with the recent exchange as history."""
        return self.is_dm and self.thread_ts is None

    @property
    def ref(self) -> ThreadRef:
        return thread_ref(self.team_id, self.channel_id, self.thread_ts or self.ts, dm=self.in_dm_exchange)

    @property
    def reply_thread_ts(self) -> str | None:
        """Where the answer goes: the message's thread (a new one under it), or the DM itself."""
        return None if self.in_dm_exchange else self.thread_ts or self.ts

    @property
    def dedup_key(self) -> str:
        """The same for every delivery of this message (retries, and app_mention next to message)."""
        return f"slack:{self.team_id}:{self.channel_id}:{self.ts}"

    def to_inbound(self, principal: Principal, text: str) -> Inbound:
        """The core's view of this message; ``text`` is the cleaned text (see :func:`clean_text`)."""
        return Inbound(
            ref=self.ref,
            principal=principal,
            text=text,
            message_id=self.ts,
            sent_at=ts_time(self.ts),
            event_id=self.dedup_key,
        )


@dataclass(frozen=True)
class SlashCommand:
    team_id: str
    channel_id: str
    user_id: str
    text: str
    enterprise_id: str | None = None


@dataclass(frozen=True)
class ButtonClick:
    action_id: str
    value: str
    team_id: str
    user_id: str
    channel_id: str
    message_ts: str
    thread_ts: str | None
    enterprise_id: str | None = None

    @property
    def ref(self) -> ThreadRef:
        """The thread of the message the button is on."""
        dm = self.channel_id.startswith("D") and self.thread_ts is None
        return thread_ref(self.team_id, self.channel_id, self.thread_ts or self.message_ts, dm=dm)


def thread_ref(team_id: str, channel_id: str, thread_ts: str, *, dm: bool = False) -> ThreadRef:
    return ThreadRef(PLATFORM, team_id, channel_id, DM_THREAD if dm else thread_ts)


def parse_thread_key(key: str) -> ThreadRef | None:
    """The Slack thread whose ``ThreadRef.key`` is ``key`` (a button's value), or None."""
    parts = key.split(":")
    if len(parts) != 4 or parts[0] != PLATFORM or not all(parts[1:]):
        return None
    if parts[3] != DM_THREAD and not _TS.fullmatch(parts[3]):
        return None
    return ThreadRef(*parts)


def ts_time(ts: str) -> datetime:
    """A Slack message ``ts`` as an aware datetime."""
    return datetime.fromtimestamp(float(ts), UTC)


def message_from_event(
    body: Mapping[str, Any],
    *,
    bot: BotIdentity,
    channels: Mapping[str, ChannelOverride],
) -> SlackMessage | None:
    """The message in an ``app_mention`` or ``message`` event callback, if the bot should consider it."""
    try:
        return _message(body, bot, channels)
    except (LookupError, TypeError, ValueError, AttributeError) as exc:
        log.warning("dropped a malformed Slack event %s: %r", body.get("event_id", "?"), exc)
        return None


def _message(
    body: Mapping[str, Any], bot: BotIdentity, channels: Mapping[str, ChannelOverride]
) -> SlackMessage | None:
    event: Mapping[str, Any] = body["event"]
    kind, subtype = event["type"], event.get("subtype")
    if kind not in ("app_mention", "message") or subtype not in SPOKEN_SUBTYPES or event.get("hidden"):
        return _ignore(body, f"{kind}/{subtype}")
    channel = _text(event, "channel")
    ts = _ts(event, "ts")
    thread_ts = _ts(event, "thread_ts") if event.get("thread_ts") is not None else None
    if thread_ts == ts:
        thread_ts = None  # the parent of a thread is a top-level message
    user, other_bot = event.get("user"), event.get("bot_id")
    if user == bot.user_id or (other_bot is not None and other_bot == bot.bot_id):
        return _ignore(body, "the bot's own message")
    bot_name: str | None = None
    if other_bot is not None or subtype == "bot_message":
        override = channels.get(channel)
        if override is None or not override.answer_bots:
            return _ignore(body, "another bot")
        profile = event.get("bot_profile") or {}
        bot_name = str(profile.get("name") or event.get("username") or other_bot or "a bot")
    author = user if isinstance(user, str) and user else other_bot
    if not isinstance(author, str) or not author:
        raise ValueError("the message has no author")
    is_dm = event.get("channel_type") == "im"
    text = event.get("text") or ""
    if not isinstance(text, str):
        raise TypeError("text is not a string")
    follow_up = False
    if kind == "message" and not is_dm:
        if f"<@{bot.user_id}>" in text:
            return _ignore(body, "a mention: the app_mention event answers it")
        if thread_ts is None:
            return _ignore(body, "a channel message that is not for the bot")
        follow_up = True
    team_id, enterprise_id = installation(body, bot)
    return SlackMessage(
        team_id=team_id,
        channel_id=channel,
        user_id=author,
        text=text,
        ts=ts,
        thread_ts=thread_ts,
        is_dm=is_dm,
        follow_up=follow_up,
        bot_name=bot_name,
        enterprise_id=enterprise_id,
        files=files_of(event),
    )


def files_of(message: Mapping[str, Any]) -> tuple[SlackFile, ...]:
    """The files of a message (an event or a message of ``conversations.replies``); malformed ones left
    out, at most :data:`MAX_FILES`."""
    files = message.get("files")
    if not isinstance(files, list):
        return ()
    out: list[SlackFile] = []
    for item in files[:MAX_FILES]:
        if not isinstance(item, Mapping):
            continue
        name = item.get("name") or item.get("title")
        size = item.get("size")
        url = item.get("url_private_download") or item.get("url_private")
        mimetype = item.get("mimetype")
        if not isinstance(name, str) or not name or not isinstance(size, int) or isinstance(size, bool):
            continue
        out.append(
            SlackFile(
                name=one_line_name(name),
                mimetype=mimetype if isinstance(mimetype, str) and mimetype else None,
                size=size,
                url=url if isinstance(url, str) and url else None,
            )
        )
    return tuple(out)


def said_text(text: str, files: Sequence[SlackFile], *, bot_user_id: str, names: Mapping[str, str]) -> str:
    """A message's text as the model and the store read it: :func:`clean_text`, then a line naming each
    shared file. A file shared with nothing said is its line alone, so the answer is about the file."""
    lines = [file.line for file in files]
    cleaned = _cleaned(text, bot_user_id, names)
    if lines:
        return "\n".join([cleaned, *lines] if cleaned else lines)
    return clean_text(text, bot_user_id=bot_user_id, names=names)


def command_from_payload(body: Mapping[str, Any], *, bot: BotIdentity) -> SlashCommand | None:
    """A ``/support`` invocation (form fields of a slash command request)."""
    try:
        team_id, enterprise_id = bot.workspace(_text(body, "team_id"), body.get("enterprise_id") or None)
        return SlashCommand(
            team_id=team_id,
            channel_id=_text(body, "channel_id"),
            user_id=_text(body, "user_id"),
            text=str(body.get("text") or ""),
            enterprise_id=enterprise_id,
        )
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("dropped a malformed slash command: %r", exc)
        return None


def click_from_payload(body: Mapping[str, Any], *, bot: BotIdentity) -> ButtonClick | None:
    """The button click of a ``block_actions`` interaction."""
    try:
        action = body["actions"][0]
        team_id, enterprise_id = bot.workspace(
            _text(body["team"], "id"), (body.get("enterprise") or {}).get("id")
        )
        container = body.get("container") or {}
        message = body.get("message") or {}
        channel = container.get("channel_id") or body["channel"]["id"]
        thread = container.get("thread_ts") or message.get("thread_ts")
        message_ts = container.get("message_ts") or message["ts"]
        return ButtonClick(
            action_id=_text(action, "action_id"),
            value=str(action.get("value") or ""),
            team_id=team_id,
            user_id=_text(body["user"], "id"),
            channel_id=str(channel),
            message_ts=_checked_ts(message_ts),
            thread_ts=_checked_ts(thread) if thread else None,
            enterprise_id=enterprise_id,
        )
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        log.warning("dropped a malformed interaction: %r", exc)
        return None


def mentioned_users(text: str) -> list[str]:
    """The user ids mentioned in Slack-formatted ``text``, in order, without repeats."""
    return list(dict.fromkeys(match.group(1) for match in _USER_MENTION.finditer(text)))


def clean_text(text: str, *, bot_user_id: str, names: Mapping[str, str], bot_name: str = "Support") -> str:
    """Slack-formatted text as the model should read it.

    The bot's own mention is dropped (or, when the message is nothing but the mention, kept as
    ``@bot_name``), other mentions and channel links become ``@name`` and ``#name``, links show their text
    and address, and entities are unescaped.
    """
    return _cleaned(text, bot_user_id, names) or f"@{bot_name}"


def _cleaned(text: str, bot_user_id: str, names: Mapping[str, str]) -> str:
    """:func:`clean_text` without its stand-in for an empty message ("" then)."""

    def user(match: re.Match[str]) -> str:
        user_id, label = match.group(1), match.group(2)
        return "@" + (names.get(user_id) or label or user_id)

    def link(match: re.Match[str]) -> str:
        url, label = match.group(1), match.group(2)
        return f"{label} ({url})" if label and label != url else url

    own_mention = re.compile(rf"[ \t]*<@{re.escape(bot_user_id)}(?:\|[^>]*)?>[ \t]*")
    cleaned = own_mention.sub(" ", text)
    cleaned = _USER_MENTION.sub(user, cleaned)
    cleaned = _CHANNEL_LINK.sub(lambda m: "#" + (m.group(2) or m.group(1)), cleaned)
    cleaned = _SPECIAL.sub(lambda m: "@" + (m.group(1) or m.group(2) or "group"), cleaned)
    return html.unescape(_LINK.sub(link, cleaned)).strip()


def _ignore(body: Mapping[str, Any], why: str) -> SlackMessage | None:
    log.debug("ignored Slack event %s: %s", body.get("event_id", "?"), why)
    return None


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} is not a non-empty string")
    return value


def _ts(data: Mapping[str, Any], key: str) -> str:
    return _checked_ts(data[key])


def _checked_ts(value: Any) -> str:
    if not isinstance(value, str) or not _TS.fullmatch(value):
        raise ValueError(f"{value!r} is not a Slack ts")
    return value


def installation(body: Mapping[str, Any], bot: BotIdentity) -> tuple[str, str | None]:
    """The installing workspace (and its Grid organisation) an Events API callback is delivered for.

    Slack names it in ``authorizations[0]`` and, in newer envelopes, ``context_team_id`` /
    ``context_enterprise_id``. The envelope's own ``team_id`` and ``enterprise_id`` are not used: in a
    Slack Connect channel that another organisation created they are that organisation's, and whoever
    belongs to it would pass for a member of ours.
    """
    authorizations = body.get("authorizations")
    first: Mapping[str, Any] = {}
    if isinstance(authorizations, list) and authorizations and isinstance(authorizations[0], Mapping):
        first = authorizations[0]
    team = first.get("team_id") or body.get("context_team_id") or bot.team_id
    enterprise = first.get("enterprise_id") or body.get("context_enterprise_id") or bot.enterprise_id
    if not isinstance(team, str) or not team:
        raise ValueError("no installing team (authorizations[0].team_id or context_team_id)")
    return team, enterprise if isinstance(enterprise, str) and enterprise else None
