"""Persistence: the Store protocol and its implementations."""

from bot.store.protocol import (
    AuditRecord,
    Escalation,
    FeedbackVote,
    LeadAction,
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
    "LeadAction",
    "PendingReply",
    "ReplyRecord",
    "Store",
    "ThreadSummary",
    "UsageRecord",
]
