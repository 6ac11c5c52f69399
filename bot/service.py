"""One inbound message, end to end (DESIGN.md §4), the same for every front end.

The adapter translates its platform's event into an `Inbound`, gives a `ReplyStream` for the thread and,
where the platform is the source of truth for the history, the thread's turns. Everything else happens
here: dedup, the limits of `config/bot.toml` (message size, per-user rate, per-space daily tokens), stepping
back in escalated threads, one reply per thread, the history kept to a token budget (`bot.agent.context`), the
pending-reply record, the streamed render, and storing the bot's turn with its tool blocks and usage.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

from bot.agent.context import ContextBudget, ContextBuilder
from bot.agent.events import AgentEvent, Completed
from bot.agent.loop import Agent
from bot.config import Limits
from bot.coordination.dedup import EventDedup, StoreDedup
from bot.coordination.locks import ThreadLocks
from bot.coordination.ratelimit import LocalRateLimiter, RateLimiter
from bot.logs import log_context
from bot.metrics import BotMetrics
from bot.store import PendingReply, ReplyRecord, Store, UsageRecord
from bot.streaming.budget import Budget
from bot.streaming.clock import SystemClock
from bot.streaming.notice import post_with_retries
from bot.streaming.protocol import Footer, MessageRef, ReplyLimits, ReplyStream
from bot.streaming.reply import RenderOutcome, RetryPolicy, StreamingReply
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
    status: Literal["answered", "duplicate", "stepped_back", "limited"]
    reply_id: str | None = None
    outcome: RenderOutcome | None = None
    limited: LimitKind | None = None
    """Why the message got a limit notice instead of an answer (status ``limited``)."""


LimitKind = Literal["size", "rate", "budget"]

RATE_WINDOW_SECONDS = 60.0
SIZE_NOTICE_SECONDS = 30.0
"""A person is told about the size limit at most once in this many seconds (their next long messages
within it get no reply at all)."""
BUDGET_RECHECK_SECONDS = 5.0
"""How stale a space's token count may be: the daily budget may be overrun by a few seconds of answers."""
NOTICE_RETRY = RetryPolicy(attempts=3, base_delay=0.0)
"""A notice in the asker's thread is tried again at once (its budget paces 429s)."""
TROUBLE_NOTICE = "_Sorry, something went wrong on my side before I could answer; please ask again._"
"""Posted when a message fails before any reply was posted for it (e.g. the store is unavailable)."""


@dataclass(frozen=True)
class LimitNotice:
    kind: LimitKind
    text: str


class SupportService:
    def __init__(
        self,
        *,
        store: Store,
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
        counted in ``metrics`` (the app's, from the composition root)."""
        self._store = store
        self._agent = agent
        self._locks = locks
        self._context = context or ContextBuilder(store, ContextBudget(turns=history_turns))
        self._limits = limits
        self._rate_limiter = rate_limiter
        # One limit notice per person and window (see ``_first_notice``): shared like the rate itself.
        self._told = rate_limiter or LocalRateLimiter()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._space_tokens: dict[str, tuple[float, datetime, int]] = {}
        self._metrics = metrics or BotMetrics()
        # Redis in front of the store when instances share it (bot.coordination.open)
        self._dedup = dedup or StoreDedup(store)
        self._failed_events: set[str] = set()  # deliveries already told about a failure (see handle)

    async def handle(
        self,
        message: Inbound,
        stream: ReplyStream,
        budgets: Budgets,
        platform_history: Sequence[Turn] | HistoryLoader | None = None,
    ) -> Handled:
        """Answer ``message`` through ``stream`` (see ``_handle``).

        Every line logged meanwhile carries the thread's key and a request id of its own, and the outcome
        goes to the metrics. A reply cancelled at shutdown counts as ``interrupted`` (its message is
        settled by the streaming machinery before the cancellation goes on).
        """
        platform = message.ref.platform
        arrived = time.monotonic()
        with log_context(thread=message.ref.key, request_id=uuid.uuid4().hex[:16]):
            self._metrics.in_progress.add(1, platform=platform)
            watched = _WatchedStream(stream)
            try:
                handled = await self._handle(message, watched, budgets, platform_history)
            except asyncio.CancelledError:
                self._metrics.replies.inc(platform=platform, outcome="interrupted")
                raise
            except Exception:
                # E.g. the store is unavailable: the asker must not be left without any reply.
                if not watched.posted and self._first_failure(message.event_id):
                    await _post_notice(stream, budgets.posts, TROUBLE_NOTICE)
                raise
            finally:
                self._metrics.in_progress.add(-1, platform=platform)
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
        """Count the outcome and log it (one line per message, with its thread and request id)."""
        outcome, status, timing = handled.outcome, str(handled.status), ""
        if status == "answered" and outcome is not None:
            status = "failed" if outcome.failed else "fallback" if _is_fallback(outcome) else "answered"
            first = "-" if outcome.first_text_at is None else f"{outcome.first_text_at - arrived:.2f} s"
            timing = f" (first text {first}, final text {outcome.settled_at - arrived:.2f} s)"
            self._metrics.observe_render(
                platform,
                first_text=None if outcome.first_text_at is None else outcome.first_text_at - arrived,
                final_text=outcome.settled_at - arrived,
                edits=outcome.edits,
                rate_limited=outcome.rate_limited,
            )
            if outcome.end is not None:
                self._metrics.observe_usage(outcome.end.usage)
        self._metrics.replies.inc(platform=platform, outcome=status)
        log.info("message %s: %s%s", handled.reply_id or "-", status, timing)

    async def _handle(
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
        if message.event_id is not None and not await self._dedup.claim(message.event_id):
            log.info("duplicate delivery of %s ignored", message.event_id)
            return Handled("duplicate")
        user_turn = Turn(
            "user", message.principal.display_name, message.text, message.message_id, message.sent_at
        )
        # Counted on arrival, so a burst is limited even while an earlier answer holds the thread.
        notice = await self._limit_on_arrival(message)
        async with self._locks.hold(message.ref.key):
            await self._store.append_turn(message.ref, user_turn)
            if await self._store.is_escalated(message.ref):
                return Handled("stepped_back")
            if notice is None:
                notice = await self._budget_limit(message)
            if notice is not None:
                return await self._notify(message, notice, stream, budgets)
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
                # The pending reply names its newest message: the one a restart must settle.
                on_post=lambda ref: self._store.add_pending_reply(
                    PendingReply(reply_id, message.ref, ref, started_at)
                ),
            )
            try:
                outcome = await reply.render(self._answer(message, history, reply_id))
            finally:
                await self._store.settle_pending_reply(reply_id)
            first_text_ms = (
                None if outcome.first_text_at is None else (outcome.first_text_at - started) * 1000
            )
            record = ReplyRecord(
                reply_id, message.ref, started_at, first_text_ms, outcome.failed, _is_fallback(outcome)
            )
            await self._record(record, outcome, message.principal.user_id)
            return Handled("answered", reply_id, outcome)

    async def _answer(
        self, message: Inbound, history: list[Turn], reply_id: str
    ) -> AsyncIterator[AgentEvent]:
        """The agent's events; the history is cut to its budget (maybe summarised) once the placeholder
        is up, so a summary request never delays it."""
        summary, turns = await self._context.build(message.ref, history, reply_id)
        conversation = Conversation(message.ref, turns, summary)
        async for event in self._agent.answer(conversation, message.principal):
            yield event

    async def _history(
        self, ref: ThreadRef, platform_history: Sequence[Turn] | HistoryLoader | None
    ) -> list[Turn]:
        """The thread's newest turns, enough for ``bot.agent.context`` to find those after the summary."""
        if callable(platform_history):
            platform_history = await platform_history()
        load = self._context.budget.load_turns
        stored = await self._store.load_turns(ref, load)
        turns = stored if platform_history is None else enrich(list(platform_history)[-load:], stored)
        if self._limits is None:
            return turns
        return [_clip(turn, self._limits.max_input_chars) for turn in turns]

    # Limits (config/bot.toml [limits]).

    def _exempt(self, principal: Principal) -> bool:
        return self._limits is not None and self._limits.leads_exempt and principal.is_lead

    async def _limit_on_arrival(self, message: Inbound) -> LimitNotice | None:
        """The per-user rate (every message counts, limited ones too), then the size of the message."""
        limits = self._limits
        if limits is None:
            return None
        if self._rate_limiter is not None and not self._exempt(message.principal):
            per_minute = limits.messages_per_user_per_minute
            key = f"messages:{message.principal.platform}:{message.principal.user_id}"
            wait = await self._rate_limiter.hit(key, per_minute, RATE_WINDOW_SECONDS)
            if wait is not None:
                return LimitNotice("rate", rate_text(per_minute, wait))
        if len(message.text) > limits.max_input_chars:
            return LimitNotice("size", size_text(len(message.text), limits.max_input_chars))
        return None

    async def _budget_limit(self, message: Inbound) -> LimitNotice | None:
        """The space's daily token budget, checked with the thread's lock held (after the answer before)."""
        limits = self._limits
        if limits is None or self._exempt(message.principal):
            return None
        now = self._clock().astimezone(UTC)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        ref = message.ref
        used = await self._tokens_since(ref, midnight)
        if used < limits.daily_tokens_per_space:
            return None
        log.info("%s: daily token budget used (%d of %d)", ref.space_key, used, limits.daily_tokens_per_space)
        return LimitNotice("budget", budget_text(midnight + timedelta(days=1) - now, ref.platform))

    async def _tokens_since(self, ref: ThreadRef, midnight: datetime) -> int:
        """The space's tokens today, read from the store at most every ``BUDGET_RECHECK_SECONDS``."""
        now = time.monotonic()
        cached = self._space_tokens.get(ref.space_key)
        if cached is not None and cached[1] == midnight and now - cached[0] < BUDGET_RECHECK_SECONDS:
            return cached[2]
        used = await self._store.tokens_used_since(ref.platform, ref.space_id, midnight)
        self._space_tokens[ref.space_key] = (now, midnight, used)
        return used

    async def _notify(
        self, message: Inbound, notice: LimitNotice, stream: ReplyStream, budgets: Budgets
    ) -> Handled:
        """Post ``notice`` as the reply (no model call) and keep it like an answer: a bot turn and a reply
        row marked with the limit.

        Only the first limit notice of its kind in the person's window is posted (``_first_notice``): a
        flood of messages costs one post, so other people's answers in the channel do not queue behind
        notices. The others are counted (a reply row marked with the limit) and get no reply at all.
        """
        ref = message.ref
        reply_id = uuid.uuid4().hex
        started_at, started = datetime.now(UTC), time.monotonic()
        if not await self._first_notice(message, notice):
            await self._store.record_reply(
                ReplyRecord(reply_id, ref, started_at, None, False, False, limited=notice.kind)
            )
            log.info("%s: %s limit, told already", ref.key, notice.kind)
            return Handled("limited", reply_id, limited=notice.kind)
        posted = await _post_notice(stream, budgets.posts, notice.text)
        first_text_ms = None if posted is None else (time.monotonic() - started) * 1000
        turn = Turn("assistant", "bot", notice.text, posted or reply_id, started_at)
        await self._store.append_turn(ref, turn)
        await self._store.record_reply(
            ReplyRecord(reply_id, ref, started_at, first_text_ms, posted is None, False, limited=notice.kind)
        )
        log.info("%s: %s limit notice", ref.key, notice.kind)
        return Handled("limited", reply_id, limited=notice.kind)

    async def _first_notice(self, message: Inbound, notice: LimitNotice) -> bool:
        """True for the first notice of its kind to the asker in its window, on any instance: the rate
        window, ``SIZE_NOTICE_SECONDS`` for the size, the day (UTC) for the space's daily budget."""
        who = f"{message.principal.platform}:{message.principal.user_id}"
        if notice.kind == "budget":
            now = self._clock().astimezone(UTC)
            midnight = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
            key = f"notice:budget:{message.ref.space_key}:{who}:{now.date().isoformat()}"
            window = max(1.0, (midnight - now).total_seconds())
        else:
            key = f"notice:{notice.kind}:{who}"
            window = SIZE_NOTICE_SECONDS if notice.kind == "size" else RATE_WINDOW_SECONDS
        return await self._told.hit(key, 1, window) is None

    async def _record(self, record: ReplyRecord, outcome: RenderOutcome, answered_for: str) -> None:
        """Store the bot's turn (with its tool blocks), the reply row and the answer's usage."""
        ref, reply_id = record.ref, record.reply_id
        now = datetime.now(UTC)
        first: MessageRef = outcome.refs[0] if outcome.refs else reply_id
        end = outcome.end
        exchange = end.exchange if isinstance(end, Completed) else ()
        # Dated when the reply started: a message that arrived meanwhile sorts after this answer.
        turn = Turn(
            "assistant", "bot", outcome.text, first, record.started_at, exchange, answered_for=answered_for
        )
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


def size_text(length: int, limit: int) -> str:
    return (
        f"Your message is {length:,} characters long, and I can read up to {limit:,} at a time. "
        "Please shorten it to the question and the details that matter (an order number, what went wrong) "
        "and send it again."
    )


def rate_text(per_minute: int, wait_seconds: float) -> str:
    seconds = max(1, math.ceil(wait_seconds))
    unit = "second" if seconds == 1 else "seconds"
    return (
        f"You're sending messages faster than I can answer them (up to {per_minute} a minute). "
        f"Please try again in {seconds} {unit}."
    )


def budget_text(until_reset: timedelta, platform: str = "") -> str:
    space = "server" if platform == "discord" else "workspace"
    minutes = max(1, math.ceil(until_reset.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    wait = f"{hours} h {minutes} min" if hours else f"{minutes} min"
    return (
        f"This {space} has used its AI answers for today, so I can't answer right now. "
        f"The limit resets at 00:00 UTC, in {wait}; please try again then."
    )


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


def _clip(turn: Turn, max_chars: int) -> Turn:
    """A user's turn over the size limit, cut to it (it was answered with a notice, not read)."""
    if turn.role != "user" or len(turn.text) <= max_chars:
        return turn
    return replace(turn, text=turn.text[:max_chars] + " … [cut: over the message size limit]")


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
