"""Retention and forgetting a person: what the store keeps about people, and for how long.

Retention (``[privacy] retention_days`` of ``config/bot.toml``): what is older than the period goes, in
bounded passes (:func:`prune_expired`), when ``supportbot serve`` starts and then every hour
(:func:`keep_pruning`), or once with ``supportbot prune``:

- deleted: messages (people's and the bot's, with the tool calls and results kept with them), thread
  summaries of turns older than the period, records of replies left in flight by a crash, the tool-call
  audit, the records of what each answer did (its question, searches and citations, ``bot.quality``);
- kept, because the stats count them and they hold no text: usage rows (tokens and cost per day and
  space), reply rows (the person they answered is cleared), feedback votes, escalations (a resolved one's
  summary and asker are cleared), solved threads (who marked one solved, and on which message, is
  cleared); identity links and paused channels, which are settings, not messages.

Forgetting (``supportbot forget``, ``/support forget``): the store's ``forget_user`` deletes the person's
messages in every thread, the bot's answers to them, the summaries of the threads they wrote in, their
identity link, feedback votes and the records of what the answers to them did, and clears them from
their reply rows, escalations and the threads they marked solved (which keep counting). The platform's
own copy of a conversation is the platform's to delete.

The message text that reaches the store is already masked (``bot.masking``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.store import DataRetention, ForgetReport, PruneReport

log = logging.getLogger(__name__)

PRUNE_BATCH = 1000
"""Rows of each kind one pass deletes or clears at most."""
PRUNE_PASSES = 100
"""Passes of one run at most; what is left goes in the next run."""
PRUNE_INTERVAL = timedelta(hours=1)


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def prune_expired(
    store: DataRetention, before: datetime, *, batch: int = PRUNE_BATCH, max_passes: int = PRUNE_PASSES
) -> PruneReport:
    """Prune what is dated before ``before``, one bounded pass after another, until a pass finds nothing
    or ``max_passes`` passes are done; what all the passes removed."""
    total = PruneReport()
    for _ in range(max_passes):
        report = await store.prune(before, batch)
        total += report
        if not report.total:
            break
    return total


async def prune_older_than(
    store: DataRetention, days: int, *, now: Callable[[], datetime] = _utcnow
) -> PruneReport:
    """:func:`prune_expired` for a retention period of ``days`` days, up to now."""
    return await prune_expired(store, now() - timedelta(days=days))


async def keep_pruning(
    store: DataRetention,
    days: int,
    *,
    interval: timedelta = PRUNE_INTERVAL,
    now: Callable[[], datetime] = _utcnow,
) -> None:
    """Prune at once, then every ``interval``, until cancelled (``supportbot serve``'s background task).

    A failed run (the database out of reach, say) is logged and tried again at the next interval.
    """
    while True:
        try:
            report = await prune_older_than(store, days, now=now)
            if report.total:
                log.info("retention: %s older than %d days", describe_prune(report), days)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("retention: pruning failed (%s); trying again later", type(exc).__name__)
        await asyncio.sleep(interval.total_seconds())


def _counted(parts: list[tuple[int, str]]) -> str:
    said = [f"{count} {what}" for count, what in parts if count]
    return ", ".join(said) if said else "nothing"


def describe_prune(report: PruneReport) -> str:
    """What a pruning run removed, in words: ``12 message(s), 1 summary(ies) deleted; …``."""
    deleted = _counted(
        [
            (report.turns, "message(s)"),
            (report.summaries, "thread summary(ies)"),
            (report.pending_replies, "pending reply record(s)"),
            (report.tool_calls, "tool audit row(s)"),
            (report.answer_records, "record(s) of what answers did"),
            (report.handoffs, "delivered helpdesk hand-off(s)"),
        ]
    )
    cleared = _counted(
        [
            (report.replies, "answer record(s)"),
            (report.escalations, "resolved escalation(s)"),
            (report.solved_threads, "solved thread(s)"),
        ]
    )
    return f"deleted {deleted}; unlinked from people: {cleared}"


def describe_forget(report: ForgetReport) -> str:
    """What forgetting a person removed, in words."""
    if not report.total:
        return "nothing was stored about them"
    deleted = _counted(
        [
            (report.messages, "message(s)"),
            (report.answers, "answer(s) to them"),
            (report.summaries, "thread summary(ies)"),
            (report.links, "customer link"),
            (report.feedback, "feedback vote(s)"),
            (report.answer_records, "record(s) of what answers did"),
            (report.handoffs, "helpdesk hand-off(s)"),
        ]
    )
    cleared = _counted(
        [
            (report.replies, "answer record(s)"),
            (report.escalations, "escalation(s)"),
            (report.solved_threads, "solved thread(s)"),
        ]
    )
    return f"deleted {deleted}; unlinked from them: {cleared}"


__all__ = [
    "PRUNE_BATCH",
    "PRUNE_INTERVAL",
    "PRUNE_PASSES",
    "describe_forget",
    "describe_prune",
    "keep_pruning",
    "prune_expired",
    "prune_older_than",
]
