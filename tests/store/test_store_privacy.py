"""Retention and forgetting on every store backend (``conftest.BACKENDS``): what goes, what stays."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from bot.privacy import prune_expired
from bot.store import AuditRecord, ForgetReport, PendingReply, PruneReport, ReplyRecord, Store, UsageRecord
from bot.store.open import parse_sqlite_url, url_scheme
from bot.types import ThreadRef, Turn

NOW = datetime.now(UTC).replace(microsecond=0)
OLD = NOW - timedelta(days=100)
RECENT = NOW - timedelta(days=2)
CUTOFF = NOW - timedelta(days=90)
OLD_THREAD = ThreadRef("slack", "T1", "C1", "1000.000100")
NEW_THREAD = ThreadRef("slack", "T1", "C1", "2000.000100")
DISCORD_THREAD = ThreadRef("discord", "G1", "C9", "9000")
ANN, BOB, LEAD = "U0ANN", "U0BOB", "U0LEAD"


def said(user_id: str, n: int, at: datetime) -> Turn:
    return Turn("user", user_id.lower(), f"{user_id} says {n}", f"m{user_id}{n}", at, user_id=user_id)


def answer(user_id: str, n: int, at: datetime) -> Turn:
    exchange = ({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "x"}]},)
    return Turn("assistant", "bot", f"to {user_id} {n}", f"a{user_id}{n}", at, exchange, answered_for=user_id)


def reply(reply_id: str, ref: ThreadRef, at: datetime, user_id: str | None) -> ReplyRecord:
    return ReplyRecord(reply_id, ref, at, 900.0, False, False, user_id=user_id)


def usage(reply_id: str, ref: ThreadRef, at: datetime) -> UsageRecord:
    return UsageRecord(ref, reply_id, "claude-sonnet-4-5", 1000, 100, 0, 0, 0.01, at)


def audit(n: int, at: datetime) -> AuditRecord:
    return AuditRecord(at, "slack", ANN, "customer", OLD_THREAD.key, "lookup_order", f"d{n}", True, "ok", 1.0)


async def solved_marks(store_url: str) -> dict[ThreadRef, tuple[str, str]]:
    """Who marked each solved thread solved, and on which message, as the database itself holds it (the
    store reads back only which threads were solved)."""
    sql = "SELECT platform, space_id, channel_id, thread_id, solved_by, message_id FROM solved_threads"
    if url_scheme(store_url) == "sqlite":
        with closing(sqlite3.connect(parse_sqlite_url(store_url).path)) as db:
            rows = db.execute(sql).fetchall()
    else:
        conn = await asyncpg.connect(store_url)
        try:
            rows = [tuple(row) for row in await conn.fetch(sql)]
        finally:
            await conn.close()
    return {ThreadRef(*row[:4]): (row[4], row[5]) for row in rows}


async def seed(store: Store) -> None:
    """Ann and Bob, each with an old thread and a recent one; Bob also speaks in Ann's recent thread."""
    for user_id, old, new in ((ANN, OLD_THREAD, NEW_THREAD), (BOB, OLD_THREAD, NEW_THREAD)):
        n = 0 if user_id == ANN else 10
        await store.append_turn(old, said(user_id, n, OLD))
        await store.append_turn(old, answer(user_id, n, OLD + timedelta(seconds=1)))
        await store.append_turn(new, said(user_id, n + 1, RECENT))
        await store.append_turn(new, answer(user_id, n + 1, RECENT + timedelta(seconds=1)))
        await store.record_reply(reply(f"r-old-{user_id}", old, OLD, user_id))
        await store.record_reply(reply(f"r-new-{user_id}", new, RECENT, user_id))
        await store.record_usage(usage(f"r-old-{user_id}", old, OLD))
        await store.record_usage(usage(f"r-new-{user_id}", new, RECENT))
        await store.record_feedback(f"r-new-{user_id}", user_id, True)
    await store.save_summary(OLD_THREAD, "Ann and Bob asked about ORD-1", "mU0ANN0", OLD)
    await store.save_summary(NEW_THREAD, "Ann and Bob asked about ORD-2", "mU0ANN1", RECENT)
    await store.link_identity("slack", ANN, "C-1001")
    await store.link_identity("discord", ANN, "C-2002")  # another platform's user with the same id
    await store.record_tool_call(audit(1, OLD))
    await store.record_tool_call(audit(2, RECENT))
    await store.add_pending_reply(PendingReply("p-old", OLD_THREAD, "1000.000200", OLD))
    await store.add_pending_reply(PendingReply("p-new", NEW_THREAD, "2000.000200", RECENT))


async def test_turns_and_reply_rows_keep_who_wrote_and_whom_they_answered(store: Store) -> None:
    await store.append_turn(NEW_THREAD, said(ANN, 1, RECENT))
    await store.append_turn(NEW_THREAD, answer(ANN, 1, RECENT + timedelta(seconds=1)))
    await store.record_reply(reply("r1", NEW_THREAD, RECENT, ANN))
    [question, bot] = await store.load_turns(NEW_THREAD)
    assert (question.user_id, bot.answered_for) == (ANN, ANN)
    assert [r.user_id for r in await store.replies_since(OLD)] == [ANN]


async def test_pruning_removes_old_text_and_keeps_what_the_stats_count(store: Store) -> None:
    await seed(store)
    escalation = await store.open_escalation(OLD_THREAD, ANN, "Ann wants a refund for ORD-1")
    assert escalation is not None
    await store.resolve_escalations(OLD_THREAD, "U0LEAD")  # resolved now: not older than the cutoff yet
    stats_before = (
        await store.usage_since(OLD),
        [(r.reply_id, r.started_at) for r in await store.replies_since(OLD)],
        await store.feedback_since(OLD),
        [e.id for e in await store.escalations_since(OLD)],
    )

    report = await prune_expired(store, CUTOFF, batch=1)  # one row at a time: the passes repeat

    assert report == PruneReport(turns=4, summaries=1, pending_replies=1, tool_calls=1, replies=2)
    assert await store.load_turns(OLD_THREAD) == []
    assert sorted(t.text for t in await store.load_turns(NEW_THREAD)) == [
        "U0ANN says 1",
        "U0BOB says 11",
        "to U0ANN 1",
        "to U0BOB 11",
    ]
    assert await store.load_summary(OLD_THREAD) is None
    assert (await store.load_summary(NEW_THREAD)) is not None
    assert [p.reply_id for p in await store.pending_replies("slack")] == ["p-new"]
    assert [a.args_digest for a in await store.tool_calls()] == ["d2"]
    # Usage, reply rows, votes and escalations still count; old reply rows no longer name the person.
    assert (
        await store.usage_since(OLD),
        [(r.reply_id, r.started_at) for r in await store.replies_since(OLD)],
        await store.feedback_since(OLD),
        [e.id for e in await store.escalations_since(OLD)],
    ) == stats_before
    assert {r.reply_id: r.user_id for r in await store.replies_since(OLD)} == {
        "r-old-U0ANN": None,
        "r-old-U0BOB": None,
        "r-new-U0ANN": ANN,
        "r-new-U0BOB": BOB,
    }
    [kept] = await store.escalations_since(OLD)
    assert kept.summary == "Ann wants a refund for ORD-1"
    assert await store.customer_for("slack", ANN) == "C-1001"  # links are not dated messages

    # A resolved escalation older than the period keeps counting, without its text or asker.
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert (await prune_expired(store, later, batch=100)).escalations == 1
    [cleared] = await store.escalations_since(OLD)
    assert (cleared.id, cleared.summary, cleared.user_id) == (escalation.id, "", "")
    assert await prune_expired(store, CUTOFF, batch=100) == PruneReport()  # nothing left to do


async def test_pruning_clears_who_marked_a_thread_solved_and_the_thread_still_counts(
    store: Store, store_url: str
) -> None:
    assert await store.mark_solved(OLD_THREAD, ANN, "mU0ANN0")  # the asker, on her own message
    assert await store.mark_solved(NEW_THREAD, LEAD, "aU0BOB11")  # a lead, on the bot's answer
    marks = {OLD_THREAD: (ANN, "mU0ANN0"), NEW_THREAD: (LEAD, "aU0BOB11")}

    assert await prune_expired(store, CUTOFF, batch=100) == PruneReport()  # marked now: within the period
    assert await solved_marks(store_url) == marks

    # Marks older than the period lose who made them and on which message, one bounded pass at a time.
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert await prune_expired(store, later, batch=1) == PruneReport(solved_threads=2)
    assert await solved_marks(store_url) == {OLD_THREAD: ("", ""), NEW_THREAD: ("", "")}
    assert set(await store.solved_since(OLD)) == {OLD_THREAD, NEW_THREAD}  # /support stats still counts them
    assert await prune_expired(store, later, batch=100) == PruneReport()  # nothing left to do
    assert await store.mark_solved(OLD_THREAD, BOB, "mU0BOB10") is False  # still solved, not marked again


async def test_pruning_stops_after_its_bound_and_the_next_run_goes_on(store: Store) -> None:
    for n in range(5):
        await store.append_turn(OLD_THREAD, said(ANN, n, OLD + timedelta(seconds=n)))
    first = await prune_expired(store, CUTOFF, batch=2, max_passes=1)
    assert first.turns == 2
    assert len(await store.load_turns(OLD_THREAD)) == 3
    assert (await prune_expired(store, CUTOFF, batch=2)).turns == 3
    assert await store.load_turns(OLD_THREAD) == []


async def test_forgetting_a_person_removes_their_rows_and_leaves_everyone_elses(store: Store) -> None:
    await seed(store)
    escalation = await store.open_escalation(NEW_THREAD, ANN, "Ann wants a refund for ORD-2")
    assert escalation is not None

    report = await store.forget_user("slack", ANN)

    assert report == ForgetReport(
        messages=2, answers=2, summaries=2, links=1, feedback=1, replies=2, escalations=1
    )
    assert [t.text for t in await store.load_turns(OLD_THREAD)] == ["U0BOB says 10", "to U0BOB 10"]
    assert [t.text for t in await store.load_turns(NEW_THREAD)] == ["U0BOB says 11", "to U0BOB 11"]
    assert await store.load_summary(OLD_THREAD) is None and await store.load_summary(NEW_THREAD) is None
    assert await store.customer_for("slack", ANN) is None
    assert await store.customer_for("discord", ANN) == "C-2002"  # another platform's person
    assert await store.feedback_for(f"r-new-{ANN}") == {}
    assert await store.feedback_for(f"r-new-{BOB}") == {BOB: True}
    replies = {r.reply_id: r.user_id for r in await store.replies_since(OLD)}
    assert replies == {f"r-old-{ANN}": None, f"r-new-{ANN}": None, f"r-old-{BOB}": BOB, f"r-new-{BOB}": BOB}
    assert len(await store.usage_since(OLD)) == 4  # the cost stays counted
    [open_one] = await store.open_escalations()
    assert (open_one.id, open_one.user_id, open_one.summary) == (escalation.id, "", "")
    assert await store.is_escalated(NEW_THREAD)  # the thread stays with the humans

    assert await store.forget_user("slack", ANN) == ForgetReport()  # nothing left
    assert await store.forget_user("slack", "U0NOBODY") == ForgetReport()


async def test_forgetting_a_person_clears_them_from_the_threads_they_marked_solved(
    store: Store, store_url: str
) -> None:
    assert await store.mark_solved(OLD_THREAD, ANN, "mU0ANN0")  # Ann marked her own thread solved
    assert await store.mark_solved(NEW_THREAD, LEAD, "aU0ANN1")  # a lead marked her other one
    assert await store.mark_solved(DISCORD_THREAD, ANN, "m9")  # the same id on Discord: someone else

    assert await store.forget_user("slack", ANN) == ForgetReport(solved_threads=1)

    assert await solved_marks(store_url) == {
        OLD_THREAD: ("", ""),
        NEW_THREAD: (LEAD, "aU0ANN1"),
        DISCORD_THREAD: (ANN, "m9"),
    }
    assert len(await store.solved_since(OLD)) == 3  # /support stats still counts them
    assert await store.forget_user("slack", ANN) == ForgetReport()  # nothing left
    assert await store.forget_user("slack", LEAD) == ForgetReport(solved_threads=1)  # a lead can ask too
    assert (await solved_marks(store_url))[NEW_THREAD] == ("", "")


async def test_prune_refuses_a_batch_below_one(store: Store) -> None:
    with pytest.raises(ValueError, match="batch"):
        await store.prune(CUTOFF, 0)
