"""Persistence: the Store protocol and its implementations."""

from bot.store.protocol import (
    AuditRecord,
    Escalation,
    PendingReply,
    Store,
    UsageRecord,
)

__all__ = ["AuditRecord", "Escalation", "PendingReply", "Store", "UsageRecord"]
