"""Rows to records and records to statement parameters, the same for every store: the columns are named
alike in each dialect's schema.

A store reads a row by column name (``sqlite3.Row`` and ``asyncpg.Record`` both do) and passes how its
timestamps come back: ISO-8601 text in SQLite, ``TIMESTAMPTZ`` in PostgreSQL; either way ``time`` returns
an aware UTC datetime. Writing, it passes how a datetime goes in (``to_time``) and, where its text columns
refuse some characters, how text goes in (``text``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from bot.store.codec import exchange_from_json, exchange_to_json
from bot.store.records import (
    AuditRecord,
    Escalation,
    FeedbackVote,
    HandoffBacklog,
    HandoffDelivery,
    LeadAction,
    PendingReply,
    ReplyRecord,
    ThreadSummary,
    UsageRecord,
)
from bot.types import ThreadRef, Turn


class Row(Protocol):
    """A result row read by column name."""

    def __getitem__(self, key: str, /) -> Any: ...


Time = Callable[[Any], datetime]
"""A timestamp column's value as an aware UTC datetime."""
ToTime = Callable[[datetime], Any]
"""An aware datetime as the store's timestamp parameter."""


def _same(text: str) -> str:
    return text


def turn_params(
    ref: ThreadRef, turn: Turn, to_time: ToTime, text: Callable[[str], str] = _same
) -> tuple[Any, ...]:
    """The parameters of a turn's row, in the order of the ``turns`` insert."""
    return (
        *thread_params(ref),
        turn.role,
        text(turn.author),
        text(turn.text),
        turn.message_id,
        to_time(turn.sent_at),
        exchange_to_json(turn.exchange),
        turn.answered_for,
        turn.user_id,
    )


def usage_params(record: UsageRecord, to_time: ToTime) -> tuple[Any, ...]:
    """The parameters of a usage row, in the order of the ``usage`` insert."""
    return (
        *thread_params(record.ref),
        record.reply_id,
        record.model,
        record.input_tokens,
        record.output_tokens,
        record.cache_read_tokens,
        record.cache_write_tokens,
        record.cost_usd,
        to_time(record.at),
    )


def reply_params(record: ReplyRecord, to_time: ToTime) -> tuple[Any, ...]:
    """The parameters of a reply row, in the order of the ``replies`` insert."""
    return (
        record.reply_id,
        *thread_params(record.ref),
        to_time(record.started_at),
        record.first_text_ms,
        record.failed,
        record.fallback,
        record.limited,
        record.user_id,
    )


def thread_params(ref: ThreadRef) -> tuple[str, str, str, str]:
    """The thread columns' values, in the order ``platform, space_id, channel_id, thread_id``."""
    return (ref.platform, ref.space_id, ref.channel_id, ref.thread_id)


def thread_ref(row: Row) -> ThreadRef:
    return ThreadRef(row["platform"], row["space_id"], row["channel_id"], row["thread_id"])


def turn(row: Row, time: Time) -> Turn:
    return Turn(
        role=row["role"],
        author=row["author"],
        text=row["text"],
        message_id=row["message_id"],
        sent_at=time(row["sent_at"]),
        exchange=exchange_from_json(row["exchange"]),
        answered_for=row["answered_for"],
        user_id=row["user_id"],
    )


def thread_summary(row: Row, time: Time) -> ThreadSummary:
    return ThreadSummary(
        text=row["text"],
        covers_until_message_id=row["covers_until_message_id"],
        covers_until_time=time(row["covers_until_time"]),
        updated_at=time(row["updated_at"]),
    )


def usage_record(row: Row, time: Time) -> UsageRecord:
    return UsageRecord(
        ref=thread_ref(row),
        reply_id=row["reply_id"],
        model=row["model"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        cache_read_tokens=row["cache_read_tokens"],
        cache_write_tokens=row["cache_write_tokens"],
        cost_usd=row["cost_usd"],
        at=time(row["at"]),
    )


def audit_record(row: Row, time: Time) -> AuditRecord:
    return AuditRecord(
        at=time(row["at"]),
        platform=row["platform"],
        user_id=row["user_id"],
        principal=row["principal"],
        thread_key=row["thread_key"],
        tool=row["tool"],
        args_digest=row["args_digest"],
        allowed=bool(row["allowed"]),  # SQLite keeps 0 or 1
        outcome=row["outcome"],
        latency_ms=row["latency_ms"],
    )


def lead_action(row: Row, time: Time) -> LeadAction:
    return LeadAction(
        at=time(row["at"]),
        platform=row["platform"],
        space_id=row["space_id"],
        channel_id=row["channel_id"],
        user_id=row["user_id"],
        action=row["action"],
        argument=row["argument"],
    )


def escalation(row: Row, time: Time) -> Escalation:
    resolved_at = row["resolved_at"]
    return Escalation(
        id=int(row["id"]),
        ref=thread_ref(row),
        user_id=row["user_id"],
        summary=row["summary"],
        opened_at=time(row["opened_at"]),
        resolved_at=time(resolved_at) if resolved_at is not None else None,
        resolved_by=row["resolved_by"],
    )


def handoff_delivery(row: Row) -> HandoffDelivery:
    return HandoffDelivery(
        id=int(row["id"]),
        escalation_id=int(row["escalation_id"]),
        target=row["target"],
        ref=thread_ref(row),
        payload=row["payload"],
        attempts=int(row["attempts"]),
    )


def handoff_backlog(row: Row, time: Time) -> HandoffBacklog:
    return HandoffBacklog(
        target=row["target"],
        pending=int(row["pending"]),
        failing=int(row["failing"]),
        oldest_at=time(row["oldest_at"]),
        last_error=row["last_error"],
    )


def feedback_vote(row: Row, time: Time) -> FeedbackVote:
    return FeedbackVote(row["reply_id"], row["user_id"], bool(row["helpful"]), time(row["at"]))


def reply_record(row: Row, time: Time) -> ReplyRecord:
    return ReplyRecord(
        reply_id=row["reply_id"],
        ref=thread_ref(row),
        started_at=time(row["started_at"]),
        first_text_ms=row["first_text_ms"],
        failed=bool(row["failed"]),
        fallback=bool(row["fallback"]),
        limited=row["limited"],
        user_id=row["user_id"],
    )


def pending_reply(row: Row, time: Time) -> PendingReply:
    return PendingReply(
        reply_id=row["reply_id"],
        ref=thread_ref(row),
        message_ref=row["message_ref"],
        started_at=time(row["started_at"]),
    )


__all__ = [
    "Row",
    "Time",
    "audit_record",
    "escalation",
    "feedback_vote",
    "lead_action",
    "pending_reply",
    "reply_record",
    "thread_params",
    "thread_ref",
    "thread_summary",
    "turn",
    "usage_record",
]
