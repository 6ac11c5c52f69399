"""One inbound message, end to end (docs/architecture.md §4), the same for every front end.

The adapter translates its platform's event into an `Inbound`, gives a `ReplyStream` for the thread and,
where the platform is the source of truth for the history, the thread's turns. Everything else happens
here: dedup, the limits of `config/bot.toml` (``bot.limits``: message size, per-user rate, per-space daily
tokens), stepping back in escalated threads, one reply per thread, the history kept to a token budget
(`bot.agent.context`), the pending-reply record, the streamed render, and storing the bot's turn with its
tool blocks and usage.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from bot.agent.context import ContextBudget, ContextBuilder
from bot.agent.events import AgentEvent, Completed, Failed
from bot.agent.loop import Agent
from bot.config import Limits
from bot.coordination.dedup import EventDedup, StoreDedup
from bot.coordination.locks import ThreadLocks
from bot.coordination.ratelimit import RateLimiter
from bot.inbound import Budgets, HistoryLoader, Inbound, masked_history
from bot.limits import LimitKind, LimitNotice, LimitsPolicy
from bot.logs import log_context
from bot.metrics import BotMetrics
from bot.quality.record import Answered, AnswerTrace
from bot.store import PendingReply, ReplyRecord, ServiceStore, ThreadSummary, UsageRecord
from bot.streaming.budget import Budget
from bot.streaming.clock import SystemClock
from bot.streaming.notice import post_with_retries
from bot.streaming.protocol import Footer, MessageRef, Progress, ReplyLimits, ReplyStream
from bot.streaming.reply import RenderOutcome, RetryPolicy, StreamingReply
from bot.turns import thread_turns
from bot.types import Conversation, Turn, Usage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Handled:
    status: Literal["answered", "duplicate", "stepped_back", "limited"]
    reply_id: str | None = None
    outcome: RenderOutcome | None = None
    limited: LimitKind | None = None
    """Why the message got a limit notice instead of an answer (status ``limited``)."""


NOTICE_RETRY = RetryPolicy(attempts=3, base_delay=0.0)
"""A notice in the asker's thread is tried again at once (its budget paces 429s)."""
TROUBLE_NOTICE = "_Sorry, something went wrong on my side before I could answer; please ask again._"
"""Posted when a message fails before any reply was posted for it (e.g. the store is unavailable)."""


class SupportService:
    def __init__(
        self,
        *,
        store: ServiceStore,
        agent: Agent,
        locks: ThreadLocks,
        history_turns: int = 20,
        context: ContextBuilder | None = None,
        limits: Limits | None = None,
        rate_limiter: RateLimiter | None = None,
        clock: Callable[[], datetime] | None = None,
        metrics: BotMetrics | None = None,
        dedup: EventDedup | None = None,
    ) -> None:
        """``context`` keeps the history to a budget (default: ``history_turns`` turns, no summaries);
        ``limits`` are applied when given, the per-user rate through ``rate_limiter``; the outcomes are
        counted in ``metrics`` (the app's, from the composition root; None: not counted)."""
        self._store = store
        self._agent = agent
        self._locks = locks
        self._context = context or ContextBuilder(store, ContextBudget(turns=history_turns))
        self._limits = LimitsPolicy(store, limits, rate_limiter=rate_limiter, clock=clock)
        self._metrics = metrics
        # Redis in front of the store when instances share it (bot.coordination.open)
        self._dedup = dedup or StoreDedup(store)
        self._failed_events: set[str] = set()  # deliveries already told about a failure (see handle)

    async def handle(
        self,
        message: Inbound,
        stream: ReplyStream,
        budgets: Budgets,
        platform_history: Sequence[Turn] | HistoryLoader | None = None,
        *,
        progress: Progress | None = None,
    ) -> Handled:
        """Answer ``message`` through ``stream`` (see ``_handle``), showing ``progress`` where the platform
        has a sign of its own for an answer being prepared.

        Every line logged meanwhile carries the thread's key and a request id of its own, and the outcome
        goes to the metrics. A reply cancelled at shutdown counts as ``interrupted`` (its message is
        settled by the streaming machinery before the cancellation goes on).
        """
        # Masked before anything is stored or sent to the model (bot.masking).
        platform_history = masked_history(platform_history)
        platform = message.ref.platform
        arrived = time.monotonic()
        with log_context(thread=message.ref.key, request_id=uuid.uuid4().hex[:16]):
            if self._metrics is not None:
                self._metrics.reply_started(platform)
            watched = _WatchedStream(stream)
            try:
                handled = await self._handle(message, watched, budgets, platform_history, progress)
            except asyncio.CancelledError:
                if self._metrics is not None:
                    self._metrics.count_reply(platform, "interrupted")
                raise
            except Exception:
                # E.g. the store is unavailable: the asker must not be left without any reply.
                if not watched.posted and self._first_failure(message.event_id):
                    await _post_notice(stream, budgets.posts, TROUBLE_NOTICE)
                raise
            finally:
                if self._metrics is not None:
                    self._metrics.reply_finished(platform)
            self._observe(platform, handled, arrived)
        return handled

    def _first_failure(self, event_id: str | None) -> bool:
        """False for a repeat delivery (e.g. Slack's app_mention twin) of an event that failed before."""
        if event_id is None:
            return True
        if event_id in self._failed_events:
            return False
        if len(self._failed_events) >= 10_000:
            self._failed_events.clear()
        self._failed_events.add(event_id)
        return True

    def _observe(self, platform: str, handled: Handled, arrived: float) -> None:
        """Count the outcome and log it: one line per message, ``answer``, with its thread and request id and
        the figures of the answer as fields (``extra``), never a word of the conversation."""
        outcome, status = handled.outcome, str(handled.status)
        fields: dict[str, object] = {"platform": platform, "reply_id": handled.reply_id}
        if status == "answered" and outcome is not None:
            status = "failed" if outcome.failed else "fallback" if _is_fallback(outcome) else "answered"
            first_text = None if outcome.first_text_at is None else outcome.first_text_at - arrived
            final_text = outcome.settled_at - arrived
            fields |= _answer_fields(outcome, first_text, final_text)
            if self._metrics is not None:
                self._metrics.observe_render(
                    platform,
                    first_text=first_text,
                    final_text=final_text,
                    edits=outcome.edits,
                    rate_limited=outcome.rate_limited,
                )
                if outcome.end is not None:
                    self._metrics.observe_usage(outcome.end.usage)
        elif handled.limited is not None:
            fields["limit"] = str(handled.limited)
        if self._metrics is not None:
            self._metrics.count_reply(platform, status)
        log.info("answer", extra={"outcome": status, **fields})

    async def _handle(
        self,
        message: Inbound,
        stream: ReplyStream,
        budgets: Budgets,
        platform_history: Sequence[Turn] | HistoryLoader | None = None,
        progress: Progress | None = None,
    ) -> Handled:
        """Answer ``message`` through ``stream``.

        ``platform_history`` is the thread as the platform shows it, the new message included; without it
        the store's record of the thread is the history. A loader is called only for a message that is
        answered, once the thread's lock is held and the message is stored: the history then includes
        the answers finished while the message waited its turn, and duplicates cost no platform call.
        """
        if message.event_id is not None and not await self._dedup.claim(message.event_id):
            log.info("duplicate delivery of %s ignored", message.event_id)
            return Handled("duplicate")
        # Counted on arrival, so a burst is limited even while an earlier answer holds the thread.
        notice = await self._limits.on_arrival(message)
        async with self._locks.hold(message.ref.key):
            # One store trip: the message stored, and the thread read back (escalated? turns, summary, and
            # the space's tokens today when the daily budget's count is due).
            since = self._limits.tokens_wanted(message)
            thread = await self._store.take_turn(
                message.ref, message.turn(), self._context.budget.load_turns, since
            )
            if thread.escalated:
                return Handled("stepped_back")
            if notice is None:
                counted = None if since is None else (since, thread.space_tokens)
                notice = await self._limits.daily_budget(message, counted)
            if notice is not None:
                return await self._notify(message, notice, stream, budgets)
            history = await self._history(platform_history, thread.turns)
            reply_id = uuid.uuid4().hex
            clock = SystemClock()
            started_at, started = datetime.now(UTC), clock.monotonic()
            reply = StreamingReply(
                stream,
                budget=budgets.edits,
                post_budget=budgets.posts,
                reply_id=reply_id,
                clock=clock,
                progress=progress,
                # The pending reply names its newest message: the one a restart must settle.
                on_post=lambda ref: self._store.add_pending_reply(
                    PendingReply(reply_id, message.ref, ref, started_at)
                ),
            )
            settled = False
            trace = AnswerTrace()
            try:
                outcome = await reply.render(
                    trace.watch(self._answer(message, history, reply_id, thread.summary))
                )
                first_text_ms = (
                    None if outcome.first_text_at is None else (outcome.first_text_at - started) * 1000
                )
                record = ReplyRecord(
                    reply_id,
                    message.ref,
                    started_at,
                    first_text_ms,
                    outcome.failed,
                    _is_fallback(outcome),
                    user_id=message.principal.user_id,
                )
                await self._record(record, outcome, message, trace)  # settles it too
                settled = True
            finally:
                if not settled:  # cancelled or failed: the rendered message is settled all the same
                    await self._store.settle_pending_reply(reply_id)
            return Handled("answered", reply_id, outcome)

    async def _answer(
        self, message: Inbound, history: list[Turn], reply_id: str, stored: ThreadSummary | None
    ) -> AsyncIterator[AgentEvent]:
        """The agent's events; the history is cut to its budget (maybe summarised) once the placeholder
        is up, so a summary request never delays it. ``stored`` is the thread's summary as it was read."""
        summary, turns = await self._context.build_with(message.ref, history, reply_id, stored)
        conversation = Conversation(message.ref, turns, summary)
        async for event in self._agent.answer(conversation, message.principal):
            yield event

    async def _history(
        self, platform_history: Sequence[Turn] | HistoryLoader | None, stored: list[Turn]
    ) -> list[Turn]:
        """The thread's newest turns, enough for ``bot.agent.context`` to find those after the summary;
        ``stored`` are the store's newest ``load_turns`` of it (read with the message stored)."""
        if callable(platform_history):
            platform_history = await platform_history()
        return self._limits.clip(thread_turns(platform_history, stored, self._context.budget.load_turns))

    async def _notify(
        self, message: Inbound, notice: LimitNotice, stream: ReplyStream, budgets: Budgets
    ) -> Handled:
        """Post ``notice`` as the reply (no model call) and keep it like an answer: a bot turn and a reply
        row marked with the limit.

        Only the first limit notice of its kind in the person's window is posted (``first_notice``): a
        flood of messages costs one post, so other people's answers in the channel do not queue behind
        notices. The others are counted (a reply row marked with the limit) and get no reply at all.
        """
        ref = message.ref
        reply_id = uuid.uuid4().hex
        started_at, started = datetime.now(UTC), time.monotonic()
        if not await self._limits.first_notice(message, notice):
            await self._store.record_reply(
                ReplyRecord(
                    reply_id, ref, started_at, None, False, False, notice.kind, message.principal.user_id
                )
            )
            log.info("%s: %s limit, told already", ref.key, notice.kind)
            return Handled("limited", reply_id, limited=notice.kind)
        posted = await _post_notice(stream, budgets.posts, notice.text)
        first_text_ms = None if posted is None else (time.monotonic() - started) * 1000
        turn = Turn("assistant", "bot", notice.text, posted or reply_id, started_at)
        record = ReplyRecord(
            reply_id,
            ref,
            started_at,
            first_text_ms,
            posted is None,
            False,
            notice.kind,
            message.principal.user_id,
        )
        await self._store.finish_reply(record, turn)  # the turn and the reply row in one trip
        log.info("%s: %s limit notice", ref.key, notice.kind)
        return Handled("limited", reply_id, limited=notice.kind)

    async def _record(
        self, record: ReplyRecord, outcome: RenderOutcome, message: Inbound, trace: AnswerTrace
    ) -> None:
        """Store the bot's turn (with its tool blocks), the reply row, the answer's usage and what the
        answer did (``bot.quality.record``), and settle its pending reply: one store trip
        (``finish_reply``)."""
        ref, reply_id = record.ref, record.reply_id
        answered_for = message.principal.user_id
        now = datetime.now(UTC)
        first: MessageRef = outcome.refs[0] if outcome.refs else reply_id
        end = outcome.end
        exchange = end.exchange if isinstance(end, Completed) else ()
        # Dated when the reply started: a message that arrived meanwhile sorts after this answer.
        turn = Turn(
            "assistant", "bot", outcome.text, first, record.started_at, exchange, answered_for=answered_for
        )
        answered = Answered(reply_id, ref, first, answered_for, record.started_at, message.text, outcome.text)
        answer = trace.record(answered, end)
        if end is None or not (end.usage.input_tokens or end.usage.output_tokens):
            await self._store.finish_reply(record, turn, None, answer)
            return
        model = end.model if isinstance(end, Completed) and end.model else "unknown"
        usage = UsageRecord.of(ref, reply_id, model, end.usage, now)
        await self._store.finish_reply(record, turn, usage, answer)


async def _post_notice(stream: ReplyStream, posts: Budget, text: str) -> MessageRef | None:
    """Post ``text`` as one message within the post budget; a few tries; None if it could not be posted."""
    return await post_with_retries(
        lambda: stream.post(text), posts, what="posting a notice", retry=NOTICE_RETRY
    )


class _WatchedStream:
    """The adapter's stream, noting whether anything was posted through it."""

    def __init__(self, stream: ReplyStream) -> None:
        self._stream = stream
        self.posted = False

    @property
    def limits(self) -> ReplyLimits:
        return self._stream.limits

    async def post(self, text: str, footer: Footer | None = None) -> MessageRef:
        self.posted = True  # before the call: a post that failed may still have reached the platform
        return await self._stream.post(text, footer)

    async def edit(self, ref: MessageRef, text: str, footer: Footer | None = None) -> None:
        await self._stream.edit(ref, text, footer)


def _answer_fields(outcome: RenderOutcome, first_text: float | None, final_text: float) -> dict[str, object]:
    """The log fields of one rendered answer: the model and why it stopped, the times, tokens and cost."""
    end = outcome.end
    usage = end.usage if end is not None else Usage()
    fields: dict[str, object] = {
        "model": end.model if isinstance(end, Completed) else None,
        "stop_reason": end.stop_reason if isinstance(end, Completed) else None,
        "first_text_s": None if first_text is None else round(first_text, 3),
        "final_text_s": round(final_text, 3),
        "edits": outcome.edits,
        "rate_limited": outcome.rate_limited,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "cost_usd": round(usage.cost_usd, 6),
    }
    if isinstance(end, Failed):
        fields["failure"] = end.reason[:200]
    return fields


def _is_fallback(outcome: RenderOutcome) -> bool:
    return isinstance(outcome.end, Completed) and outcome.end.stop_reason == "fallback"
