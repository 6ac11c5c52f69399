"""Stats for `/support stats` and `supportbot stats`: totals, by UTC day and by channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.stats import Channel, Figures, format_table, gather_stats
from bot.store import ReplyRecord, UsageRecord
from bot.store.sqlite import MEMORY, SQLiteStore
from bot.types import ThreadRef

NOW = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)
SLACK = ThreadRef("slack", "T1", "C1", "1.000100")
SLACK_OTHER = ThreadRef("slack", "T1", "C2", "2.000100")
DISCORD = ThreadRef("discord", "G1", "P1", "9")


def reply(
    reply_id: str,
    ref: ThreadRef,
    days_ago: float,
    first_ms: float | None,
    *,
    failed: bool = False,
    fallback: bool = False,
    limited: str | None = None,
) -> ReplyRecord:
    return ReplyRecord(reply_id, ref, NOW - timedelta(days=days_ago), first_ms, failed, fallback, limited)


def usage(ref: ThreadRef, reply_id: str, tokens_in: int, tokens_out: int, cost: float) -> UsageRecord:
    return UsageRecord(ref, reply_id, "claude-sonnet-4-5", tokens_in, tokens_out, 300, 100, cost, NOW)


@pytest.fixture
async def store() -> AsyncIterator[SQLiteStore]:
    opened = await SQLiteStore.open(MEMORY, clock=lambda: NOW)
    yield opened
    await opened.close()


async def seed(store: SQLiteStore) -> None:
    for record in (
        reply("a", SLACK, 0.1, 400.0),
        reply("b", SLACK, 0.2, 800.0, fallback=True),
        reply("c", SLACK_OTHER, 1.5, None, failed=True),
        reply("n", SLACK_OTHER, 1.4, 5.0, limited="rate"),
        reply("d", SLACK, 9.0, 100.0),  # before the period
        reply("e", DISCORD, 0.1, 50.0),  # another platform
    ):
        await store.record_reply(record)
    await store.record_feedback("a", "U1", True)
    await store.record_feedback("a", "U2", False)
    await store.record_feedback("c", "U2", False)
    await store.record_feedback("e", "U3", True)
    await store.record_usage(usage(SLACK, "a", 1000, 200, 0.006))
    await store.record_usage(usage(DISCORD, "e", 5000, 900, 0.03))
    await store.open_escalation(SLACK, "U1", "help")
    await store.open_escalation(SLACK_OTHER, "U2", "help")
    await store.resolve_escalations(SLACK_OTHER, "lead")
    await store.open_escalation(DISCORD, "U9", "help")


async def test_one_platform_in_total_by_day_and_by_channel(store: SQLiteStore) -> None:
    await seed(store)
    stats = await gather_stats(store, "slack", 7, now=NOW)
    assert (stats.since, stats.days, stats.platform) == (NOW - timedelta(days=7), 7, "slack")
    assert stats.total == Figures(
        questions=4,
        answers=2,
        fallback=1,
        failed=1,
        limited=1,
        helpful=1,
        not_helpful=2,
        escalations=2,
        median_first_text_ms=pytest.approx(600.0),
        input_tokens=1000,
        output_tokens=200,
        cache_read_tokens=300,
        cache_write_tokens=100,
        cost_usd=pytest.approx(0.006),
    )
    assert stats.open_escalations == 1  # the other one was resolved
    days = dict(stats.per_day)
    assert list(days) == [date(2024, 5, 9), date(2024, 5, 10)]
    assert (days[date(2024, 5, 9)].questions, days[date(2024, 5, 9)].failed) == (2, 1)
    assert days[date(2024, 5, 9)].not_helpful == 1  # the vote goes to the day of the reply it is on
    assert (days[date(2024, 5, 10)].answers, days[date(2024, 5, 10)].escalations) == (2, 2)
    channels = dict(stats.per_channel)
    assert [c.label for c, _ in stats.per_channel] == ["slack:C1", "slack:C2"]  # ties by channel
    assert channels[Channel("slack", "T1", "C2")].escalations == 1
    assert channels[Channel("slack", "T1", "C1")].cost_usd == pytest.approx(0.006)


async def test_all_platforms_and_the_terminal_table(store: SQLiteStore) -> None:
    await seed(store)
    stats = await gather_stats(store, None, 7, now=NOW)
    assert (stats.total.questions, stats.total.answers, stats.total.helpful) == (5, 3, 2)
    assert stats.per_channel[0][0].label == "slack:C1"  # the most questions first
    table = format_table(stats).splitlines()
    assert table[0] == "Support stats for the last 7 day(s), all platforms (since 2024-05-03 12:00 UTC)"
    header = table[2].split()
    assert header[:3] == ["day", "questions", "answers"] and header[-1] == "cost"
    assert table[3].split()[:3] == ["2024-05-09", "2", "0"]
    assert table[5].split()[:3] == ["total", "5", "3"] and table[5].endswith("$0.04")
    assert "discord:P1" in "\n".join(table) and table[-1] == "Open escalations now: 2"


async def test_no_activity_and_days_must_be_positive(store: SQLiteStore) -> None:
    stats = await gather_stats(store, "slack", 1)
    assert (stats.total, stats.per_day, stats.per_channel) == (Figures(), (), ())
    assert "No questions" in format_table(stats)
    with pytest.raises(ValueError, match="days"):
        await gather_stats(store, "slack", 0)


async def test_the_terminal_table_fits_the_terminal_width(store: SQLiteStore) -> None:
    await seed(store)
    long_thread = ThreadRef("slack", "T1", "C1", "1715342400.123456-a-very-long-thread-key-indeed")
    await store.record_reply(reply("x", long_thread, 0.3, 100.0))
    await store.record_usage(usage(long_thread, "x", 10, 10, 9.0))
    stats = await gather_stats(store, None, 7, now=NOW)
    wide = format_table(stats).splitlines()
    assert max(len(line) for line in wide) > 120  # the plain table keeps its full lines

    for width in (100, 80, 60):
        table = format_table(stats, width).splitlines()
        assert max(len(line) for line in table) <= width, width
        text = "\n".join(table)
        for column in ("questions", "not helpful", "first text", "tokens out", "cost"):
            assert column in text  # every column is still there, in a table of its own if need be
        totals = [line.split() for line in table if line.startswith("total")]
        assert totals[0][:3] == ["total", "6", "4"] and any(row[-1] == "$9.04" for row in totals)
    narrow = format_table(stats, 60)
    assert "slack:T1:C1:1715342400.123456-a-very-long-thread-key-indeed" in format_table(stats, 200)
    cut = [line.split()[0] for line in narrow.splitlines() if line.startswith("slack:") and "…" in line]
    assert cut and all(label.endswith("-indeed") for label in cut)  # a long thread key is cut in its middle
    assert format_table(stats, 1000) == format_table(stats)  # room enough: the same table
