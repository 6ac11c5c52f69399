"""An incoming message in core terms: what a front end hands the core (``bot.service``) to answer.

Each front end's ``integrations/*/inbound.py`` translates its platform's payloads into an :class:`Inbound`;
it gives the reply's :class:`Budgets` and, where the platform is the source of truth for the history, a
:data:`HistoryLoader` for the thread. Card numbers and pasted secrets are masked in both (``bot.masking``):
an :class:`Inbound`'s text as it is made, so no path (an answer, a turn kept in a paused channel) can store
or send it unmasked, and the platform's history by :func:`masked_history`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bot.masking import mask
from bot.streaming.budget import Budget
from bot.types import Principal, ThreadRef, Turn


@dataclass(frozen=True)
class Inbound:
    """A message someone sent to the bot, in core terms; its ``text`` is masked as it is made."""

    ref: ThreadRef
    principal: Principal
    text: str
    message_id: str
    sent_at: datetime
    event_id: str | None = None

    def turn(self) -> Turn:
        """The message as the asker's turn of the thread (with their user id, so it can be forgotten)."""
        return Turn(
            "user",
            self.principal.display_name,
            self.text,
            self.message_id,
            self.sent_at,
            user_id=self.principal.user_id,
        )

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", mask(self.text))


HistoryLoader = Callable[[], Awaitable[Sequence[Turn]]]
"""Reads the thread's history from the platform; called with the thread's lock held (see
``SupportService.handle``)."""


def masked_turns(turns: Sequence[Turn]) -> list[Turn]:
    """People's turns with card numbers, security codes and secrets masked; the bot's as they are."""
    return [
        turn if turn.role != "user" or (text := mask(turn.text)) == turn.text else replace(turn, text=text)
        for turn in turns
    ]


def masked_history(
    history: Sequence[Turn] | HistoryLoader | None,
) -> Sequence[Turn] | HistoryLoader | None:
    """The platform's history (turns, or a loader of them) with people's turns masked."""
    if history is None:
        return None
    if not callable(history):
        return masked_turns(history)
    load = history

    async def loader() -> Sequence[Turn]:
        return masked_turns(await load())

    return loader


@dataclass(frozen=True)
class Budgets:
    """The shared budgets a reply draws on: edits (per Slack workspace / Discord channel) and posts."""

    edits: Budget
    posts: Budget
