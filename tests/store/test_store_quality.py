"""What each answer did, and the KB drafts, on every store backend (``conftest.BACKENDS``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.privacy import prune_expired
from bot.store import AnswerRecord, ReplyRecord, SearchRecord, Store
from bot.store.records import ANSWER_CHARS, QUERY_CHARS, QUESTION_CHARS, SCORES_KEPT, SEARCHES_KEPT
from bot.types import Source, ThreadRef, Turn

NOW = datetime.now(UTC).replace(microsecond=0)
THREAD = ThreadRef("slack", "T1", "C1", "1000.000100")
OTHER = ThreadRef("slack", "T1", "C1", "2000.000100")
ANN, BOB = "U0ANN", "U0BOB"


def answered(reply_id: str, ref: ThreadRef, at: datetime, user_id: str, **fields: object) -> AnswerRecord:
    values: dict[str, object] = {
        "reply_id": reply_id,
        "ref": ref,
        "message_id": f"m-{reply_id}",
        "at": at,
        "question": "Do you ship to Mars?",
        "answer": "I found no article about that.",
        "searches": (SearchRecord("ship to mars", 0),),
        "cited": (),
        "nothing_found": True,
        "fallback": False,
        "user_id": user_id,
    }
    values.update(fields)
    return AnswerRecord(**values)  # type: ignore[arg-type]


async def finish(store: Store, answer: AnswerRecord) -> None:
    record = ReplyRecord(answer.reply_id, answer.ref, answer.at, 500.0, False, answer.fallback, user_id=ANN)
    turn = Turn("assistant", "bot", answer.answer, answer.message_id, answer.at, answered_for=answer.user_id)
    await store.finish_reply(record, turn, None, answer)


async def test_an_answer_record_is_kept_with_its_reply_bounded_and_read_with_votes_and_escalation(
    store: Store,
) -> None:
    long = answered(
        "r1",
        THREAD,
        NOW - timedelta(minutes=5),
        ANN,
        question="q" * (QUESTION_CHARS + 50),
        answer="a" * (ANSWER_CHARS + 50),
        searches=tuple(
            SearchRecord("x" * (QUERY_CHARS + 9), 4, (9.5, 8.25, 7.0, 6.0, 5.0))
            for _ in range(SEARCHES_KEPT + 3)
        ),
        cited=(Source("Shipping", "https://help.example/shipping"),),
        nothing_found=False,
    )
    await finish(store, long)
    await finish(store, answered("r2", OTHER, NOW - timedelta(minutes=1), BOB))
    await store.record_feedback("r2", BOB, False)
    await store.record_feedback("r2", ANN, True)
    assert await store.open_escalation(OTHER, BOB, "wants a human") is not None

    newest, oldest = await store.answers_since(NOW - timedelta(hours=1), 10)

    assert (newest.reply_id, newest.helpful_votes, newest.not_helpful_votes, newest.escalated) == (
        "r2",
        1,
        1,
        True,
    )
    assert newest.searches == (SearchRecord("ship to mars", 0, ()),) and newest.nothing_found
    assert (oldest.reply_id, oldest.escalated, oldest.helpful_votes) == ("r1", False, 0)
    assert len(oldest.question) == QUESTION_CHARS and len(oldest.answer) == ANSWER_CHARS
    assert len(oldest.searches) == SEARCHES_KEPT
    assert oldest.searches[0] == SearchRecord("x" * QUERY_CHARS, 4, (9.5, 8.25, 7.0)[:SCORES_KEPT])
    assert oldest.cited == (Source("Shipping", "https://help.example/shipping"),)
    assert [a.reply_id for a in await store.answers_since(NOW - timedelta(hours=1), 1)] == ["r2"]
    assert await store.answers_since(NOW, 10) == []


async def test_answer_records_go_with_retention_and_with_the_person_they_answered(store: Store) -> None:
    await finish(store, answered("old", THREAD, NOW - timedelta(days=100), ANN))
    await finish(store, answered("ann", THREAD, NOW - timedelta(days=1), ANN))
    await finish(store, answered("bob", OTHER, NOW - timedelta(days=1), BOB))

    assert (await prune_expired(store, NOW - timedelta(days=90), batch=1)).answer_records == 1
    assert (await store.forget_user("slack", ANN)).answer_records == 1
    assert [a.reply_id for a in await store.answers_since(NOW - timedelta(days=365), 10)] == ["bob"]


async def test_a_draft_waits_is_replaced_by_a_new_draft_of_its_thread_and_is_decided_once(
    store: Store,
) -> None:
    first = await store.save_kb_draft(THREAD, "Mars", "Do you ship to Mars?", "No.", "U0LEAD", "template")
    again = await store.save_kb_draft(THREAD, "Mars shipping", "Ship to Mars?", "Not yet.", "U0LEAD", "m")
    other = await store.save_kb_draft(OTHER, "Venus", "Venus?", "No.", "U0LEAD", "m")

    assert again.id == first.id and (again.title, again.body, again.status) == (
        "Mars shipping",
        "Not yet.",
        "draft",
    )
    assert [d.id for d in await store.kb_drafts("draft", 10)] == [other.id, first.id]
    edited = await store.edit_kb_draft(first.id, "Shipping to Mars", "Do you ship to Mars?", "We do not.")
    assert edited is not None and edited.body == "We do not."

    published = await store.decide_kb_draft(first.id, "published", "public", "U0LEAD")
    assert published is not None and (published.status, published.visibility) == ("published", "public")
    assert await store.decide_kb_draft(first.id, "discarded", None, "U0LEAD2") is None  # decided already
    assert await store.edit_kb_draft(first.id, "x", "y", "z") is None
    assert [d.id for d in await store.kb_drafts("published", 10)] == [first.id]
    assert (await store.kb_draft(first.id)) == published
    # The thread can have a waiting draft again once its last one was decided.
    newer = await store.save_kb_draft(THREAD, "Mars again", "Mars?", "Still no.", "U0LEAD", "m")
    assert newer.id != first.id
    assert await store.kb_draft(999_999) is None
