"""Persistence: the Store protocol, its roles and its implementations."""

from bot.store.protocol import Store
from bot.store.records import (
    AuditRecord,
    Escalation,
    FeedbackVote,
    LeadAction,
    PendingReply,
    ReplyRecord,
    ThreadSummary,
    UsageRecord,
)
from bot.store.roles import (
    ChannelPauses,
    Conversations,
    EscalationLog,
    EventClaims,
    FeedbackLog,
    IdentityLinks,
    LeadActionLog,
    PendingReplies,
    ToolAudit,
    UsageLog,
)

__all__ = [
    "AuditRecord",
    "ChannelPauses",
    "Conversations",
    "Escalation",
    "EscalationLog",
    "EventClaims",
    "FeedbackLog",
    "FeedbackVote",
    "IdentityLinks",
    "LeadAction",
    "LeadActionLog",
    "PendingReplies",
    "PendingReply",
    "ReplyRecord",
    "Store",
    "ThreadSummary",
    "ToolAudit",
    "UsageLog",
    "UsageRecord",
]
