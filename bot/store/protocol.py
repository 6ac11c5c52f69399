"""The Store protocol: everything the bot keeps between messages and across restarts.

One implementation per database (SQLite for the embedded default, PostgreSQL to scale out); both pass
the same test suite. Methods are coarse on purpose: each is one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.types import ThreadRef, Turn


@dataclass(frozen=True)
class UsageRecord:
    """Tokens and cost of one answer."""

    ref: ThreadRef
    reply_id: str
    model: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float
    at: datetime


@dataclass(frozen=True)
class AuditRecord:
    """One tool call: who, which tool, a digest of the arguments, allowed or denied, how long."""

    at: datetime
    platform: str
    user_id: str
    principal: str
    thread_key: str
    tool: str
    args_digest: str
    allowed: bool
    outcome: str
    latency_ms: float


LEAD_ACTIONS_KEPT = 10_000
"""How many lead actions the store keeps (the newest); older ones are deleted as new ones are recorded."""
LEAD_ACTION_ARGUMENT_CHARS = 300
"""A lead action's argument is kept up to this many characters."""


@dataclass(frozen=True)
class LeadAction:
    """Something a support lead did (``/support link``, ``pause``, ``resolve``, …): who, when, where, what."""

    at: datetime
    platform: str
    space_id: str
    channel_id: str
    """Where it was done: the channel the command was run in (or the button clicked in)."""
    user_id: str
    """The lead."""
    action: str
    """``link``, ``unlink``, ``pause``, ``resume``, ``resolve``, ``kb reload``."""
    argument: str = ""
    """What it was done to: the user and customer id of a link, the thread or escalation resolved."""


@dataclass(frozen=True)
class Escalation:
    id: int
    ref: ThreadRef
    user_id: str
    summary: str
    opened_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = None


@dataclass(frozen=True)
class ReplyRecord:
    """One answer the bot gave: how fast its first text showed and how it ended (for stats)."""

    reply_id: str
    ref: ThreadRef
    started_at: datetime
    first_text_ms: float | None
    """Milliseconds from the start of the reply to its first visible text; None if none showed."""
    failed: bool
    """The answer did not complete (the user saw what was written plus a notice)."""
    fallback: bool
    """The answer came from the fallback responder, without the model."""
    limited: str | None = None
    """Set when the reply was a limit notice, not an answer: ``rate``, ``size`` or ``budget``."""


@dataclass(frozen=True)
class ThreadSummary:
    """The summary of a thread's older turns: everything up to and including the turn it names."""

    text: str
    covers_until_message_id: str
    covers_until_time: datetime
    """``sent_at`` of the last turn the summary covers."""
    updated_at: datetime


@dataclass(frozen=True)
class FeedbackVote:
    reply_id: str
    user_id: str
    helpful: bool
    at: datetime


@dataclass(frozen=True)
class PendingReply:
    """A reply whose placeholder is on the platform but whose final edit has not been made yet."""

    reply_id: str
    ref: ThreadRef
    message_ref: str
    """The reply's newest message: the one showing the in-progress marker, which a restart settles."""
    started_at: datetime


class Store(Protocol):
    async def close(self) -> None: ...

    # Dedup of inbound platform events (Slack retries, Discord redelivery).
    async def claim_event(self, event_id: str) -> bool:
        """Record ``event_id``; True the first time it is seen, False for every repeat."""
        ...

    # Conversations.
    async def append_turn(self, ref: ThreadRef, turn: Turn) -> None: ...

    async def load_turns(self, ref: ThreadRef, limit: int | None = None) -> list[Turn]:
        """The newest ``limit`` turns of the thread (all when None), oldest first."""
        ...

    async def clear_turns(self, ref: ThreadRef) -> None:
        """Forget the thread's turns and its summary."""
        ...

    # The summary of a thread's older turns (one per thread; saving replaces it).
    async def save_summary(
        self, ref: ThreadRef, text: str, covers_until_message_id: str, covers_until_time: datetime
    ) -> None: ...

    async def load_summary(self, ref: ThreadRef) -> ThreadSummary | None: ...

    # Identity links: a platform user is a given customer.
    async def link_identity(self, platform: str, user_id: str, customer_id: str) -> None: ...

    async def unlink_identity(self, platform: str, user_id: str) -> bool: ...

    async def customer_for(self, platform: str, user_id: str) -> str | None: ...

    # Usage and audit.
    async def record_usage(self, record: UsageRecord) -> None: ...

    async def usage_since(self, since: datetime) -> list[UsageRecord]: ...

    async def tokens_used_since(self, platform: str, space_id: str, since: datetime) -> int:
        """All tokens of the space's usage rows at or after ``since``: input, cache read, cache write and
        output (the daily token budget)."""
        ...

    async def record_tool_call(self, record: AuditRecord) -> None: ...

    async def tool_calls(self, limit: int = 100) -> list[AuditRecord]:
        """The newest audit rows, newest first."""
        ...

    # What support leads did, for the leads to read back (bounded: the newest ``LEAD_ACTIONS_KEPT``).
    async def record_lead_action(self, action: LeadAction) -> None:
        """Record ``action`` (once, even when its statement is sent twice) and drop the oldest beyond the
        bound."""
        ...

    async def lead_actions(self, platform: str, space_id: str, limit: int = 100) -> list[LeadAction]:
        """The space's newest ``limit`` lead actions, newest first."""
        ...

    # Escalations: while one is open in a thread, the bot steps back there.
    async def open_escalation(self, ref: ThreadRef, user_id: str, summary: str) -> Escalation | None:
        """Open an escalation in the thread; None when one is open there already (atomic: of two
        requests at the same moment, on any instance, exactly one opens it)."""
        ...

    async def resolve_escalations(self, ref: ThreadRef, resolved_by: str) -> int: ...

    async def open_escalations(self) -> list[Escalation]: ...

    async def escalations_since(self, since: datetime) -> list[Escalation]:
        """Escalations opened at or after ``since``, open or resolved, oldest first (for stats)."""
        ...

    async def is_escalated(self, ref: ThreadRef) -> bool: ...

    # Feedback on a reply (one vote per user and reply; a new vote replaces the old one).
    async def record_feedback(self, reply_id: str, user_id: str, helpful: bool) -> None: ...

    async def feedback_for(self, reply_id: str) -> dict[str, bool]: ...

    async def feedback_since(self, since: datetime) -> list[FeedbackVote]:
        """Votes cast or changed at or after ``since``, oldest first."""
        ...

    # Replies, one row per answer (for stats).
    async def record_reply(self, record: ReplyRecord) -> None: ...

    async def replies_since(self, since: datetime) -> list[ReplyRecord]:
        """Replies started at or after ``since``, oldest first."""
        ...

    # Channels where a lead paused the bot.
    async def pause_channel(self, platform: str, space_id: str, channel_id: str, paused_by: str) -> None:
        """Pause the bot in the channel; pausing a paused channel keeps the first pause."""
        ...

    async def resume_channel(self, platform: str, space_id: str, channel_id: str) -> bool:
        """Resume the bot in the channel; True when it was paused."""
        ...

    async def is_paused(self, platform: str, space_id: str, channel_id: str) -> bool: ...

    # Replies in flight, settled on start after a crash.
    async def add_pending_reply(self, pending: PendingReply) -> None: ...

    async def settle_pending_reply(self, reply_id: str) -> None: ...

    async def pending_replies(self, platform: str) -> list[PendingReply]: ...
