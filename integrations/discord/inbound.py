"""The one place that reads what Discord sends the bot: messages, ``/support`` invocations, button clicks.

Each becomes a small typed value, or None when it is not for the bot. What a message means for the bot is
decided here too:

- a mention in a text channel: a thread is opened on the message and the answer goes there;
- a new post in a forum channel marked ``forum = true`` in ``config/bot.toml``: answered in the post;
- a message in a thread: answered when it mentions the bot or the bot opened the thread; any other
  message there is a follow-up, answered where the bot has answered before; who wrote it decides the
  rest (``integrations.discord.step_back``: the asker, a bystander, staff taking over);
- a direct message: answered (unless DMs are switched off);
- ignored: the bot's own messages, other bots and webhooks (unless the channel says ``answer_bots``),
  system messages (joins, pins, thread notices, …) and everything in other channels. An edited message
  is classified the same way (``integrations.discord.answering.Answerer.revise`` decides what an edit
  means for its answer).

A conversation's ``ThreadRef`` is (``discord``, guild id, channel id, thread id): for a thread, the
channel it lives in and the thread itself; for a direct message, ``@me``, the DM channel, the DM channel.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

import discord

from bot.attachments import file_line
from bot.config import ChannelOverride
from bot.inbound import Inbound
from bot.types import Principal, ThreadRef

log = logging.getLogger(__name__)

PLATFORM = "discord"
DM_SPACE = "@me"
"""The space of direct messages (Discord's own name for it in links)."""
THREAD_NAME_LIMIT = 100
"""Discord's limit on a thread's name."""
WEB_BASE = "https://discord.com/channels"
CUSTOM_ID_PREFIX = "supportbot"

SPOKEN_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})
"""Message types that are someone saying something; every other type is a system message."""

_USER_MENTION = re.compile(r"<@!?(\d{15,21})>")
_ROLE_MENTION = re.compile(r"<@&(\d{15,21})>")
_CHANNEL_MENTION = re.compile(r"<#(\d{15,21})>")
_CUSTOM_EMOJI = re.compile(r"<a?(:\w+:)\d{15,21}>")
_MASS_MENTION = re.compile(r"@(everyone|here)\b")
_MARKUP = re.compile(r"[*_~`|>#]+")
_BUTTON = re.compile(rf"{CUSTOM_ID_PREFIX}:(?P<action>[a-z_]+):(?P<value>[^\s]{{1,80}})")
_THREAD_KEY = re.compile(
    rf"{PLATFORM}:(?P<space>\d{{15,21}}|{re.escape(DM_SPACE)}):(?P<channel>\d{{15,21}}):(?P<thread>\d{{15,21}})"
)
_LINK = re.compile(
    r"<?https://(?:\w+\.)?discord(?:app)?\.com/channels/(\d{15,21})/(\d{15,21})(?:/\d{15,21})?>?"
)


class Trigger(StrEnum):
    """Why a message may be answered."""

    MENTION = "mention"
    """A mention in a text channel: a thread is opened on the message."""
    THREAD = "thread"
    """In a thread, mentioning the bot or in a thread the bot opened."""
    FOLLOW_UP = "follow_up"
    """In a thread without a mention: answered only where the bot has answered before."""
    FORUM_POST = "forum_post"
    """The first message of a new post in a forum the bot answers in."""
    DM = "dm"


@dataclass(frozen=True)
class DiscordMessage:
    """A message the bot may answer."""

    trigger: Trigger
    ref: ThreadRef
    source: discord.Message
    """The platform's message (the answer goes to its thread, or to a new thread on it)."""
    text: str
    """The text as the model should read it (see :func:`message_text`)."""
    mentioned: bool = False
    """The message mentions the bot."""
    revision: int = 0
    """How many times the message was edited before this version was taken up (0: as first sent)."""

    @property
    def dedup_key(self) -> str:
        """The same for every delivery of this version of the message (a redelivery after a gateway RESUME,
        say); each answered edit has its own."""
        tail = f":edit{self.revision}" if self.revision else ""
        return f"{PLATFORM}:{self.source.id}{tail}"

    @property
    def sent_at(self) -> datetime:
        return self.source.created_at

    def to_inbound(self, principal: Principal) -> Inbound:
        return Inbound(
            ref=self.ref,
            principal=principal,
            text=self.text,
            message_id=str(self.source.id),
            sent_at=self.sent_at,
            event_id=self.dedup_key,
        )


@dataclass(frozen=True)
class ButtonClick:
    """A click on one of the bot's buttons."""

    action: str
    """``helpful``, ``not_helpful``, ``escalate``, ``solve``, ``resolve`` or ``draft_kb``."""
    value: str
    """The reply id (feedback buttons) or the thread key (resolve)."""
    user: discord.User | discord.Member
    ref: ThreadRef
    """The conversation of the message the button is on."""
    message: discord.Message | None = None
    """The message the button is on."""


@dataclass(frozen=True)
class CommandPlace:
    """Where a ``/support`` command was run, and by whom."""

    user: discord.User | discord.Member
    space_id: str
    channel_id: str
    """The channel (for a thread, the channel it lives in: pausing there pauses its threads too)."""
    thread: ThreadRef | None
    """The thread it was run in, if any."""


def thread_ref(guild_id: int | str, channel_id: int | str, thread_id: int | str) -> ThreadRef:
    return ThreadRef(PLATFORM, str(guild_id), str(channel_id), str(thread_id))


def dm_ref(channel_id: int | str) -> ThreadRef:
    return ThreadRef(PLATFORM, DM_SPACE, str(channel_id), str(channel_id))


def parse_thread_key(key: str) -> ThreadRef | None:
    """The Discord thread whose ``ThreadRef.key`` is ``key`` (a resolve button's value), or None."""
    match = _THREAD_KEY.fullmatch(key)
    return None if match is None else ThreadRef(PLATFORM, match["space"], match["channel"], match["thread"])


def parse_link(text: str) -> tuple[str, str] | None:
    """A link to a channel, thread or message (``https://discord.com/channels/G/C[/M]``): (guild, channel)."""
    match = _LINK.fullmatch(text.strip())
    return None if match is None else (match.group(1), match.group(2))


def web_link(guild_id: str, channel_id: str, message_id: str | None = None) -> str:
    """The link to a channel or thread (or a message in it) that opens in Discord."""
    tail = f"/{message_id}" if message_id is not None else ""
    return f"{WEB_BASE}/{guild_id}/{channel_id}{tail}"


def custom_id(action: str, value: str) -> str:
    """A button's custom id: ``supportbot:<action>:<value>`` (at most 100 characters, Discord's limit)."""
    made = f"{CUSTOM_ID_PREFIX}:{action}:{value}"
    if len(made) > 100:
        raise ValueError(f"custom id over 100 characters: {made[:40]}…")
    return made


# ---- messages ---------------------------------------------------------------------------------------------


def classify(
    message: discord.Message,
    *,
    bot_id: int,
    channels: Mapping[str, ChannelOverride],
    dms: bool,
) -> DiscordMessage | None:
    """The message as one the bot may answer, or None (see the module docstring); a message discord.py
    could only half read (a malformed payload) is dropped with a warning, never raised."""
    try:
        return _classify(message, bot_id, channels, dms)
    except (TypeError, ValueError, AttributeError) as exc:
        log.warning("dropped a malformed Discord message %s: %r", getattr(message, "id", "?"), exc)
        return None


def _classify(
    message: discord.Message, bot_id: int, channels: Mapping[str, ChannelOverride], dms: bool
) -> DiscordMessage | None:
    channel = message.channel
    if message.author.id == bot_id:
        return _ignore(message, "the bot's own message")
    if not isinstance(message.type, discord.MessageType) or message.type not in SPOKEN_TYPES:
        return _ignore(message, f"a system message ({message.type})")
    home = channel.parent_id if isinstance(channel, discord.Thread) else channel.id
    if message.author.bot or message.webhook_id is not None:
        override = channels.get(str(home))
        if override is None or not override.answer_bots:
            return _ignore(message, "another bot")
    text = message_text(message, bot_id)
    mentioned = any(user.id == bot_id for user in message.mentions)
    if isinstance(channel, discord.DMChannel):
        if not dms:
            return _ignore(message, "a direct message, and DISCORD_DMS is off")
        return DiscordMessage(Trigger.DM, dm_ref(channel.id), message, text)
    guild = message.guild
    if guild is None:
        return _ignore(message, "a group DM")
    if isinstance(channel, discord.Thread):
        ref = thread_ref(guild.id, channel.parent_id, channel.id)
        override = channels.get(str(channel.parent_id))
        if message.id == channel.id and override is not None and override.forum:
            return DiscordMessage(Trigger.FORUM_POST, ref, message, text, mentioned)
        if mentioned or channel.owner_id == bot_id:
            return DiscordMessage(Trigger.THREAD, ref, message, text, mentioned)
        return DiscordMessage(Trigger.FOLLOW_UP, ref, message, text, mentioned)
    if isinstance(channel, discord.TextChannel):
        if not mentioned:
            return _ignore(message, "a channel message that is not for the bot")
        return DiscordMessage(
            Trigger.MENTION, thread_ref(guild.id, channel.id, message.id), message, text, mentioned
        )
    return _ignore(message, f"a message in a {type(channel).__name__}")


def message_text(message: discord.Message, bot_id: int) -> str:
    """The message's text for the model (:func:`spoken_text`) and a line naming each attachment
    (``bot.attachments.file_line``; their content is read with the thread's history)."""
    lines = [file_line(a.filename, a.content_type, a.size) for a in message.attachments]
    return "\n".join([spoken_text(message, bot_id), *lines])


def spoken_text(message: discord.Message, bot_id: int) -> str:
    """What the message says (:func:`clean_text`, with the names of what it mentions)."""
    users = {user.id: user.display_name for user in message.mentions}
    roles = {role.id: role.name for role in message.role_mentions}
    channels = {channel.id: getattr(channel, "name", str(channel.id)) for channel in message.channel_mentions}
    return clean_text(message.content or "", bot_id=bot_id, users=users, roles=roles, channels=channels)


def clean_text(
    content: str,
    *,
    bot_id: int,
    users: Mapping[int, str],
    roles: Mapping[int, str] | None = None,
    channels: Mapping[int, str] | None = None,
    bot_name: str = "Support",
) -> str:
    """Discord-formatted ``content`` as the model should read it.

    The bot's own mention is dropped (or, when the message is nothing but the mention, kept as
    ``@bot_name``); other mentions become ``@name``, ``@role`` and ``#channel``; custom emoji become their
    ``:name:``; ``@everyone`` and ``@here`` are kept as words.
    """
    roles, channels = roles or {}, channels or {}
    own = re.compile(rf"[ \t]*<@!?{bot_id}>[ \t]*")
    cleaned = own.sub(" ", content)
    cleaned = _USER_MENTION.sub(lambda m: "@" + users.get(int(m.group(1)), "someone"), cleaned)
    cleaned = _ROLE_MENTION.sub(lambda m: "@" + roles.get(int(m.group(1)), "role"), cleaned)
    cleaned = _CHANNEL_MENTION.sub(lambda m: "#" + channels.get(int(m.group(1)), "channel"), cleaned)
    cleaned = _CUSTOM_EMOJI.sub(lambda m: m.group(1), cleaned).strip()
    return cleaned or f"@{bot_name}"


def thread_name(question: str, limit: int = THREAD_NAME_LIMIT) -> str:
    """A thread's name from the question: its first line without markup, cut at a word to fit ``limit``."""
    first = next((line for line in question.splitlines() if line.strip()), "")
    words = _MASS_MENTION.sub(r"\1", _MARKUP.sub(" ", first)).split()
    name = " ".join(words)
    if len(name) > limit:
        cut = name[: limit - 1]
        space = cut.rfind(" ")
        name = (cut[:space] if space > limit // 2 else cut).rstrip(" ,.;:-") + "…"
    return name or "Support"


def _ignore(message: discord.Message, why: str) -> DiscordMessage | None:
    log.debug("ignored Discord message %s: %s", message.id, why)
    return None


# ---- interactions -----------------------------------------------------------------------------------------


def click_from_interaction(interaction: discord.Interaction) -> ButtonClick | None:
    """The click of one of the bot's buttons (its custom id ``supportbot:<action>:<value>``)."""
    data = cast(Mapping[str, Any], interaction.data or {})
    raw = data.get("custom_id")
    match = _BUTTON.fullmatch(raw) if isinstance(raw, str) else None
    message = interaction.message
    if match is None or message is None:
        log.warning("dropped a click on a component that is not the bot's: %r", str(raw)[:100])
        return None
    ref = message_thread(message)
    if ref is None:
        log.warning("dropped a click in a channel the bot does not answer in: %s", message.channel)
        return None
    return ButtonClick(match["action"], match["value"], interaction.user, ref, message)


def message_thread(message: discord.Message) -> ThreadRef | None:
    """The conversation a message of the bot belongs to (the thread it is in, the DM, or in a channel
    the question it replies to)."""
    channel = message.channel
    if isinstance(channel, discord.DMChannel):
        return dm_ref(channel.id)
    guild_id = message.guild.id if message.guild is not None else getattr(channel, "guild_id", None)
    if guild_id is None:
        return None
    if isinstance(channel, discord.Thread):
        return thread_ref(guild_id, channel.parent_id, channel.id)
    replied = message.reference.message_id if message.reference is not None else None
    return thread_ref(guild_id, channel.id, replied or message.id)


def command_place(interaction: discord.Interaction) -> CommandPlace:
    """Where a ``/support`` command was run (guild commands only: never in a DM)."""
    channel = interaction.channel
    space = str(interaction.guild_id) if interaction.guild_id is not None else DM_SPACE
    if isinstance(channel, discord.Thread):
        ref = thread_ref(space, channel.parent_id, channel.id)
        return CommandPlace(interaction.user, space, str(channel.parent_id), ref)
    channel_id = str(interaction.channel_id or 0)
    return CommandPlace(interaction.user, space, channel_id, None)
