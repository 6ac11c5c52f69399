"""What each answer did and the KB drafts in the store, the same for every store: records to statement
parameters and rows back to records (``AnswerLog``, ``KbDrafts`` and ``Answering.finish_reply`` in
``bot.store.roles``).

An answer record is cut to its bounds here, as it is written, whoever built it: at most ``SEARCHES_KEPT``
searches, each query cut to ``QUERY_CHARS`` with at most ``SCORES_KEPT`` scores, the question and the
answer cut to ``QUESTION_CHARS`` and ``ANSWER_CHARS``. Searches and citations are JSON in ``TEXT``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.store.mapping import Row, Time, ToTime, thread_params, thread_ref
from bot.store.records import (
    ANSWER_CHARS,
    QUERY_CHARS,
    QUESTION_CHARS,
    SCORES_KEPT,
    SEARCHES_KEPT,
    AnswerRecord,
    KbDraft,
    SearchRecord,
)
from bot.types import Source


def _same(text: str) -> str:
    return text


def answer_params(
    record: AnswerRecord, to_time: ToTime, text: Callable[[str], str] = _same
) -> tuple[Any, ...]:
    """The parameters of an answer record's row, in the order of the ``answer_records`` insert, bounded."""
    searches = [
        {
            "query": search.query[:QUERY_CHARS],
            "hits": search.hits,
            "top_scores": [round(score, 4) for score in search.top_scores[:SCORES_KEPT]],
        }
        for search in record.searches[:SEARCHES_KEPT]
    ]
    cited = [{"title": source.title, "url": source.url} for source in record.cited]
    return (
        record.reply_id,
        *thread_params(record.ref),
        record.message_id,
        record.user_id,
        to_time(record.at),
        text(record.question[:QUESTION_CHARS]),
        text(record.answer[:ANSWER_CHARS]),
        text(json.dumps(searches, ensure_ascii=False)),
        text(json.dumps(cited, ensure_ascii=False)),
        record.nothing_found,
        record.fallback,
    )


def answer_record(row: Row, time: Time) -> AnswerRecord:
    """An answer record with its votes and escalation (the columns ``helpful_votes``, ``not_helpful_votes``
    and ``escalated`` of ``answers_since``'s query)."""
    return AnswerRecord(
        reply_id=row["reply_id"],
        ref=thread_ref(row),
        message_id=row["message_id"],
        at=time(row["at"]),
        question=row["question"],
        answer=row["answer"],
        searches=tuple(
            SearchRecord(item["query"], int(item["hits"]), tuple(float(s) for s in item["top_scores"]))
            for item in json.loads(row["searches"])
        ),
        cited=tuple(Source(item["title"], item["url"]) for item in json.loads(row["cited"])),
        nothing_found=bool(row["nothing_found"]),
        fallback=bool(row["fallback"]),
        user_id=row["user_id"],
        helpful_votes=int(row["helpful_votes"]),
        not_helpful_votes=int(row["not_helpful_votes"]),
        escalated=bool(row["escalated"]),
    )


def kb_draft(row: Row, time: Time) -> KbDraft:
    decided_at = row["decided_at"]
    return KbDraft(
        id=int(row["id"]),
        ref=thread_ref(row),
        title=row["title"],
        question=row["question"],
        body=row["body"],
        drafted_by=row["drafted_by"],
        made_with=row["made_with"],
        created_at=time(row["created_at"]),
        updated_at=time(row["updated_at"]),
        status=row["status"],
        visibility=row["visibility"],
        decided_by=row["decided_by"],
        decided_at=None if decided_at is None else time(decided_at),
    )


__all__ = ["answer_params", "answer_record", "kb_draft"]
