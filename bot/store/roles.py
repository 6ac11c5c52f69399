"""The store's roles: one small protocol per concern, so that each caller asks for what it uses.

``Store`` (``bot.store.protocol``) is all of them together, and every store implements it; a caller's
parameter names the narrowest role it needs, or the combination at the end of this module made for it when
it needs several. Each method is in exactly one role.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from bot.kb.sources.base import SourceArticle
from bot.store.records import (
    AnswerRecord,
    ArticleDiff,
    AuditRecord,
    ChangeBatch,
    Escalation,
    FeedbackVote,
    ForgetReport,
    HandoffBacklog,
    HandoffDelivery,
    KbDraft,
    LeadAction,
    PendingReply,
    PruneReport,
    ReplyRecord,
    SourceStatus,
    ThreadState,
    ThreadSummary,
    UsageRecord,
)
from bot.types import ThreadRef, Turn


class EventClaims(Protocol):
    """Dedup of inbound platform events (Slack retries, Discord redelivery)."""

    async def claim_event(self, event_id: str) -> bool:
        """Record ``event_id``; True the first time it is seen, False for every repeat."""
        ...


class Conversations(Protocol):
    """A thread's turns, and the summary of its older turns (one per thread; saving replaces it)."""

    async def append_turn(self, ref: ThreadRef, turn: Turn) -> None: ...

    async def load_turns(self, ref: ThreadRef, limit: int | None = None) -> list[Turn]:
        """The newest ``limit`` turns of the thread (all when None), oldest first."""
        ...

    async def clear_turns(self, ref: ThreadRef) -> None:
        """Forget the thread's turns and its summary."""
        ...

    async def save_summary(
        self, ref: ThreadRef, text: str, covers_until_message_id: str, covers_until_time: datetime
    ) -> None: ...

    async def load_summary(self, ref: ThreadRef) -> ThreadSummary | None: ...


class Answering(Protocol):
    """One answer's writes and reads grouped in as few store trips as it takes (the service's,
    ``docs/architecture.md`` §4): each method is one transaction, and on SQLite one trip to the connection's
    thread. Each does what the single methods it names would do one after the other."""

    async def take_turn(
        self, ref: ThreadRef, turn: Turn, load: int, tokens_since: datetime | None = None
    ) -> ThreadState:
        """Store the asker's ``turn`` (as ``append_turn``) and read the thread back: whether it is escalated
        (``is_escalated``), its newest ``load`` turns with ``turn`` among them (``load_turns``), its
        summary (``load_summary``) and, given ``tokens_since``, its space's tokens since then
        (``tokens_used_since``, for the daily budget)."""
        ...

    async def finish_reply(
        self,
        record: ReplyRecord,
        turn: Turn,
        usage: UsageRecord | None = None,
        answer: AnswerRecord | None = None,
    ) -> None:
        """Keep a finished reply: the bot's ``turn`` in ``record.ref`` (``append_turn``), the reply row
        (``record_reply``), its ``usage`` when given (``record_usage``), what the answer did when given
        (``answer``; the same reply id again replaces it), and its pending record settled
        (``settle_pending_reply``; nothing to settle is fine)."""
        ...


class PendingReplies(Protocol):
    """Replies in flight, settled on start after a crash."""

    async def add_pending_reply(self, pending: PendingReply) -> None: ...

    async def settle_pending_reply(self, reply_id: str) -> None: ...

    async def pending_replies(self, platform: str) -> list[PendingReply]: ...


class IdentityLinks(Protocol):
    """Identity links: a platform user is a given customer."""

    async def link_identity(self, platform: str, user_id: str, customer_id: str) -> None: ...

    async def unlink_identity(self, platform: str, user_id: str) -> bool: ...

    async def customer_for(self, platform: str, user_id: str) -> str | None: ...


class ChannelPauses(Protocol):
    """Channels where a lead paused the bot."""

    async def pause_channel(self, platform: str, space_id: str, channel_id: str, paused_by: str) -> None:
        """Pause the bot in the channel; pausing a paused channel keeps the first pause."""
        ...

    async def resume_channel(self, platform: str, space_id: str, channel_id: str) -> bool:
        """Resume the bot in the channel; True when it was paused."""
        ...

    async def is_paused(self, platform: str, space_id: str, channel_id: str) -> bool: ...


class SolvedThreads(Protocol):
    """Threads their asker or staff marked solved. Who marked one, and on which message, is cleared when
    the mark is older than the retention period or that person is forgotten (``DataRetention``); the
    thread still counts."""

    async def mark_solved(self, ref: ThreadRef, solved_by: str, message_id: str) -> bool:
        """Record ``ref`` as solved (by whom, on which message); False when it was already, the first mark
        kept."""
        ...

    async def solved_since(self, since: datetime) -> list[ThreadRef]:
        """The threads marked solved since ``since``, oldest first."""
        ...


class UsageLog(Protocol):
    """What answering cost and how the answers went: usage rows and one row per answer (for stats)."""

    async def record_usage(self, record: UsageRecord) -> None: ...

    async def usage_since(self, since: datetime) -> list[UsageRecord]: ...

    async def tokens_used_since(self, platform: str, space_id: str, since: datetime) -> int:
        """All tokens of the space's usage rows at or after ``since``: input, cache read, cache write and
        output (the daily token budget)."""
        ...

    async def record_reply(self, record: ReplyRecord) -> None: ...

    async def replies_since(self, since: datetime) -> list[ReplyRecord]:
        """Replies started at or after ``since``, oldest first."""
        ...


class EscalationLog(Protocol):
    """Escalations: while one is open in a thread, the bot steps back there."""

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


class HandoffOutbox(Protocol):
    """Escalations on their way to a helpdesk, kept until delivered (``bot.handoff``)."""

    async def enqueue_handoff(self, escalation_id: int, ref: ThreadRef, target: str, payload: str) -> None:
        """Keep ``payload`` for ``target``, due now; enqueuing the same escalation and target again does
        nothing."""
        ...

    async def due_handoffs(self, now: datetime, limit: int) -> list[HandoffDelivery]:
        """Undelivered rows whose next attempt is at or before ``now``, oldest first, at most ``limit``."""
        ...

    async def handoff_failed(self, delivery_id: int, next_attempt_at: datetime, error: str) -> None:
        """Count a failed attempt and when to try again."""
        ...

    async def handoff_delivered(self, delivery_id: int, ticket_id: str | None, url: str | None) -> None: ...

    async def handoff_backlog(self) -> list[HandoffBacklog]:
        """What is not delivered yet, by target (in name order; a target with nothing pending is not
        listed). One query over the undelivered rows only, cheap enough for every delivery pass."""
        ...

    async def escalation(self, escalation_id: int) -> Escalation | None:
        """The escalation of that id, open or resolved; None when there is none."""
        ...


class FeedbackLog(Protocol):
    """Feedback on a reply (one vote per user and reply; a new vote replaces the old one)."""

    async def record_feedback(self, reply_id: str, user_id: str, helpful: bool) -> None: ...

    async def feedback_for(self, reply_id: str) -> dict[str, bool]: ...

    async def feedback_since(self, since: datetime) -> list[FeedbackVote]:
        """Votes cast or changed at or after ``since``, oldest first."""
        ...


class ToolAudit(Protocol):
    """The audit of tool calls."""

    async def record_tool_call(self, record: AuditRecord) -> None: ...

    async def tool_calls(self, limit: int = 100) -> list[AuditRecord]:
        """The newest audit rows, newest first."""
        ...


class LeadActionLog(Protocol):
    """What support leads did, for the leads to read back (bounded: the newest ``LEAD_ACTIONS_KEPT``)."""

    async def record_lead_action(self, action: LeadAction) -> None:
        """Record ``action`` (once, even when its statement is sent twice) and drop the oldest beyond the
        bound."""
        ...

    async def lead_actions(self, platform: str, space_id: str, limit: int = 100) -> list[LeadAction]:
        """The space's newest ``limit`` lead actions, newest first, with the platform's actions that were
        done outside any space (an empty ``space_id``: ``supportbot forget`` on the command line)."""
        ...


class DataRetention(Protocol):
    """Privacy: what is older than the retention period goes, and one person can be forgotten.

    Rows without text that the stats count (usage, reply rows, feedback votes, escalations, solved
    threads) are kept; the text and the person in them are cleared instead (see ``bot.privacy``).
    """

    async def prune(self, before: datetime, batch: int) -> PruneReport:
        """One bounded pass: at most ``batch`` rows of each kind dated before ``before`` deleted or
        cleared; call again while it reports any (``bot.privacy.prune_expired``)."""
        ...

    async def forget_user(self, platform: str, user_id: str) -> ForgetReport:
        """Delete the person's messages, the bot's answers to them, the summaries of the threads they
        wrote in, their identity link and feedback votes; unlink their answer records, escalations and the
        threads they marked solved (in one transaction)."""
        ...


class KnowledgeStore(Protocol):
    """The knowledge sources' articles as last synced, shared by every instance (``bot.kb.sync`` writes
    them, ``bot.kb.follow`` keeps each instance's search index current from their changes), and each
    source's last sync."""

    async def replace_articles(
        self, source: str, articles: Sequence[SourceArticle], skipped: int
    ) -> ArticleDiff:
        """Make ``articles`` the source's whole content (in one transaction): new and changed articles and
        removals each take the next change number; record a successful sync with ``skipped`` items."""
        ...

    async def record_sync_failure(self, source: str, error: str) -> None:
        """Record a failed sync: its time and why; the source's articles and last success stay."""
        ...

    async def source_articles(self, source: str) -> dict[str, SourceArticle]:
        """The source's live articles by key, as last synced."""
        ...

    async def article_changes(self, after: int, limit: int) -> ChangeBatch:
        """The changes numbered after ``after``, oldest first, at most ``limit`` (bounded by the store);
        ``restart`` when some of them were forgotten (:meth:`forget_removals`); with the store's identity
        (``store_id``, the same for every instance on this database, another for any other database)."""
        ...

    async def retire_sources(self, keep: Collection[str], idle_for: timedelta) -> dict[str, int]:
        """Remove every live article of each source not in ``keep`` whose last sync was tried more than
        ``idle_for`` ago, and forget its sync; each removal takes the next change number, as in
        :meth:`replace_articles` (one transaction, taking turns with the syncs). Returns how many
        articles each retired source had."""
        ...

    async def forget_removals(self, older_than: timedelta) -> int:
        """Delete the rows of articles removed more than ``older_than`` ago and raise ``pruned_through``
        to the highest change number deleted; returns how many rows."""
        ...

    async def source_statuses(self) -> list[SourceStatus]:
        """Every source's last sync, by name."""
        ...


class DashboardLinksUsed(Protocol):
    """The leads' dashboard's sign-in links that were opened: each works once, on any instance."""

    async def use_dashboard_link(self, nonce: str, expires_at: datetime) -> bool:
        """Record that the link with ``nonce`` (valid until ``expires_at``) was opened; True the first time,
        False for every later use (atomic: of two instances opening it at once, one wins). Links that have
        expired are forgotten, as they are refused for their age anyway."""
        ...


class AnswerLog(Protocol):
    """What each answer did (``bot.quality.record``; written by ``Answering.finish_reply``), read back with
    its feedback and escalation for the coverage gaps (``bot.quality.gaps``) and the leads' dashboard."""

    async def answers_since(self, since: datetime, limit: int) -> list[AnswerRecord]:
        """The records of answers started at or after ``since``, newest first, at most ``limit``; each with
        its helpful and not-helpful votes and whether an escalation was opened in its thread at or after
        it."""
        ...


class KbDrafts(Protocol):
    """KB articles drafted from resolved threads, waiting for a lead (``bot.quality.drafts``)."""

    async def save_kb_draft(
        self, ref: ThreadRef, title: str, question: str, body: str, drafted_by: str, made_with: str
    ) -> KbDraft:
        """Store a draft from the thread ``ref``; it replaces the thread's waiting draft (keeping its id)
        if there is one."""
        ...

    async def kb_drafts(self, status: str, limit: int) -> list[KbDraft]:
        """The drafts with ``status`` (``draft``, ``published``, ``discarded``), newest change first, at
        most ``limit``."""
        ...

    async def kb_draft(self, draft_id: int) -> KbDraft | None: ...

    async def edit_kb_draft(self, draft_id: int, title: str, question: str, body: str) -> KbDraft | None:
        """Change a waiting draft's text; None when there is no waiting draft with that id."""
        ...

    async def decide_kb_draft(
        self, draft_id: int, status: str, visibility: str | None, decided_by: str
    ) -> KbDraft | None:
        """Publish (``published``, with a ``visibility``) or discard (``discarded``) a waiting draft; None
        when there is no waiting draft with that id (two leads deciding at once: one wins)."""
        ...


# What callers combine: one protocol per caller that uses several roles.


class ContextStore(Conversations, UsageLog, Protocol):
    """The context builder's: the thread's summary, and the usage of summarising it."""


class StatsStore(UsageLog, FeedbackLog, EscalationLog, SolvedThreads, Protocol):
    """The stats': usage, replies, feedback, escalations and solved threads over a period."""


class DashboardStore(
    StatsStore, AnswerLog, DashboardLinksUsed, KbDrafts, Conversations, KnowledgeStore, Protocol
):
    """The leads' dashboard's (``bot.dashboard``): the stats, open escalations, what answers did, its
    links' single use, and the KB drafts (what ``DraftsStore`` holds)."""


class ButtonsStore(Conversations, FeedbackLog, LeadActionLog, Protocol):
    """The buttons': feedback votes on a reply, the thread it answered, and a lead's resolve."""


class CommandsStore(
    StatsStore, AnswerLog, IdentityLinks, ChannelPauses, LeadActionLog, DataRetention, Protocol
):
    """The ``/support`` commands': links, pauses, open escalations, stats, coverage gaps, forgetting a
    person and the leads' own record."""


class ToolboxStore(ToolAudit, EscalationLog, Protocol):
    """The toolbox's: its audit, and what the tools use (``ToolContext.store``)."""


class GateStore(Conversations, ChannelPauses, Protocol):
    """The gate's (``bot.gate``): the channel's pause, and the bot's turns in the thread."""


class ServiceStore(Answering, Conversations, PendingReplies, UsageLog, EscalationLog, EventClaims, Protocol):
    """The support service's: the thread, its replies in flight, usage and reply rows, whether it is
    escalated, and (through the default dedup) event claims; an answer's own trips grouped (``Answering``)."""


class GapsStore(AnswerLog, Protocol):
    """The coverage gaps' (``bot.quality.gaps``): the answers of a period with their feedback and
    escalations."""


class DraftsStore(KbDrafts, Conversations, KnowledgeStore, UsageLog, Protocol):
    """The KB drafts' (``bot.quality.drafts``): the drafts, the thread a draft is made from, the
    ``drafts`` source's articles that published drafts become, and the usage of drafting with a model."""


__all__ = [
    "AnswerLog",
    "Answering",
    "ButtonsStore",
    "ChannelPauses",
    "CommandsStore",
    "ContextStore",
    "Conversations",
    "DashboardLinksUsed",
    "DashboardStore",
    "DataRetention",
    "DraftsStore",
    "EscalationLog",
    "EventClaims",
    "FeedbackLog",
    "GapsStore",
    "HandoffOutbox",
    "IdentityLinks",
    "KbDrafts",
    "KnowledgeStore",
    "LeadActionLog",
    "PendingReplies",
    "ServiceStore",
    "StatsStore",
    "ToolAudit",
    "ToolboxStore",
    "UsageLog",
]
