"""One inbound message, end to end (DESIGN.md §4), the same for every front end.

The adapter translates its platform's event into an `Inbound`, gives a `ReplyStream` for the thread and,
where the platform is the source of truth for the history, the thread's turns. Everything else happens
here: dedup, stepping back in escalated threads, one reply per thread, the pending-reply record, the
streamed render, and storing the bot's turn with its tool blocks and usage.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from bot.agent import Agent
from bot.events import Completed
from bot.locks import ThreadLocks
from bot.store import PendingReply, ReplyRecord, Store, UsageRecord
from bot.streaming.budget import Budget
from bot.streaming.clock import SystemClock
from bot.streaming.protocol import MessageRef, ReplyStream
from bot.streaming.reply import RenderOutcome, StreamingReply
from bot.types import Conversation, Principal, ThreadRef, Turn

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Inbound:
    """A message someone sent to the bot, in core terms."""

    ref: ThreadRef
    principal: Principal
    text: str
    message_id: str
    sent_at: datetime
    event_id: str | None = None


HistoryLoader = Callable[[], Awaitable[Sequence[Turn]]]
"""Reads the thread's history from the platform; called with the thread's lock held (see ``handle``)."""


@dataclass(frozen=True)
class Budgets:
    """The shared budgets a reply draws on: edits (per Slack workspace / Discord channel) and posts."""

    edits: Budget
    posts: Budget


@dataclass(frozen=True)
class Handled:
    status: Literal["answered", "duplicate", "stepped_back"]
    reply_id: str | None = None
    outcome: RenderOutcome | None = None


class SupportService:
    def __init__(self, *, store: Store, agent: Agent, locks: ThreadLocks, history_turns: int = 40) -> None:
        self._store = store
        self._agent = agent
        self._locks = locks
        self._history_turns = history_turns

    async def handle(
        self,
        message: Inbound,
        stream: ReplyStream,
        budgets: Budgets,
        platform_history: Sequence[Turn] | HistoryLoader | None = None,
    ) -> Handled:
        """Answer ``message`` through ``stream``.

        ``platform_history`` is the thread as the platform shows it, the new message included; without it
        the store's record of the thread is the history. A loader is called only for a message that is
        answered, once the thread's lock is held and the message is stored: the history then includes
        the answers finished while the message waited its turn, and duplicates cost no platform call.
        """
        if message.event_id is not None and not await self._store.claim_event(message.event_id):
            log.info("duplicate delivery of %s ignored", message.event_id)
            return Handled("duplicate")
        user_turn = Turn(
            "user", message.principal.display_name, message.text, message.message_id, message.sent_at
        )
        async with self._locks.hold(message.ref.key):
            await self._store.append_turn(message.ref, user_turn)
            if await self._store.is_escalated(message.ref):
                return Handled("stepped_back")
            history = await self._history(message.ref, platform_history)
            reply_id = uuid.uuid4().hex
            clock = SystemClock()
            started_at, started = datetime.now(UTC), clock.monotonic()
            reply = StreamingReply(
                stream,
                budget=budgets.edits,
                post_budget=budgets.posts,
                reply_id=reply_id,
                clock=clock,
                on_first_post=lambda ref: self._store.add_pending_reply(
                    PendingReply(reply_id, message.ref, ref, datetime.now(UTC))
                ),
            )
            try:
                outcome = await reply.render(
                    self._agent.answer(Conversation(message.ref, history), message.principal)
                )
            finally:
                await self._store.settle_pending_reply(reply_id)
            first_text_ms = (
                None if outcome.first_text_at is None else (outcome.first_text_at - started) * 1000
            )
            record = ReplyRecord(
                reply_id, message.ref, started_at, first_text_ms, outcome.failed, _is_fallback(outcome)
            )
            await self._record(record, outcome)
            return Handled("answered", reply_id, outcome)

    async def _history(
        self, ref: ThreadRef, platform_history: Sequence[Turn] | HistoryLoader | None
    ) -> list[Turn]:
        if callable(platform_history):
            platform_history = await platform_history()
        stored = await self._store.load_turns(ref, self._history_turns)
        if platform_history is None:
            return stored
        return enrich(list(platform_history)[-self._history_turns :], stored)

    async def _record(self, record: ReplyRecord, outcome: RenderOutcome) -> None:
        """Store the bot's turn (with its tool blocks), the reply row and the answer's usage."""
        ref, reply_id = record.ref, record.reply_id
        now = datetime.now(UTC)
        first: MessageRef = outcome.refs[0] if outcome.refs else reply_id
        end = outcome.end
        exchange = end.exchange if isinstance(end, Completed) else ()
        # Dated when the reply started: a message that arrived meanwhile sorts after this answer.
        turn = Turn("assistant", "bot", outcome.text, first, record.started_at, exchange)
        await self._store.append_turn(ref, turn)
        await self._store.record_reply(record)
        if end is None or not (end.usage.input_tokens or end.usage.output_tokens):
            return
        model = end.model if isinstance(end, Completed) and end.model else "unknown"
        await self._store.record_usage(
            UsageRecord(
                ref=ref,
                reply_id=reply_id,
                model=model,
                input_tokens=end.usage.input_tokens,
                output_tokens=end.usage.output_tokens,
                cache_read_tokens=end.usage.cache_read_tokens,
                cache_write_tokens=end.usage.cache_write_tokens,
                cost_usd=end.usage.cost_usd,
                at=now,
            )
        )


def _is_fallback(outcome: RenderOutcome) -> bool:
    return isinstance(outcome.end, Completed) and outcome.end.stop_reason == "fallback"


def enrich(platform_turns: list[Turn], stored: Sequence[Turn]) -> list[Turn]:
    """The platform's thread, with the bot's own turns replaced by the stored ones that keep tool blocks.

    A long reply shows on the platform as several messages; the stored turn (keyed by the first message)
    holds all of it, so the continuation messages after it are dropped.
    """
    by_id = {turn.message_id: turn for turn in stored if turn.role == "assistant"}
    out: list[Turn] = []
    covering: Turn | None = None
    for turn in platform_turns:
        if turn.role == "assistant":
            if turn.message_id in by_id:
                covering = by_id[turn.message_id]
                out.append(covering)
                continue
            if covering is not None and turn.text.strip() and turn.text.strip()[:80] in covering.text:
                continue
        covering = None
        out.append(turn)
    return out
