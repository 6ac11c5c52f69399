"""A store with questions, answers, feedback, escalations, costs and a KB draft, written through the
store's API as the service writes them, for the dashboard's tests to read back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.store import KbDraft, Store, UsageRecord
from bot.store.records import AnswerRecord, ReplyRecord, SearchRecord
from bot.types import Source, ThreadRef, Turn

SLACK_THREAD = ThreadRef("slack", "T0FAKE", "C0GENERAL", "1700000000.000100")
DISCORD_THREAD = ThreadRef("discord", "900000000000000001", "900000000000000002", "900000000000000003")
QUIET_THREAD = ThreadRef("slack", "T0FAKE", "C0GENERAL", "1700000100.000200")
UNHELPFUL_QUESTION = "Can I return a gift without the receipt?"
UNHELPFUL_ANSWER = "Returns need the order number; see Returns."
RETURNS = Source("Returns", "https://help.example.com/returns")
DRAFT_TITLE = "Gift returns without a receipt"
DRAFT_QUESTION = "Can I return a gift if I don't have the receipt?"
DRAFT_BODY = "Yes: give the gift giver's order number, or their e-mail, and we refund as store credit."
ESCALATION_SUMMARIES = (
    "Refund exception for ORD-10001 <b>needs</b> a lead",
    "Damaged parcel, customer upset",
)


@dataclass(frozen=True)
class Seeded:
    costliest: ThreadRef
    open_summaries: tuple[str, ...]
    unhelpful: AnswerRecord
    draft: KbDraft


async def seed(store: Store, now: datetime | None = None) -> Seeded:
    """Seven questions over three days in three threads: answers with and without the model, a failed one
    and a rate-limit notice; three votes; two escalations (one resolved: it counts, but is not open); the
    model's cost, most of it in one thread; a KB draft from the resolved thread, waiting; that thread marked
    solved."""
    now = now or datetime.now(UTC)
    replies = [
        # (thread, started, first text ms, failed, fallback, limited, cost)
        (SLACK_THREAD, now - timedelta(days=2, hours=1), 800.0, False, False, None, 0.40),
        (SLACK_THREAD, now - timedelta(days=2), 1200.0, False, False, None, 0.35),
        (DISCORD_THREAD, now - timedelta(days=1), 950.0, False, True, None, 0.0),
        (DISCORD_THREAD, now - timedelta(days=1, minutes=5), None, True, False, None, 0.02),
        (QUIET_THREAD, now - timedelta(hours=3), 400.0, False, False, None, 0.05),
        (QUIET_THREAD, now - timedelta(hours=2), None, False, False, "rate", 0.0),
        (SLACK_THREAD, now - timedelta(hours=1), 700.0, False, False, None, 0.25),
    ]
    for i, (ref, started, first_text, failed, fallback, limited, cost) in enumerate(replies):
        reply_id = f"reply-{i}"
        record = ReplyRecord(reply_id, ref, started, first_text, failed, fallback, limited, user_id=f"U{i}")
        if i == 1:  # what this answer did is recorded, as the service records it
            turn = Turn("assistant", "bot", UNHELPFUL_ANSWER, "msg-1", started, answered_for="U1")
            await store.finish_reply(record, turn, answer=_unhelpful(ref, started))
        else:
            await store.record_reply(record)
        if cost:
            await store.record_usage(
                UsageRecord(ref, reply_id, "claude-sonnet-5-5", 1000 * (i + 1), 200, 50, 10, cost, started)
            )
    await store.record_feedback("reply-0", "U0", True)
    await store.record_feedback("reply-1", "U1", False)
    await store.record_feedback("reply-4", "U4", True)
    resolved = await store.open_escalation(QUIET_THREAD, "U5", "Wants to change the address")
    assert resolved is not None
    await store.resolve_escalations(QUIET_THREAD, "U0LEAD")
    for ref, summary in zip((SLACK_THREAD, DISCORD_THREAD), ESCALATION_SUMMARIES, strict=True):
        assert await store.open_escalation(ref, "U1", summary) is not None
    assert await store.mark_solved(QUIET_THREAD, "U5", "M-solving")
    [unhelpful] = [a for a in await store.answers_since(now - timedelta(days=3), 10) if a.not_helpful_votes]
    draft = await store.save_kb_draft(
        QUIET_THREAD, DRAFT_TITLE, DRAFT_QUESTION, DRAFT_BODY, "U0LEAD", "template"
    )
    return Seeded(
        costliest=SLACK_THREAD, open_summaries=ESCALATION_SUMMARIES, unhelpful=unhelpful, draft=draft
    )


def _unhelpful(ref: ThreadRef, at: datetime) -> AnswerRecord:
    searches = (SearchRecord("gift return without receipt", 1, (0.41,)),)
    return AnswerRecord(
        "reply-1",
        ref,
        "msg-1",
        at,
        UNHELPFUL_QUESTION,
        UNHELPFUL_ANSWER,
        searches,
        (RETURNS,),
        False,
        False,
        "U1",
    )
