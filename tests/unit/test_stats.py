"""`/support stats` figures: per platform, per UTC day, feedback on that platform's answers only."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.stats import DayCount, gather_stats
from bot.store import ReplyRecord, UsageRecord
from bot.store.sqlite import MEMORY, SQLiteStore
from bot.types import ThreadRef

NOW = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)
SLACK = ThreadRef("slack", "T1", "C1", "1.000100")
DISCORD = ThreadRef("discord", "G1", "P1", "9")


def reply(
    reply_id: str, ref: ThreadRef, days_ago: float, first_ms: float | None, **flags: bool
) -> ReplyRecord:
    return ReplyRecord(
        reply_id,
        ref,
        NOW - timedelta(days=days_ago),
        first_ms,
        flags.get("failed", False),
        flags.get("fallback", False),
    )


async def test_gather_stats_counts_one_platform_over_the_last_days() -> None:
    store = await SQLiteStore.open(MEMORY, clock=lambda: NOW)
    try:
        for record in (
            reply("a", SLACK, 0.1, 400.0),
            reply("b", SLACK, 0.2, 800.0, fallback=True),
            reply("c", SLACK, 1.5, None, failed=True),
            reply("d", SLACK, 9.0, 100.0),  # before the period
            reply("e", DISCORD, 0.1, 50.0),  # another platform
        ):
            await store.record_reply(record)
        await store.record_feedback("a", "U1", True)
        await store.record_feedback("a", "U2", False)
        await store.record_feedback("e", "U3", True)
        await store.record_usage(
            UsageRecord(SLACK, "a", "claude-sonnet-4-5", 1000, 200, 0, 0, 0.006, NOW - timedelta(hours=1))
        )
        await store.record_usage(
            UsageRecord(DISCORD, "e", "claude-sonnet-4-5", 5000, 900, 0, 0, 0.03, NOW - timedelta(hours=1))
        )
        await store.open_escalation(SLACK, "U1", "help")
        await store.open_escalation(DISCORD, "U9", "help")

        stats = await gather_stats(store, "slack", 7, now=NOW)
    finally:
        await store.close()
    assert stats.since == NOW - timedelta(days=7)
    assert stats.per_day == (DayCount(date(2024, 5, 9), 1, 1, 0), DayCount(date(2024, 5, 10), 2, 0, 1))
    assert (stats.answers, stats.failed, stats.fallback) == (3, 1, 1)
    assert (stats.helpful, stats.not_helpful) == (1, 1)
    assert stats.median_first_text_ms == pytest.approx(600.0)
    assert (stats.input_tokens, stats.output_tokens, stats.cost_usd) == (1000, 200, pytest.approx(0.006))
    assert stats.open_escalations == 1


async def test_no_answers_no_median_and_days_must_be_positive() -> None:
    store = await SQLiteStore.open(MEMORY)
    try:
        stats = await gather_stats(store, "slack", 1)
        assert (stats.answers, stats.median_first_text_ms, stats.per_day) == (0, None, ())
        with pytest.raises(ValueError, match="days"):
            await gather_stats(store, "slack", 0)
    finally:
        await store.close()
