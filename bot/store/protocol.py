"""The Store protocol: everything the bot keeps between messages and across restarts.

One implementation per database (SQLite for the embedded default, PostgreSQL to scale out); both pass
the same test suite. Methods are coarse on purpose: each is one transaction. ``Store`` is the union of the
roles in ``bot.store.roles``: the composition root holds the whole store, every other caller the roles it
uses.
"""

from __future__ import annotations

from typing import Protocol

from bot.store.roles import (
    Answering,
    AnswerLog,
    ChannelPauses,
    Conversations,
    DashboardLinksUsed,
    DataRetention,
    EscalationLog,
    EventClaims,
    FeedbackLog,
    HandoffOutbox,
    IdentityLinks,
    KbDrafts,
    KnowledgeStore,
    LeadActionLog,
    PendingReplies,
    SolvedThreads,
    ToolAudit,
    UsageLog,
)


class Store(
    EventClaims,
    Conversations,
    PendingReplies,
    IdentityLinks,
    ChannelPauses,
    SolvedThreads,
    UsageLog,
    EscalationLog,
    FeedbackLog,
    HandoffOutbox,
    ToolAudit,
    LeadActionLog,
    DataRetention,
    DashboardLinksUsed,
    Answering,
    KnowledgeStore,
    AnswerLog,
    KbDrafts,
    Protocol,
):
    """Every role, and closing: what ``SQLiteStore`` and ``PostgresStore`` implement."""

    async def close(self) -> None: ...


__all__ = ["Store"]
