"""`ReplyStream` on Discord: post with ``channel.send``, edit with ``message.edit``, typing meanwhile.

The core decides when to post and edit (docs/architecture.md §5); this module sends the Markdown (Discord
reads
Markdown) with its links made safe (``markup.to_discord``), with ``allowed_mentions`` that let nothing in
it notify anyone, and adds the footer to the last message: the sources as an embed, the feedback buttons
as a persistent view. No link in the text gets a preview: Discord would fetch it, with whatever a link the
model was talked into writing carries in its query string, before anyone clicks. A message goes out with
its embeds suppressed (``SUPPRESS_EMBEDS``), except one that carries the sources embed, which the flag
would hide too: its URLs are all written ``<url>``, which Discord does not preview. It maps discord.py's
errors onto the core's delivery errors:

- a 429 that discord.py gave up on (``discord.RateLimited``, or ``HTTPException`` 429 after its retries) →
  ``RateLimited``;
- an unknown message or channel (404), a message that is not the bot's (403/50005) or in an archived
  thread (400/50083) → ``MessageGone`` on an edit (the text is posted anew);
- 5xx, network errors and timeouts → ``DeliveryError`` (retried);
- anything else Discord refuses (missing permissions, an invalid body, …) → ``Refused`` (not retried).

Where the answer goes is a :class:`Destination`: a channel that exists (a thread, a forum post, a DM), or
a thread to open on a message the first time something is posted (a mention in a text channel). If the
thread cannot be opened, the answer goes to the channel itself, as a reply to the question.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Literal

import aiohttp
import discord
from discord.http import handle_message_parameters
from discord.utils import MISSING

from bot.streaming.protocol import DeliveryError, Footer, MessageGone, MessageRef, RateLimited, ReplyLimits
from bot.types import ThreadRef
from integrations.discord.markup import MAX_CONTENT, to_discord
from integrations.discord.ui import feedback_view, sources_embed

log = logging.getLogger(__name__)

GONE_CODES = frozenset({10003, 10008, 50005, 50083})
"""Unknown Channel, Unknown Message, a message of another author, an archived thread."""
THREAD_EXISTS = 160004
DEFAULT_RETRY_AFTER = 1.0
TYPING_EVERY = 8.0
"""Seconds between typing triggers (Discord shows one for about 10 s, or until the bot posts)."""
AUTO_ARCHIVE_MINUTES: Literal[60, 1440, 4320, 10080] = 1440
FAILURES = (discord.DiscordException, aiohttp.ClientError, OSError)
"""What a call may fail with: Discord's errors and the network's (``TimeoutError`` is an ``OSError``)."""
EDITABLE = (
    discord.TextChannel,
    discord.Thread,
    discord.DMChannel,
    discord.VoiceChannel,
    discord.StageChannel,
    discord.PartialMessageable,
)
QUIET = discord.AllowedMentions.none()
"""Model text notifies nobody: no @everyone, @here, role or user pings, not even the replied-to author."""


class Refused(DeliveryError):
    """Discord refused the call for a reason sending it again will not change."""

    retryable = False


class Destination:
    """Where one conversation's messages go: an existing channel (a thread, a forum post, a DM)."""

    def __init__(self, channel: discord.abc.Messageable) -> None:
        self._channel = channel

    async def channel(self) -> discord.abc.Messageable:
        return self._channel

    @property
    def reply_to(self) -> discord.Message | None:
        """The message the first post replies to (only when answering in a channel, not in a thread)."""
        return None


class NewThread(Destination):
    """A public thread opened on ``message`` when it is first needed, named ``name``.

    A thread already open on the message (a redelivered event) is used as it is. When Discord refuses to
    open one (no permission, a channel without threads), the answers go to the channel as replies.
    """

    def __init__(self, message: discord.Message, name: str) -> None:
        super().__init__(message.channel)
        self._message = message
        self._name = name
        self._opened: discord.abc.Messageable | None = None
        self._lock = asyncio.Lock()
        self._in_channel = False

    async def channel(self) -> discord.abc.Messageable:
        async with self._lock:
            if self._opened is None:
                self._opened = await self._open()
            return self._opened

    @property
    def reply_to(self) -> discord.Message | None:
        return self._message if self._in_channel else None

    async def _open(self) -> discord.abc.Messageable:
        message = self._message
        try:
            return await message.create_thread(name=self._name, auto_archive_duration=AUTO_ARCHIVE_MINUTES)
        except discord.HTTPException as exc:
            if exc.code == THREAD_EXISTS:
                existing = message.guild.get_thread(message.id) if message.guild else None
                if existing is not None:
                    return existing
                with contextlib.suppress(discord.HTTPException, aiohttp.ClientError, TimeoutError):
                    found = await message.guild.fetch_channel(message.id) if message.guild else None
                    if isinstance(found, discord.Thread):
                        return found
            log.warning("could not open a thread on %s (%s); answering in the channel", message.id, exc)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("could not open a thread on %s (%s); answering in the channel", message.id, exc)
        self._in_channel = True
        return message.channel


class DiscordReplyStream:
    """The messages of one reply in one conversation."""

    def __init__(self, destination: Destination, *, limits: ReplyLimits) -> None:
        self._destination = destination
        self._limits = limits
        self._typing: asyncio.Task[None] | None = None
        self._posted = False
        self._sent: list[discord.Message] = []

    @property
    def limits(self) -> ReplyLimits:
        return self._limits

    def start_typing(self) -> None:
        """Show "typing…" until the first message is posted (or :meth:`close`)."""
        if self._typing is None and not self._posted:
            self._typing = asyncio.create_task(self._type(), name="discord typing")

    async def close(self) -> None:
        """Stop the typing indicator, if it still runs."""
        await self._stop_typing()

    async def post(self, text: str, footer: Footer | None = None) -> MessageRef:
        # The indicator is cancelled, not waited for: its winding down (an aborted request, a turn or two
        # of a busy event loop) would delay the first text. It sends nothing more; close() waits for it.
        self._cancel_typing()
        channel = await self._destination.channel()
        reply_to = None if self._posted else self._destination.reply_to
        content, embeds, view = _message(text, footer)
        try:
            view_arg = MISSING if view is None else view  # "no view"; None is not in discord.py's types
            suppress = not embeds
            if reply_to is None:
                sent = await channel.send(
                    content, embeds=embeds, view=view_arg, allowed_mentions=QUIET, suppress_embeds=suppress
                )
            else:
                sent = await channel.send(
                    content,
                    embeds=embeds,
                    view=view_arg,
                    allowed_mentions=QUIET,
                    suppress_embeds=suppress,
                    reference=reply_to,
                )
        except FAILURES as exc:
            raise delivery_error(exc, "post", editing=False) from exc
        self._posted = True
        self._sent.append(sent)
        return str(sent.id)

    async def withdraw(self) -> None:
        """Delete the messages this reply posted (an answer restarted for an edited question); a message
        that cannot be deleted is logged and left (it was settled when its reply was cancelled)."""
        for sent in self._sent:
            try:
                await sent.delete()
            except FAILURES as exc:
                log.warning("could not delete the withdrawn answer message %s: %s", sent.id, exc)
        self._sent.clear()

    async def edit(self, ref: MessageRef, text: str, footer: Footer | None = None) -> None:
        channel = await self._destination.channel()
        if not isinstance(channel, EDITABLE):
            raise Refused(f"cannot edit messages in a {type(channel).__name__}")
        content, embeds, view = _message(text, footer)
        try:
            await edit_message(channel.get_partial_message(int(ref)), content, embeds=embeds, view=view)
        except FAILURES as exc:
            raise delivery_error(exc, "edit", editing=True) from exc

    async def _type(self) -> None:
        try:
            channel = await self._destination.channel()
            while not self._posted:
                await channel.typing()
                await asyncio.sleep(TYPING_EVERY)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            log.debug("typing indicator stopped: %s", exc)

    def _cancel_typing(self) -> None:
        """Stop the indicator; cancelled once only (a second cancel would cut its winding down short)."""
        task = self._typing
        if task is not None and not task.done() and not task.cancelling():
            task.cancel()

    async def _stop_typing(self) -> None:
        self._cancel_typing()
        task, self._typing = self._typing, None
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _message(text: str, footer: Footer | None) -> tuple[str, list[discord.Embed], discord.ui.View | None]:
    """The content, embeds and view of a message showing ``text`` (the model's Markdown).

    Should writing every URL ``<url>`` make the content too long for Discord, the URLs stay bare and the
    message goes without its sources embed, so that its embeds can be suppressed."""
    embeds, view = _footer(footer)
    content = to_discord(text)
    if len(content) > MAX_CONTENT:
        content, embeds = to_discord(text, bracket_urls=False), []
    return content, embeds, view


async def edit_message(
    message: discord.PartialMessage,
    content: str,
    *,
    embeds: list[discord.Embed],
    view: discord.ui.View | None,
) -> None:
    """Edit ``message`` to show ``content``, ``embeds`` and ``view``, pinging nobody; its embeds suppressed
    unless it has some of its own (a message without ``SUPPRESS_EMBEDS`` gets link previews).

    ``PartialMessage.edit`` cannot set the flag (only ``Message.edit`` can, and that needs the message
    fetched first), so this makes the same request with ``flags`` as well."""
    state = message._state
    flags = discord.MessageFlags(suppress_embeds=not embeds)
    if view is not None:
        state.prevent_view_updates_for(message.id)
    with handle_message_parameters(
        content=content,
        flags=flags,
        embeds=embeds,
        view=view,
        allowed_mentions=QUIET,
        previous_allowed_mentions=state.allowed_mentions,
    ) as params:
        await state.http.edit_message(message.channel.id, message.id, params=params)
    if view is not None and not view.is_finished() and view.is_dispatchable():
        state.store_view(view, message.id)


def _footer(footer: Footer | None) -> tuple[list[discord.Embed], discord.ui.View | None]:
    """The embeds and view a message carries: under a finished answer its sources and buttons, else none.

    Every call sends both, so an edit never leaves an earlier footer behind."""
    if footer is None:
        return [], None
    embeds = [sources_embed(footer.sources)] if footer.sources else []
    return embeds, feedback_view(footer.reply_id) if footer.buttons else None


def delivery_error(
    exc: discord.DiscordException | aiohttp.ClientError | OSError, what: str, *, editing: bool
) -> DeliveryError:
    """The core's error for a call that failed with ``exc``."""
    if isinstance(exc, discord.RateLimited):
        return RateLimited(exc.retry_after)
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429:
            return RateLimited(_retry_after(exc))
        if exc.status >= 500:
            return DeliveryError(f"{what}: HTTP {exc.status} {exc.text[:200]}")
        if editing and (exc.status == 404 or exc.code in GONE_CODES):
            return MessageGone(f"{what}: {exc.status}/{exc.code} {exc.text[:200]}")
        log.error("%s refused: %s/%s %s", what, exc.status, exc.code, exc.text[:200])
        return Refused(f"{what}: {exc.status}/{exc.code}")
    if isinstance(exc, discord.DiscordException):
        return Refused(f"{what}: {type(exc).__name__}: {exc}")
    return DeliveryError(f"{what}: {type(exc).__name__}: {exc}")


def _retry_after(exc: discord.HTTPException) -> float:
    headers = getattr(exc.response, "headers", None) or {}
    try:
        return max(0.0, float(str(headers.get("X-RateLimit-Reset-After") or headers.get("Retry-After"))))
    except ValueError:
        return DEFAULT_RETRY_AFTER


async def find_channel(
    client: discord.Client, channel_id: str
) -> discord.abc.GuildChannel | discord.abc.PrivateChannel | discord.Thread | None:
    """The channel (or thread) ``channel_id``, from the cache or from Discord; None if there is none."""
    if not channel_id.isdigit():
        return None
    cached = client.get_channel(int(channel_id))
    if cached is not None:
        return cached
    try:
        return await client.fetch_channel(int(channel_id))
    except (discord.NotFound, discord.Forbidden):
        return None


async def destination_for(client: discord.Client, ref: ThreadRef) -> Destination | None:
    """Where a conversation's messages are: its thread (a forum post) or DM, or the channel, when the bot
    answered there because it could not open a thread. None when none of them exists any more."""
    for channel_id in dict.fromkeys((ref.thread_id, ref.channel_id)):
        channel = await find_channel(client, channel_id)
        if isinstance(channel, discord.abc.Messageable):
            return Destination(channel)
    return None
