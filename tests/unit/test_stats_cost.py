"""Tokens and cost per space and per thread in the stats, summaries and cached tokens included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.stats import format_table, gather_stats
from bot.store import ReplyRecord, UsageRecord
from bot.store.sqlite import MEMORY, SQLiteStore
from bot.types import ThreadRef

NOW = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)
LONG = ThreadRef("slack", "T1", "C1", "1.000100")
SHORT = ThreadRef("slack", "T1", "C2", "2.000200")
OTHER_SPACE = ThreadRef("slack", "T2", "C1", "3.000300")


async def test_stats_show_tokens_and_cost_per_space_and_the_costliest_threads() -> None:
    store = await SQLiteStore.open(MEMORY, clock=lambda: NOW)
    at = NOW - timedelta(hours=1)
    try:
        for reply_id, ref in (("a", LONG), ("b", SHORT), ("c", OTHER_SPACE)):
            await store.record_reply(ReplyRecord(reply_id, ref, at, 500.0, False, False))
        await store.record_reply(ReplyRecord("d", SHORT, at, 5.0, False, False, limited="rate"))
        await store.record_usage(UsageRecord(LONG, "a", "claude-sonnet-x", 100, 200, 9000, 300, 0.02, at))
        await store.record_usage(
            UsageRecord(LONG, "a", "claude-haiku-x", 2000, 150, 0, 0, 0.003, at)
        )  # summary
        await store.record_usage(UsageRecord(SHORT, "b", "claude-sonnet-x", 1500, 100, 0, 1400, 0.012, at))
        await store.record_usage(UsageRecord(OTHER_SPACE, "c", "claude-sonnet-x", 50, 10, 0, 0, 0.001, at))
        stats = await gather_stats(store, "slack", 7, now=NOW)
    finally:
        await store.close()

    spaces = dict(stats.per_space)
    assert list(spaces) == ["slack:T1", "slack:T2"]  # costliest first
    t1 = spaces["slack:T1"]
    assert (t1.input_tokens, t1.output_tokens, t1.cache_read_tokens, t1.cache_write_tokens) == (
        3600,
        450,
        9000,
        1700,
    )
    assert round(t1.cost_usd, 6) == 0.035 and t1.limited == 1
    assert [ref for ref, _ in stats.top_threads] == [LONG, SHORT, OTHER_SPACE]
    assert round(stats.top_threads[0][1].cost_usd, 6) == 0.023
    table = format_table(stats)
    assert "slack:T1" in table and LONG.key in table and "$0.04" in table
