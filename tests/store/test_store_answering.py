"""The ``Answering`` role's grouped trips, on every backend in ``conftest.BACKENDS``: each does what the
single methods it stands for would do one after the other, in one transaction; and on SQLite it is one trip
to the connection's thread."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.store import PendingReply, ReplyRecord, Store, UsageRecord
from bot.store.sqlite import SQLiteStore
from bot.types import ThreadRef, Turn

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
THREAD = ThreadRef("slack", "T1", "C1", "1714564800.000100")
OTHER_THREAD = ThreadRef("slack", "T1", "C1", "1714564899.000200")
EXCHANGE = (
    {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "lookup_order", "input": {}}]},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "shipped"}]},
)


def asked(n: int, ref: ThreadRef = THREAD) -> Turn:
    return Turn("user", f"U{n}", f"question {n}", f"m{n}", T0 + timedelta(seconds=n), user_id=f"U{n}")


def answered(n: int) -> Turn:
    return Turn(
        "assistant", "bot", f"answer {n}", f"b{n}", T0 + timedelta(seconds=n), EXCHANGE, answered_for="U1"
    )


def reply(n: int, ref: ThreadRef = THREAD) -> ReplyRecord:
    return ReplyRecord(f"r{n}", ref, T0 + timedelta(seconds=n), 120.5, False, False, user_id="U1")


def usage(n: int) -> UsageRecord:
    return UsageRecord(
        THREAD, f"r{n}", "claude-sonnet-4-5", 1000, 200, 50, 5, 0.0125, T0 + timedelta(seconds=n)
    )


async def test_take_turn_stores_the_turn_and_reads_the_thread_back(store: Store) -> None:
    await store.append_turn(THREAD, asked(1))
    await store.append_turn(THREAD, answered(2))
    await store.append_turn(OTHER_THREAD, asked(3))
    await store.save_summary(THREAD, "the story so far", "m1", T0)

    state = await store.take_turn(THREAD, asked(4), 10)

    assert state.escalated is False
    assert state.turns == [asked(1), answered(2), asked(4)]
    assert state.turns == await store.load_turns(THREAD, 10)
    assert state.summary == await store.load_summary(THREAD)
    assert state.summary is not None and state.summary.text == "the story so far"
    assert state.space_tokens is None  # not asked for


async def test_take_turn_loads_the_newest_turns_and_no_summary_when_there_is_none(store: Store) -> None:
    for n in range(1, 6):
        await store.append_turn(THREAD, asked(n))
    state = await store.take_turn(THREAD, asked(6), 3)
    assert [turn.message_id for turn in state.turns] == ["m4", "m5", "m6"]
    assert state.summary is None
    assert (await store.take_turn(OTHER_THREAD, asked(7), 0)).turns == []


async def test_take_turn_replaces_a_turn_with_the_same_message_id(store: Store) -> None:
    await store.append_turn(THREAD, asked(1))
    edited = Turn("user", "U1", "question 1, edited", "m1", T0 + timedelta(seconds=1), user_id="U1")
    state = await store.take_turn(THREAD, edited, 10)
    assert state.turns == [edited]


async def test_take_turn_says_whether_the_thread_is_escalated(store: Store) -> None:
    await store.open_escalation(THREAD, "U1", "wants a human")
    assert (await store.take_turn(THREAD, asked(1), 10)).escalated is True
    assert (await store.take_turn(OTHER_THREAD, asked(2), 10)).escalated is False
    await store.resolve_escalations(THREAD, "L1")
    assert (await store.take_turn(THREAD, asked(3), 10)).escalated is False
    assert [turn.message_id for turn in await store.load_turns(THREAD)] == ["m1", "m3"]


async def test_take_turn_reads_the_space_tokens_since_a_time_when_asked(store: Store) -> None:
    await store.record_usage(usage(1))
    await store.record_usage(usage(10))
    since = T0 + timedelta(seconds=5)
    state = await store.take_turn(THREAD, asked(20), 10, since)
    assert state.space_tokens == await store.tokens_used_since("slack", "T1", since) == 1255
    empty = await store.take_turn(ThreadRef("slack", "T2", "C1", "1"), asked(21), 10, since)
    assert empty.space_tokens == 0


async def test_finish_reply_keeps_the_turn_reply_and_usage_and_settles_the_pending_reply(
    store: Store,
) -> None:
    await store.append_turn(THREAD, asked(1))
    await store.add_pending_reply(PendingReply("r2", THREAD, "b2", T0))
    await store.add_pending_reply(PendingReply("r9", THREAD, "b9", T0))

    await store.finish_reply(reply(2), answered(2), usage(2))

    assert await store.load_turns(THREAD) == [asked(1), answered(2)]
    assert await store.replies_since(T0) == [reply(2)]
    assert await store.usage_since(T0) == [usage(2)]
    assert [pending.reply_id for pending in await store.pending_replies("slack")] == ["r9"]


async def test_finish_reply_without_usage_or_pending_reply(store: Store) -> None:
    limited = ReplyRecord("r3", THREAD, T0, None, False, False, "rate", "U1")
    await store.finish_reply(limited, answered(3))
    assert await store.replies_since(T0) == [limited]
    assert await store.usage_since(T0) == []
    assert await store.load_turns(THREAD) == [answered(3)]


async def test_finish_reply_twice_keeps_one_of_each(store: Store) -> None:
    """As each single write: sent again (e.g. after a lost connection), nothing is doubled."""
    for _ in range(2):
        await store.finish_reply(reply(2), answered(2), usage(2))
    assert await store.load_turns(THREAD) == [answered(2)]
    assert await store.replies_since(T0) == [reply(2)]
    assert await store.usage_since(T0) == [usage(2)]


async def test_finish_reply_with_a_refused_record_writes_nothing(store: Store) -> None:
    await store.add_pending_reply(PendingReply("r2", THREAD, "b2", T0))
    naive = UsageRecord(THREAD, "r2", "m", 1, 1, 0, 0, 0.0, datetime(2024, 5, 1, 12))  # refused: no time zone
    try:
        await store.finish_reply(reply(2), answered(2), naive)
    except ValueError:
        pass
    else:
        raise AssertionError("a naive datetime must be refused")
    assert await store.load_turns(THREAD) == []
    assert await store.replies_since(T0) == []
    assert [pending.reply_id for pending in await store.pending_replies("slack")] == ["r2"]


async def test_sqlite_each_grouped_method_is_one_trip_to_the_connection_thread() -> None:
    store = await SQLiteStore.open(":memory:")
    try:
        before = store.trips
        await store.take_turn(THREAD, asked(1), 80, T0)
        assert store.trips - before == 1
        before = store.trips
        await store.finish_reply(reply(2), answered(2), usage(2))
        assert store.trips - before == 1
        before = store.trips
        await store.append_turn(THREAD, asked(3))
        await store.is_escalated(THREAD)
        assert store.trips - before == 2  # one per single statement
    finally:
        await store.close()
