"""Store contract for context and cost control: thread summaries, a space's tokens since a time, and reply
rows marked as limit notices. Runs on every backend of ``BACKENDS`` (tests/store/conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.store import ReplyRecord, Store, UsageRecord
from bot.types import ThreadRef, Turn

THREAD = ThreadRef("slack", "T1", "C1", "1.000100")
OTHER_THREAD = ThreadRef("slack", "T1", "C2", "2.000200")
OTHER_SPACE = ThreadRef("slack", "T2", "C1", "1.000100")
DISCORD = ThreadRef("discord", "T1", "C1", "1.000100")  # same ids on another platform
NOW = datetime(2026, 3, 1, 15, 30, tzinfo=UTC)


async def test_a_thread_has_at_most_one_summary_and_saving_replaces_it(store: Store) -> None:
    assert await store.load_summary(THREAD) is None
    await store.save_summary(THREAD, "Ada asked about ORD-1.", "m-10", NOW - timedelta(minutes=5))
    first = await store.load_summary(THREAD)
    assert first is not None
    assert (first.text, first.covers_until_message_id) == ("Ada asked about ORD-1.", "m-10")
    assert first.covers_until_time == NOW - timedelta(minutes=5)
    assert first.covers_until_time.tzinfo is not None

    await store.save_summary(THREAD, "Ada asked about ORD-1 and ORD-2.", "m-30", NOW)
    second = await store.load_summary(THREAD)
    assert second is not None
    assert (second.text, second.covers_until_message_id, second.covers_until_time) == (
        "Ada asked about ORD-1 and ORD-2.",
        "m-30",
        NOW,
    )
    assert second.updated_at >= first.updated_at
    assert await store.load_summary(OTHER_THREAD) is None
    assert await store.load_summary(DISCORD) is None


async def test_clearing_a_thread_forgets_its_summary(store: Store) -> None:
    await store.append_turn(THREAD, Turn("user", "Ada", "hi", "m-1", NOW))
    await store.save_summary(THREAD, "summary", "m-1", NOW)
    await store.save_summary(OTHER_THREAD, "another", "m-1", NOW)
    await store.clear_turns(THREAD)
    assert await store.load_summary(THREAD) is None
    assert await store.load_summary(OTHER_THREAD) is not None


def usage(
    ref: ThreadRef, at: datetime, tokens: tuple[int, int, int, int], model: str = "claude-x"
) -> UsageRecord:
    return UsageRecord(ref, "r", model, *tokens, cost_usd=0.01, at=at)


async def test_tokens_used_since_sums_every_kind_of_token_of_one_space(store: Store) -> None:
    midnight = NOW.replace(hour=0, minute=0)
    assert await store.tokens_used_since("slack", "T1", midnight) == 0
    await store.record_usage(usage(THREAD, NOW, (1000, 200, 5000, 300)))
    await store.record_usage(usage(OTHER_THREAD, midnight, (10, 20, 30, 40), model="claude-haiku"))
    await store.record_usage(usage(THREAD, midnight - timedelta(microseconds=1), (7, 7, 7, 7)))  # yesterday
    await store.record_usage(usage(OTHER_SPACE, NOW, (9, 9, 9, 9)))
    await store.record_usage(usage(DISCORD, NOW, (9, 9, 9, 9)))
    assert await store.tokens_used_since("slack", "T1", midnight) == 6500 + 100
    assert await store.tokens_used_since("slack", "T2", midnight) == 36
    assert await store.tokens_used_since("slack", "T1", NOW + timedelta(seconds=1)) == 0


async def test_a_reply_row_keeps_why_it_was_a_limit_notice(store: Store) -> None:
    await store.record_reply(ReplyRecord("a", THREAD, NOW, 120.0, False, False))
    await store.record_reply(ReplyRecord("b", THREAD, NOW, 3.0, False, False, limited="rate"))
    await store.record_reply(ReplyRecord("c", THREAD, NOW, None, True, False, limited="budget"))
    rows = {row.reply_id: row.limited for row in await store.replies_since(NOW - timedelta(hours=1))}
    assert rows == {"a": None, "b": "rate", "c": "budget"}
