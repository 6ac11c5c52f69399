"""The Store contract, run against every backend in ``conftest.BACKENDS``; then SQLite specifics.

The contract tests use only the ``Store`` protocol (fixtures ``store`` and ``open_another``). The tests
after them check what only SQLite has: file handling, pragmas, migration bookkeeping and URL parsing.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import aiosqlite
import pytest

import bot.store.postgres
import bot.store.sqlite
from bot.store import AuditRecord, LeadAction, PendingReply, ReplyRecord, Store, UsageRecord
from bot.store.migrations import Migration, MigrationError
from bot.store.migrations.sqlite import MIGRATIONS
from bot.store.open import StoreUnavailable, open_store, parse_sqlite_url
from bot.store.records import LEAD_ACTION_ARGUMENT_CHARS
from bot.store.sqlite import SQLiteStore, apply_migrations
from bot.types import ThreadRef, Turn

OpenStore = Callable[[], Awaitable[Store]]  # the ``open_another`` fixture (see conftest.py)

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
THREAD = ThreadRef("slack", "T1", "C1", "1714564800.000100")
OTHER_THREAD = ThreadRef("slack", "T1", "C1", "1714564899.000200")
DISCORD_THREAD = ThreadRef("discord", "G1", "P1", "9001")


def turn(n: int, *, role: str = "user", message_id: str | None = None, **kwargs: object) -> Turn:
    return Turn(
        role=role,  # type: ignore[arg-type]
        author=f"U{n}" if role == "user" else "bot",
        text=f"message {n}",
        message_id=f"m{n}" if message_id is None else message_id,
        sent_at=T0 + timedelta(seconds=n),
        **kwargs,  # type: ignore[arg-type]
    )


def usage(n: int, at: datetime) -> UsageRecord:
    return UsageRecord(
        ref=THREAD,
        reply_id=f"r{n}",
        model="claude-sonnet-4-5",
        input_tokens=1000 + n,
        output_tokens=200 + n,
        cache_read_tokens=50 + n,
        cache_write_tokens=n,
        cost_usd=0.0125 * n,
        at=at,
    )


def audit(n: int, at: datetime, *, allowed: bool = True) -> AuditRecord:
    return AuditRecord(
        at=at,
        platform="slack",
        user_id="U1",
        principal="customer:C-1001",
        thread_key=THREAD.key,
        tool=f"tool{n}",
        args_digest=f"sha256:{n:04d}",
        allowed=allowed,
        outcome="ok" if allowed else "denied",
        latency_ms=1.5 * n,
    )


# ---------------------------------------------------------------------------------------------------------
# Contract: dedup


async def test_claim_event_first_time_true_then_false(store: Store) -> None:
    assert await store.claim_event("Ev1") is True
    assert await store.claim_event("Ev1") is False
    assert await store.claim_event("Ev1") is False
    assert await store.claim_event("Ev2") is True


async def test_claim_event_rejects_empty_id(store: Store) -> None:
    with pytest.raises(ValueError, match="event_id"):
        await store.claim_event("")


async def test_claim_event_concurrent_claims_have_one_winner(store: Store) -> None:
    results = await asyncio.gather(*(store.claim_event("Ev-race") for _ in range(20)))
    assert sorted(results) == [False] * 19 + [True]


async def test_claim_event_one_winner_across_two_handles(store: Store, open_another: OpenStore) -> None:
    second = await open_another()
    claims = [(store if i % 2 else second).claim_event("Ev-race-2") for i in range(20)]
    results = await asyncio.gather(*claims)
    assert results.count(True) == 1
    assert await second.claim_event("Ev-race-2") is False


# ---------------------------------------------------------------------------------------------------------
# Contract: conversation turns


async def test_turns_round_trip_with_exchange(store: Store) -> None:
    exchange = (
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "tu_1", "name": "lookup_order", "input": {"order_id": "ORD-10001"}}
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "tu_1",
                    "content": "Shipped ✓ — 2 items",
                    "is_error": False,
                }
            ],
        },
        {"role": "assistant", "content": [{"type": "text", "text": "It shipped."}], "n": None, "x": 1.5},
    )
    user = turn(1)
    bot = Turn("assistant", "bot", "It shipped.", "m2", T0 + timedelta(seconds=2), exchange)
    await store.append_turn(THREAD, user)
    await store.append_turn(THREAD, bot)

    loaded = await store.load_turns(THREAD)

    assert loaded == [user, bot]
    assert loaded[1].exchange == exchange
    assert isinstance(loaded[1].exchange, tuple)
    assert loaded[0].exchange == ()
    assert all(t.sent_at.utcoffset() == timedelta(0) for t in loaded)
    assert await store.load_turns(OTHER_THREAD) == []


async def test_load_turns_limit_returns_newest_oldest_first(store: Store) -> None:
    turns = [turn(n, role="user" if n % 2 else "assistant") for n in range(1, 6)]
    for t in turns:
        await store.append_turn(THREAD, t)

    assert await store.load_turns(THREAD, limit=2) == turns[3:]
    assert await store.load_turns(THREAD, limit=1) == turns[4:]
    assert await store.load_turns(THREAD, limit=0) == []
    assert await store.load_turns(THREAD, limit=50) == turns
    assert await store.load_turns(THREAD, limit=None) == turns


async def test_load_turns_orders_by_sent_at_not_insertion(store: Store) -> None:
    late, early = turn(9), turn(3)
    await store.append_turn(THREAD, late)
    await store.append_turn(THREAD, early)
    assert await store.load_turns(THREAD) == [early, late]
    assert await store.load_turns(THREAD, limit=1) == [late]


async def test_turn_with_known_message_id_replaces_it(store: Store) -> None:
    await store.append_turn(THREAD, turn(1))
    edited = Turn("user", "U1", "message 1 (edited)", "m1", T0 + timedelta(seconds=1))
    await store.append_turn(THREAD, edited)
    # Turns without a platform message id are never merged.
    await store.append_turn(THREAD, turn(2, message_id=""))
    await store.append_turn(THREAD, turn(3, message_id=""))
    # The same message id in another thread is another message.
    await store.append_turn(OTHER_THREAD, turn(1))

    assert [t.text for t in await store.load_turns(THREAD)] == [
        "message 1 (edited)",
        "message 2",
        "message 3",
    ]
    assert await store.load_turns(OTHER_THREAD) == [turn(1)]


async def test_times_in_other_zones_come_back_as_utc_and_sort_by_instant(store: Store) -> None:
    cest = timezone(timedelta(hours=2))
    await store.append_turn(
        THREAD, Turn("user", "U1", "later", "m2", datetime(2024, 5, 1, 12, 0, tzinfo=UTC))
    )
    # 13:00 CEST is 11:00 UTC: earlier, although its local clock reading is later.
    await store.append_turn(
        THREAD, Turn("user", "U1", "earlier", "m1", datetime(2024, 5, 1, 13, 0, tzinfo=cest))
    )

    loaded = await store.load_turns(THREAD)

    assert [t.text for t in loaded] == ["earlier", "later"]
    assert loaded[0].sent_at == datetime(2024, 5, 1, 11, 0, tzinfo=UTC)
    assert all(t.sent_at.utcoffset() == timedelta(0) for t in loaded)
    await store.record_usage(usage(1, datetime(2024, 5, 1, 12, 30, tzinfo=UTC)))
    assert len(await store.usage_since(datetime(2024, 5, 1, 14, 0, tzinfo=cest))) == 1  # 12:00 UTC
    assert await store.usage_since(datetime(2024, 5, 1, 15, 0, tzinfo=cest)) == []  # 13:00 UTC


async def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="naive"):
        await store.append_turn(THREAD, Turn("user", "U1", "hi", "m1", datetime(2024, 5, 1, 12, 0)))
    with pytest.raises(ValueError, match="naive"):
        await store.usage_since(datetime(2024, 5, 1))
    assert await store.load_turns(THREAD) == []


async def test_clear_turns_clears_only_that_thread(store: Store) -> None:
    await store.append_turn(THREAD, turn(1))
    await store.append_turn(OTHER_THREAD, turn(2))
    await store.clear_turns(THREAD)
    assert await store.load_turns(THREAD) == []
    assert await store.load_turns(OTHER_THREAD) == [turn(2)]


# ---------------------------------------------------------------------------------------------------------
# Contract: identity links


async def test_identity_link_upsert_and_unlink(store: Store) -> None:
    assert await store.customer_for("slack", "U1") is None

    await store.link_identity("slack", "U1", "C-1001")
    await store.link_identity("slack", "U2", "C-2002")
    assert await store.customer_for("slack", "U1") == "C-1001"

    await store.link_identity("slack", "U1", "C-3003")  # relinking replaces
    assert await store.customer_for("slack", "U1") == "C-3003"
    assert await store.customer_for("discord", "U1") is None  # per platform

    assert await store.unlink_identity("slack", "U1") is True
    assert await store.customer_for("slack", "U1") is None
    assert await store.unlink_identity("slack", "U1") is False
    assert await store.customer_for("slack", "U2") == "C-2002"


# ---------------------------------------------------------------------------------------------------------
# Contract: usage and audit


async def test_usage_since_filters_and_round_trips(store: Store) -> None:
    records = [usage(n, T0 + timedelta(hours=n)) for n in range(4)]
    for record in reversed(records):
        await store.record_usage(record)

    assert await store.usage_since(T0 + timedelta(hours=2)) == records[2:]  # inclusive, oldest first
    assert await store.usage_since(T0 + timedelta(hours=1, microseconds=1)) == records[2:]
    assert await store.usage_since(T0 - timedelta(days=1)) == records
    assert await store.usage_since(T0 + timedelta(days=1)) == []


async def test_tool_calls_newest_first_with_limit(store: Store) -> None:
    records = [audit(n, T0 + timedelta(seconds=n), allowed=n != 2) for n in range(5)]
    for record in records:
        await store.record_tool_call(record)

    assert await store.tool_calls() == list(reversed(records))
    assert await store.tool_calls(limit=2) == [records[4], records[3]]
    assert [r.allowed for r in await store.tool_calls()] == [True, True, False, True, True]
    assert await store.tool_calls(limit=0) == []


async def test_tool_calls_at_the_same_instant_newest_insert_first(store: Store) -> None:
    first, second = audit(1, T0), audit(2, T0)
    await store.record_tool_call(first)
    await store.record_tool_call(second)
    assert await store.tool_calls() == [second, first]


async def test_an_audit_or_usage_row_sent_twice_is_kept_once(store: Store) -> None:
    """What a statement sent again after its connection broke (post-commit) must not do: count twice."""
    call = audit(1, T0)
    await store.record_tool_call(call)
    await store.record_tool_call(call)
    assert await store.tool_calls() == [call]

    spent = UsageRecord(THREAD, "reply-1", "claude-x", 10, 20, 30, 40, cost_usd=0.5, at=T0)
    await store.record_usage(spent)
    await store.record_usage(spent)
    assert await store.usage_since(T0) == [spent]


# ---------------------------------------------------------------------------------------------------------
# Contract: lead actions


def lead_action(n: int, *, space_id: str = "T1", action: str = "link", argument: str = "") -> LeadAction:
    return LeadAction(
        at=T0 + timedelta(seconds=n),
        platform="slack",
        space_id=space_id,
        channel_id="C1",
        user_id="ULEAD",
        action=action,
        argument=argument or f"<@U{n}> C-{1000 + n}",
    )


async def test_lead_actions_newest_first_per_space_and_kept_once(store: Store) -> None:
    actions = [lead_action(n, action=name) for n, name in enumerate(["link", "pause", "resolve"])]
    elsewhere = lead_action(9, space_id="T2")
    for action in [*actions, elsewhere, actions[1]]:  # the pause sent twice is kept once
        await store.record_lead_action(action)

    assert await store.lead_actions("slack", "T1") == list(reversed(actions))
    assert await store.lead_actions("slack", "T1", limit=1) == [actions[2]]
    assert await store.lead_actions("slack", "T2") == [elsewhere]
    assert await store.lead_actions("discord", "T1") == []
    assert await store.lead_actions("slack", "T1", limit=0) == []

    long = lead_action(20, argument="x" * (LEAD_ACTION_ARGUMENT_CHARS + 50))
    await store.record_lead_action(long)
    [kept] = await store.lead_actions("slack", "T1", limit=1)
    assert kept.argument == "x" * LEAD_ACTION_ARGUMENT_CHARS


async def test_lead_actions_keep_only_the_newest(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (bot.store.sqlite, bot.store.postgres):
        monkeypatch.setattr(module, "LEAD_ACTIONS_KEPT", 3)
    actions = [lead_action(n) for n in range(5)]
    for action in actions:
        await store.record_lead_action(action)
    assert await store.lead_actions("slack", "T1") == [actions[4], actions[3], actions[2]]


# ---------------------------------------------------------------------------------------------------------
# Contract: escalations


async def test_escalation_lifecycle(store: Store) -> None:
    before = datetime.now(UTC)
    assert await store.is_escalated(THREAD) is False
    assert await store.open_escalations() == []

    first = await store.open_escalation(THREAD, "U1", "Customer wants a refund")
    other = await store.open_escalation(DISCORD_THREAD, "U9", "Bot could not find the order")

    assert first.id != other.id
    assert (first.ref, first.user_id, first.summary) == (THREAD, "U1", "Customer wants a refund")
    assert first.resolved_at is None and first.resolved_by is None
    assert before - timedelta(seconds=1) <= first.opened_at <= datetime.now(UTC) + timedelta(seconds=1)
    assert await store.is_escalated(THREAD) is True
    assert await store.is_escalated(OTHER_THREAD) is False
    assert await store.open_escalations() == [first, other]

    assert await store.resolve_escalations(THREAD, "lead-U5") == 1
    assert await store.is_escalated(THREAD) is False
    assert await store.is_escalated(DISCORD_THREAD) is True
    assert await store.open_escalations() == [other]
    assert await store.resolve_escalations(THREAD, "lead-U5") == 0


async def test_escalations_since_lists_open_and_resolved_ones_opened_in_the_period(store: Store) -> None:
    first = await store.open_escalation(THREAD, "U1", "first")
    second = await store.open_escalation(DISCORD_THREAD, "U9", "second")
    await store.resolve_escalations(THREAD, "lead")
    listed = await store.escalations_since(first.opened_at)
    assert [(e.id, e.resolved_by) for e in listed] == [(first.id, "lead"), (second.id, None)]
    assert await store.escalations_since(datetime.now(UTC) + timedelta(seconds=1)) == []


async def test_a_thread_has_at_most_one_open_escalation_until_a_lead_resolves_it(store: Store) -> None:
    first = await store.open_escalation(THREAD, "U1", "first")
    assert first is not None
    assert await store.open_escalation(THREAD, "U2", "second") is None
    assert await store.open_escalations() == [first]

    assert await store.resolve_escalations(THREAD, "lead") == 1
    assert await store.is_escalated(THREAD) is False
    again = await store.open_escalation(THREAD, "U2", "the same problem came back")
    assert again is not None and again.id != first.id
    assert await store.open_escalations() == [again]


async def test_two_people_asking_for_a_human_at_once_open_one_escalation(
    store: Store, open_another: OpenStore
) -> None:
    other_instance = await open_another()
    opened = await asyncio.gather(
        *(
            (store if n % 2 else other_instance).open_escalation(THREAD, f"U{n}", f"request {n}")
            for n in range(10)
        )
    )
    winners = [escalation for escalation in opened if escalation is not None]
    assert len(winners) == 1
    assert await store.open_escalations() == winners


# ---------------------------------------------------------------------------------------------------------
# Contract: feedback


async def test_feedback_one_vote_per_user_replaced_by_new_vote(store: Store) -> None:
    assert await store.feedback_for("r1") == {}
    await store.record_feedback("r1", "U1", True)
    await store.record_feedback("r1", "U2", False)
    await store.record_feedback("r2", "U1", False)
    assert await store.feedback_for("r1") == {"U1": True, "U2": False}

    await store.record_feedback("r1", "U1", False)
    assert await store.feedback_for("r1") == {"U1": False, "U2": False}
    assert await store.feedback_for("r2") == {"U1": False}


async def test_feedback_since_lists_the_current_votes_cast_after_a_time(store: Store) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    await store.record_feedback("r1", "U1", True)
    await store.record_feedback("r1", "U2", False)
    await store.record_feedback("r1", "U1", False)  # replaces the first vote
    votes = await store.feedback_since(before)
    assert sorted((v.reply_id, v.user_id, v.helpful) for v in votes) == [
        ("r1", "U1", False),
        ("r1", "U2", False),
    ]
    assert all(v.at >= before and v.at.tzinfo is not None for v in votes)
    assert await store.feedback_since(datetime.now(UTC) + timedelta(hours=1)) == []


# ---------------------------------------------------------------------------------------------------------
# Contract: replies


async def test_replies_round_trip_filtered_by_start_oldest_first(store: Store) -> None:
    late = ReplyRecord("r-late", THREAD, T0 + timedelta(minutes=5), 812.5, failed=False, fallback=False)
    early = ReplyRecord("r-early", OTHER_THREAD, T0, None, failed=True, fallback=False)
    old = ReplyRecord("r-old", DISCORD_THREAD, T0 - timedelta(days=2), 90.0, failed=False, fallback=True)
    for record in (late, early, old):
        await store.record_reply(record)
    assert await store.replies_since(T0) == [early, late]
    assert await store.replies_since(T0 - timedelta(days=3)) == [old, early, late]

    again = ReplyRecord("r-late", THREAD, T0 + timedelta(minutes=5), 700.0, failed=False, fallback=True)
    await store.record_reply(again)  # the same reply again replaces the row
    assert await store.replies_since(T0) == [early, again]


# ---------------------------------------------------------------------------------------------------------
# Contract: paused channels


async def test_pause_resume_per_channel_and_platform(store: Store) -> None:
    assert await store.is_paused("slack", "T1", "C1") is False
    await store.pause_channel("slack", "T1", "C1", "U-lead")
    await store.pause_channel("slack", "T1", "C1", "U-other")  # already paused: harmless
    assert await store.is_paused("slack", "T1", "C1") is True
    assert await store.is_paused("slack", "T1", "C2") is False
    assert await store.is_paused("slack", "T2", "C1") is False
    assert await store.is_paused("discord", "T1", "C1") is False

    assert await store.resume_channel("slack", "T1", "C1") is True
    assert await store.resume_channel("slack", "T1", "C1") is False
    assert await store.is_paused("slack", "T1", "C1") is False


async def test_a_thread_is_marked_solved_once_and_listed_since_a_time(store: Store) -> None:
    before = datetime.now(UTC) - timedelta(minutes=1)
    assert await store.mark_solved(THREAD, "U-asker", "M1") is True
    assert await store.mark_solved(THREAD, "U-lead", "M2") is False  # the first mark is kept
    assert await store.mark_solved(OTHER_THREAD, "U-lead", "M3") is True
    assert await store.solved_since(before) == [THREAD, OTHER_THREAD]
    assert await store.solved_since(datetime.now(UTC) + timedelta(minutes=1)) == []


# ---------------------------------------------------------------------------------------------------------
# Contract: pending replies


async def test_pending_replies_add_list_settle(store: Store) -> None:
    a = PendingReply("r-a", THREAD, "slack-msg-a", T0 + timedelta(seconds=5))
    b = PendingReply("r-b", OTHER_THREAD, "slack-msg-b", T0)
    c = PendingReply("r-c", DISCORD_THREAD, "discord-msg-c", T0)
    for pending in (a, b, c):
        await store.add_pending_reply(pending)

    assert await store.pending_replies("slack") == [b, a]  # oldest first
    assert await store.pending_replies("discord") == [c]
    assert await store.pending_replies("console") == []

    await store.settle_pending_reply("r-b")
    await store.settle_pending_reply("r-b")  # settling twice is harmless
    await store.settle_pending_reply("never-added")
    assert await store.pending_replies("slack") == [a]

    moved = PendingReply("r-a", THREAD, "slack-msg-a2", T0 + timedelta(seconds=6))
    await store.add_pending_reply(moved)  # the same reply again replaces the record
    assert await store.pending_replies("slack") == [moved]


# ---------------------------------------------------------------------------------------------------------
# Contract: lifetime


async def test_data_survives_reopen(store: Store, open_another: OpenStore) -> None:
    await store.claim_event("Ev1")
    await store.append_turn(THREAD, turn(1))
    await store.link_identity("slack", "U1", "C-1001")
    escalation = await store.open_escalation(THREAD, "U1", "help")
    await store.pause_channel("slack", "T1", "C1", "U-lead")
    await store.close()
    await store.close()  # closing twice is harmless

    reopened = await open_another()
    assert await reopened.claim_event("Ev1") is False
    assert await reopened.load_turns(THREAD) == [turn(1)]
    assert await reopened.customer_for("slack", "U1") == "C-1001"
    assert await reopened.open_escalations() == [escalation]
    assert await reopened.is_paused("slack", "T1", "C1") is True


async def test_cancelled_calls_leave_the_store_usable(store: Store) -> None:
    for delay in range(8):
        task = asyncio.create_task(store.append_turn(THREAD, turn(100 + delay)))
        for _ in range(delay):
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    await store.append_turn(THREAD, turn(1))
    assert await store.claim_event("after-cancel") is True
    loaded = await store.load_turns(THREAD)
    assert loaded[0] == turn(1)
    assert {t.message_id for t in loaded[1:]} <= {f"m{100 + d}" for d in range(8)}


# ---------------------------------------------------------------------------------------------------------
# SQLite: files, pragmas, concurrency between connections


def sqlite_rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


async def test_sqlite_creates_parent_directory_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "supportbot.db"
    store = await open_store(f"sqlite:///{path}")
    try:
        assert await store.claim_event("Ev1") is True
        assert path.is_file()
        assert sqlite_rows(path, "PRAGMA journal_mode") == [("wal",)]
        assert isinstance(store, SQLiteStore)
        db = store._db  # per-connection settings can only be read on the store's own connection
        async with db.execute("PRAGMA foreign_keys") as cursor:
            assert tuple(await cursor.fetchone() or ()) == (1,)
        async with db.execute("PRAGMA busy_timeout") as cursor:
            assert tuple(await cursor.fetchone() or ()) == (5000,)
    finally:
        await store.close()


async def test_sqlite_relative_url_is_relative_to_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = await open_store("sqlite:///data/supportbot.db")
    await store.link_identity("slack", "U1", "C-1")
    await store.close()
    assert sqlite_rows(tmp_path / "data" / "supportbot.db", "SELECT customer_id FROM identity_links") == [
        ("C-1",)
    ]


@pytest.mark.parametrize("url", ["sqlite://:memory:", "sqlite:///:memory:"])
async def test_sqlite_in_memory(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = await open_store(url)
    assert await store.claim_event("Ev1") is True
    assert await store.claim_event("Ev1") is False
    await store.close()
    fresh = await open_store(url)
    assert await fresh.claim_event("Ev1") is True  # nothing persisted
    await fresh.close()
    assert list(tmp_path.iterdir()) == []


async def test_sqlite_waits_for_a_writer_in_another_process(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = await open_store(f"sqlite:///{path}")
    locked, release = threading.Event(), threading.Event()

    def other_writer() -> None:
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO processed_events VALUES ('Ev-other', '2999-01-01T00:00:00.000000+00:00')")
        locked.set()
        release.wait(5)
        db.execute("COMMIT")
        db.close()

    writer = threading.Thread(target=other_writer)
    writer.start()
    try:
        assert await asyncio.to_thread(locked.wait, 5)
        claim = asyncio.create_task(store.claim_event("Ev-mine"))
        await asyncio.sleep(0.2)
        assert not claim.done()  # waiting on the busy timeout, not failing with "database is locked"
        release.set()
        assert await claim is True
        assert await store.claim_event("Ev-other") is False
    finally:
        release.set()
        await asyncio.to_thread(writer.join)
        await store.close()


async def test_sqlite_failed_write_releases_the_database_lock(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = await open_store(f"sqlite:///{path}")
    try:
        with pytest.raises(sqlite3.IntegrityError):  # the role CHECK constraint
            await store.append_turn(THREAD, turn(1, role="system"))
        # Another process can write at once: the failed transaction was rolled back, not left holding locks.
        with sqlite3.connect(path, timeout=0.05) as other:
            other.execute(
                "INSERT INTO processed_events VALUES ('Ev-other', '2024-05-01T00:00:00.000000+00:00')"
            )
        assert await store.load_turns(THREAD) == []
    finally:
        await store.close()


async def test_sqlite_reopen_does_not_wait_for_another_writer(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    await (await open_store(f"sqlite:///{path}")).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process is in the middle of a write
    try:
        # An up-to-date schema needs no write lock: opening neither waits for the busy timeout nor fails.
        store = await asyncio.wait_for(open_store(f"sqlite:///{path}"), timeout=2)
        assert await store.customer_for("slack", "U1") is None
        await store.close()
    finally:
        other.execute("ROLLBACK")
        other.close()


async def test_sqlite_concurrent_first_opens_migrate_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    stores = await asyncio.gather(*(open_store(url) for _ in range(4)))
    for store in stores:
        await store.close()
    versions = sqlite_rows(tmp_path / "store.db", "SELECT version FROM schema_migrations ORDER BY version")
    assert versions == [(m.version,) for m in MIGRATIONS]


async def test_sqlite_prunes_old_event_ids(tmp_path: Path) -> None:
    now = [T0]
    store = await SQLiteStore.open(
        tmp_path / "store.db", clock=lambda: now[0], event_retention=timedelta(days=7)
    )
    try:
        assert await store.claim_event("old") is True
        now[0] = T0 + timedelta(days=6)
        assert await store.claim_event("recent") is True
        assert await store.claim_event("old") is False  # within retention
        now[0] = T0 + timedelta(days=8)
        assert await store.claim_event("trigger") is True  # prunes ids claimed before day 1
        assert sqlite_rows(tmp_path / "store.db", "SELECT event_id FROM processed_events ORDER BY 1") == [
            ("recent",),
            ("trigger",),
        ]
        assert await store.claim_event("recent") is False
    finally:
        await store.close()


# ---------------------------------------------------------------------------------------------------------
# SQLite: migrations


NEXT = MIGRATIONS[-1].version + 1  # the version a migration added after this build's would get
EXTRA = Migration(NEXT, "extra", ("CREATE TABLE extra (x INTEGER NOT NULL)",))


async def test_sqlite_reopen_keeps_data_and_does_not_rerun_migrations(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    url = f"sqlite:///{path}"
    store = await open_store(url)
    await store.append_turn(THREAD, turn(1))
    await store.close()
    recorded = sqlite_rows(path, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
    assert [(v, n) for v, n, _ in recorded] == [(m.version, m.name) for m in MIGRATIONS]

    store = await open_store(url)
    assert await store.load_turns(THREAD) == [turn(1)]
    await store.close()
    assert sqlite_rows(path, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version") == (
        recorded
    )


async def test_sqlite_new_migration_applied_once_on_reopen(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    await (await SQLiteStore.open(path)).close()

    async with aiosqlite.connect(path, isolation_level=None) as db:
        db.row_factory = sqlite3.Row
        assert await apply_migrations(db, (*MIGRATIONS, EXTRA)) == [NEXT]
        # EXTRA has no IF NOT EXISTS: running it again would fail.
        assert await apply_migrations(db, (*MIGRATIONS, EXTRA)) == []

    store = await SQLiteStore.open(path, migrations=(*MIGRATIONS, EXTRA))
    await store.close()
    assert sqlite_rows(path, "SELECT version, name FROM schema_migrations ORDER BY version") == [
        *((m.version, m.name) for m in MIGRATIONS),
        (NEXT, "extra"),
    ]


async def test_upgrading_keeps_the_oldest_of_several_open_escalations_in_a_thread(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    before = [m for m in MIGRATIONS if m.name != "one_open_escalation_per_thread"]
    await (await SQLiteStore.open(path, migrations=before)).close()
    with sqlite3.connect(path) as db:  # what two simultaneous "talk to a human" clicks could leave
        for user, opened in (("U1", "2026-01-01T10:00:00+00:00"), ("U2", "2026-01-01T10:00:01+00:00")):
            db.execute(
                "INSERT INTO escalations (platform, space_id, channel_id, thread_id, user_id, summary,"
                " opened_at) VALUES ('slack', 'T1', 'C1', '1.0', ?, 'help', ?)",
                (user, opened),
            )
    store = await SQLiteStore.open(path)
    try:
        [kept] = await store.open_escalations()
        assert kept.user_id == "U1"
        closed = await store.escalations_since(datetime(2026, 1, 1, tzinfo=UTC))
        assert [(e.user_id, e.resolved_by) for e in closed] == [("U1", None), ("U2", "supportbot:duplicate")]
    finally:
        await store.close()


async def test_sqlite_failed_migration_is_rolled_back(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    broken = Migration(NEXT, "broken", ("CREATE TABLE half (x INTEGER)", "THIS IS NOT SQL"))
    with pytest.raises(sqlite3.OperationalError):
        await SQLiteStore.open(path, migrations=(*MIGRATIONS, broken))

    tables = {name for (name,) in sqlite_rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "half" not in tables
    assert "turns" in tables  # the earlier versions committed in their own transactions
    assert sqlite_rows(path, "SELECT max(version) FROM schema_migrations") == [(MIGRATIONS[-1].version,)]
    store = await SQLiteStore.open(path, migrations=(*MIGRATIONS, EXTRA))  # retried, fixed, fine
    await store.close()


async def test_sqlite_database_from_a_newer_build_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    await (await SQLiteStore.open(path, migrations=(*MIGRATIONS, EXTRA))).close()

    with pytest.raises(MigrationError, match="newer"):
        await SQLiteStore.open(path)
    with pytest.raises(StoreUnavailable, match=rf"schema version {NEXT} \(extra\).*newer") as info:
        await open_store(f"sqlite:///{path}")
    assert isinstance(info.value.__cause__, MigrationError)


async def test_sqlite_edited_migration_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    await (await SQLiteStore.open(path, migrations=(*MIGRATIONS, EXTRA))).close()
    renamed = Migration(NEXT, "renamed", EXTRA.statements)
    with pytest.raises(MigrationError, match=r"'extra'.*'renamed'"):
        await SQLiteStore.open(path, migrations=(*MIGRATIONS, renamed))


@pytest.mark.parametrize(
    "migrations",
    [
        (Migration(2, "b", ("SELECT 1",)), Migration(1, "a", ("SELECT 1",))),
        (Migration(1, "a", ("SELECT 1",)), Migration(1, "a2", ("SELECT 1",))),
        (Migration(0, "zero", ("SELECT 1",)),),
        (Migration(1, "empty", ()),),
    ],
)
async def test_sqlite_malformed_migration_list_is_refused(
    tmp_path: Path, migrations: tuple[Migration]
) -> None:
    with pytest.raises(MigrationError):
        await SQLiteStore.open(tmp_path / "store.db", migrations=migrations)


# ---------------------------------------------------------------------------------------------------------
# open_store URLs


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///data/supportbot.db", "data/supportbot.db"),
        ("sqlite:///relative/path.db", "relative/path.db"),
        ("sqlite:////abs/path.db", "/abs/path.db"),
        ("SQLite:////abs/path.db", "/abs/path.db"),
        ("sqlite://:memory:", ":memory:"),
        ("sqlite:///:memory:", ":memory:"),
    ],
)
def test_parse_sqlite_url(url: str, path: str) -> None:
    assert parse_sqlite_url(url).path == path


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite://somehost/x.db", "host"),
        ("sqlite:///x.db?mode=ro", "query"),
        ("sqlite://", "host"),
        ("sqlite:///", "no database file"),
        ("sqlite:///data/", "no database file"),
        ("data/supportbot.db", "no scheme"),
        ("nosuch://x", "'nosuch'"),
        ("mysql://u:p@h/db", "'mysql'"),
    ],
)
async def test_open_store_rejects_bad_urls(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        await open_store(url)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://bot:s3cret@127.0.0.1:1/support",
        "postgres://bot:s3cret@127.0.0.1:1/support",
        "postgresql+asyncpg://bot:s3cret@127.0.0.1:1/support",
    ],
)
async def test_open_store_unreachable_postgresql_is_a_clear_error(url: str) -> None:
    with pytest.raises(StoreUnavailable) as info:
        await open_store(url)  # nothing listens on port 1
    message = str(info.value)
    assert message.startswith("cannot open the PostgreSQL database bot@127.0.0.1:1/support: ")
    assert "s3cret" not in message and "\n" not in message


async def test_open_store_unopenable_file_is_store_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a directory should be")
    with pytest.raises(StoreUnavailable, match="cannot open the SQLite database") as info:
        await open_store(f"sqlite:///{blocker / 'store.db'}")
    assert isinstance(info.value.__cause__, OSError)

    with pytest.raises(StoreUnavailable) as info:
        await open_store(f"sqlite:///{tmp_path}")  # a directory, not a database file
    assert isinstance(info.value.__cause__, sqlite3.Error)
