"""The records the store keeps and hands back: plain frozen dataclasses, the same for every store."""

from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import datetime

from bot.kb.sources.base import ArticleChange
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
    """Where it was done: the channel the command was run in (or the button clicked in); empty, with an
    empty ``space_id``, for what an operator did on the command line."""
    user_id: str
    """The lead (``operator:NAME`` for an operator on the command line)."""
    action: str
    """``link``, ``unlink``, ``forget``, ``pause``, ``resume``, ``resolve``, ``kb reload``."""
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
    user_id: str | None = None
    """Whom it answered (the asker's platform user id); cleared once the retention period is over or the
    person is forgotten, when the row only counts."""


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


@dataclass(frozen=True)
class PruneReport:
    """What one pruning pass removed or cleared (``DataRetention.prune``)."""

    turns: int = 0
    """Messages deleted, the bot's (with their tool exchanges) and people's."""
    summaries: int = 0
    """Thread summaries deleted."""
    pending_replies: int = 0
    """Records of replies in flight left over from a crash."""
    tool_calls: int = 0
    """Audit rows of tool calls."""
    escalations: int = 0
    """Resolved escalations whose summary and asker were cleared (the row still counts)."""
    replies: int = 0
    """Answer records unlinked from the person they answered (the row still counts)."""

    def __add__(self, other: PruneReport) -> PruneReport:
        return PruneReport(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    @property
    def total(self) -> int:
        return sum(astuple(self))


@dataclass(frozen=True)
class ForgetReport:
    """What forgetting one person removed (``DataRetention.forget_user``)."""

    messages: int = 0
    """Their own messages, in every thread."""
    answers: int = 0
    """The bot's answers to them (with the tool results they saw)."""
    summaries: int = 0
    """Summaries of threads they wrote in."""
    links: int = 0
    """Their link to a customer account."""
    feedback: int = 0
    """Their votes on answers."""
    replies: int = 0
    """Answer records unlinked from them (the row still counts, without the person)."""
    escalations: int = 0
    """Escalations they asked for, their summary and asker cleared (the row still counts)."""

    @property
    def total(self) -> int:
        return sum(astuple(self))


@dataclass(frozen=True)
class ThreadState:
    """A thread as an answer starts (``Answering.take_turn``): whether it is escalated, its newest turns
    (oldest first) and its summary."""

    escalated: bool
    turns: list[Turn]
    summary: ThreadSummary | None
    space_tokens: int | None = None
    """The space's tokens since the time asked for (``tokens_used_since``); None when not asked."""


@dataclass(frozen=True)
class ArticleDiff:
    """What replacing a source's articles changed (``KnowledgeStore.replace_articles``), by article key."""

    added: tuple[str, ...]
    updated: tuple[str, ...]
    removed: tuple[str, ...]
    seq: int
    """The store's change number after the replace (the newest of all sources)."""


@dataclass(frozen=True)
class ChangeBatch:
    """Article changes in the order they were made (``KnowledgeStore.article_changes``): each article's
    newest state, its removal as ``article=None``; ``seq`` is the number of the last change in the batch (the
    number asked after when there is none)."""

    changes: tuple[ArticleChange, ...]
    seq: int


@dataclass(frozen=True)
class SourceStatus:
    """A knowledge source's last sync: when it was tried and last succeeded, why it last failed (None when
    the last attempt succeeded), and the counts of its last successful sync."""

    source: str
    last_attempt_at: datetime
    last_success_at: datetime | None
    last_error: str | None
    articles: int
    added: int
    updated: int
    removed: int
    skipped: int


__all__ = [
    "LEAD_ACTIONS_KEPT",
    "LEAD_ACTION_ARGUMENT_CHARS",
    "ArticleDiff",
    "AuditRecord",
    "ChangeBatch",
    "Escalation",
    "FeedbackVote",
    "ForgetReport",
    "LeadAction",
    "PendingReply",
    "PruneReport",
    "ReplyRecord",
    "SourceStatus",
    "ThreadState",
    "ThreadSummary",
    "UsageRecord",
]
