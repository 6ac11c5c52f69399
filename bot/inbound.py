"""An incoming message in core terms: what a front end hands the core (``bot.service``) to answer.

Each front end's ``integrations/*/inbound.py`` translates its platform's payloads into an :class:`Inbound`;
it gives the reply's :class:`Budgets` and, where the platform is the source of truth for the history, a
:data:`HistoryLoader` for the thread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.streaming.budget import Budget
from bot.types import Principal, ThreadRef, Turn


@dataclass(frozen=True)
class Inbound:
    """A message someone sent to the bot, in core terms."""

    ref: ThreadRef
    principal: Principal
    text: str
    message_id: str
    sent_at: datetime
    event_id: str | None = None

    def turn(self) -> Turn:
        """The message as the asker's turn of the thread."""
        return Turn("user", self.principal.display_name, self.text, self.message_id, self.sent_at)


HistoryLoader = Callable[[], Awaitable[Sequence[Turn]]]
"""Reads the thread's history from the platform; called with the thread's lock held (see
``SupportService.handle``)."""


@dataclass(frozen=True)
class Budgets:
    """The shared budgets a reply draws on: edits (per Slack workspace / Discord channel) and posts."""

    edits: Budget
    posts: Budget
