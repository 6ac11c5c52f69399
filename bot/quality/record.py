"""What each answer did, gathered in one place from the agent's events (docs/architecture.md §6b).

``SupportService`` passes the agent's events through an :class:`AnswerTrace` on their way to the reply,
and stores the :class:`~bot.store.AnswerRecord` it makes with the reply, in the answer's last store trip
(``Answering.finish_reply``). The front ends take no part: every platform's answers are recorded alike.

What is kept is masked text only: the question is the ``Inbound``'s text (masked as it is made), the
search queries the model wrote are masked again here, and the system prompt, tool results and order data
are never part of a record. Bounds: at most ``SEARCHES_KEPT`` searches per answer (the first ones), each
query cut to ``QUERY_CHARS`` with its ``SCORES_KEPT`` best scores; the question and the answer's start
are cut by the store (``bot.store.quality``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from bot.agent.events import AgentEvent, Completed, Failed, ToolFinished
from bot.masking import mask
from bot.store import AnswerRecord, SearchRecord
from bot.store.records import QUERY_CHARS, SCORES_KEPT, SEARCHES_KEPT
from bot.types import ThreadRef


@dataclass(frozen=True)
class Answered:
    """The answer's facts the trace does not see in the events: which reply, where, for whom, when."""

    reply_id: str
    ref: ThreadRef
    message_id: str
    """The answer's first message on the platform (for links to it)."""
    user_id: str
    at: datetime
    question: str
    text: str
    """The text the asker saw."""


class AnswerTrace:
    """The searches of one answer, noted from its ``ToolFinished`` events as they pass."""

    def __init__(self) -> None:
        self._searches: list[SearchRecord] = []

    async def watch(self, events: AsyncIterator[AgentEvent]) -> AsyncIterator[AgentEvent]:
        """``events`` unchanged, each noted on the way."""
        async for event in events:
            self.note(event)
            yield event

    def note(self, event: AgentEvent) -> None:
        if not isinstance(event, ToolFinished) or event.search is None:
            return
        if len(self._searches) < SEARCHES_KEPT:
            found = event.search
            query = mask(found.query)[:QUERY_CHARS]  # the tool's input model bounds it first
            self._searches.append(SearchRecord(query, found.hits, found.top_scores[:SCORES_KEPT]))

    def record(self, answered: Answered, end: Completed | Failed | None) -> AnswerRecord:
        """The record of the answer that ended with ``end`` (None: its events broke off).

        Search found nothing relevant when the answer searched and no search found a relevant section;
        the fallback answered when the answer came without the model."""
        searches = tuple(self._searches)
        completed = end if isinstance(end, Completed) else None
        return AnswerRecord(
            reply_id=answered.reply_id,
            ref=answered.ref,
            message_id=answered.message_id,
            at=answered.at,
            question=answered.question,
            answer=answered.text,
            searches=searches,
            cited=completed.sources if completed is not None else (),
            nothing_found=bool(searches) and all(search.nothing_relevant for search in searches),
            fallback=completed is not None and completed.stop_reason == "fallback",
            user_id=answered.user_id,
        )


__all__ = ["AnswerTrace", "Answered"]
