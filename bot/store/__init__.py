"""Persistence: the Store protocol and its implementations."""

from bot.store.protocol import (
    AuditRecord,
    Escalation,
    FeedbackVote,
    PendingReply,
    ReplyRecord,
    Store,
    ThreadSummary,
    UsageRecord,
)

__all__ = [
    "AuditRecord",
    "Escalation",
    "FeedbackVote",
    "PendingReply",
    "ReplyRecord",
    "Store",
    "ThreadSummary",
    "UsageRecord",
]
