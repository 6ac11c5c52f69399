"""The narrow interface an adapter implements so the core can render a reply on its platform."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.types import Source

MessageRef = str
"""An opaque handle of a posted message, meaningful only to the ReplyStream that returned it.

Refs are unique within a thread (the platform's message id does that): the store keys the bot's turns by
the ref of their first message."""


@dataclass(frozen=True)
class ReplyLimits:
    """Per-platform facts the renderer obeys; defaults live in the adapter, overridable in config."""

    max_chars: int
    edit_interval: float = 1.0
    placeholder: bool = True
    """Post a placeholder at once. False where the platform shows a sign of life of its own (Discord's
    typing indicator, Slack's thread status): the first message is then posted when the answer's first
    text arrives."""


@dataclass(frozen=True)
class Footer:
    """What the last message of a finished reply carries under its text: sources and feedback buttons."""

    reply_id: str
    sources: tuple[Source, ...] = ()
    buttons: bool = True


class DeliveryError(Exception):
    """A post or edit did not go through. ``retryable`` errors may succeed if sent again."""

    retryable: bool = True


class RateLimited(DeliveryError):
    """The platform answered 429; nothing should be sent on that budget for ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after:.2f}s")
        self.retry_after = retry_after


class MessageGone(DeliveryError):
    """The message can no longer be edited (deleted, too old, not ours); post the text anew instead."""

    retryable = False


class ReplyStream(Protocol):
    """Posts and edits the messages of one reply. Implemented once per platform.

    ``post`` and ``edit`` raise ``DeliveryError`` (or a subclass) on failure; anything else is a bug.
    Text passed here is the Markdown of one message, already split to fit ``limits.max_chars``; the stream
    converts it to the platform's format and neutralises mass mentions before sending.
    """

    @property
    def limits(self) -> ReplyLimits: ...

    async def post(self, text: str, footer: Footer | None = None) -> MessageRef: ...

    async def edit(self, ref: MessageRef, text: str, footer: Footer | None = None) -> None: ...


class Progress(Protocol):
    """A platform's own sign that an answer is being prepared (Slack's thread status: "is searching the
    help center…"), which a post in the thread clears. A front end that has one hands it to the service
    beside the reply's stream. Both calls are best effort: a failure is the sign's to log, never the
    reply's."""

    async def show_progress(self, tool: str | None, subject: str | None = None) -> None:
        """The answer is being prepared (``tool`` None), or the tool of that name runs for it, about
        ``subject`` when it says (an order id: ``ToolStarted.subject``)."""
        ...

    async def clear_progress(self) -> None:
        """Take the sign away (the answer is settled)."""
        ...
