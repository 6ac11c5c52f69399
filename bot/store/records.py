"""The records the store keeps and hands back: plain frozen dataclasses, the same for every store."""

from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import datetime
from typing import Literal

from bot.kb.sources.base import ArticleChange
from bot.types import Source, ThreadRef, Turn, Usage


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

    @classmethod
    def of(cls, ref: ThreadRef, reply_id: str, model: str, usage: Usage, at: datetime) -> UsageRecord:
        """The record of ``usage``, spent by ``model`` for the reply ``reply_id`` in ``ref``."""
        return cls(
            ref,
            reply_id,
            model,
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_read_tokens,
            usage.cache_write_tokens,
            usage.cost_usd,
            at,
        )


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
class HandoffDelivery:
    """An escalation waiting in the outbox for one helpdesk target (``bot.handoff``)."""

    id: int
    escalation_id: int
    target: str
    ref: ThreadRef
    payload: str
    """The JSON body to send, as enqueued."""
    attempts: int


@dataclass(frozen=True)
class HandoffBacklog:
    """What waits in the outbox for one helpdesk target: its undelivered rows (``bot.handoff``)."""

    target: str
    pending: int
    failing: int
    """Of ``pending``, those whose last attempt failed (they are tried again, with back-off)."""
    oldest_at: datetime
    """When the oldest of them was enqueued."""
    last_error: str | None
    """What the target answered the oldest failing row the last time (None when none is failing)."""


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
    answer_records: int = 0
    """Records of what an answer did (its question, searches and citations), deleted."""
    handoffs: int = 0
    """Escalations delivered to a helpdesk, deleted from the outbox with the transcript they carried."""
    solved_threads: int = 0
    """Solved threads cleared of who marked them solved and on which message (the row still counts)."""

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
    answer_records: int = 0
    """Records of what the answers to them did (their question, the searches, the citations)."""
    handoffs: int = 0
    """Their escalations in the helpdesk outbox (``bot.handoff``), delivered or not."""
    solved_threads: int = 0
    """Threads they marked solved, cleared of who marked it and on which message (the row still counts)."""

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
    number asked after when there is none, and at least the store's ``pruned_through`` once the batch
    reaches the newest change)."""

    changes: tuple[ArticleChange, ...]
    seq: int
    store_id: str
    """The store's identity (a random UUID made once per database, migration 16): a follower that
    recorded another one built what it has from another database, whatever its change number."""
    restart: bool = False
    """The changes after the number asked after are no longer all kept (removals older than the store
    keeps were forgotten), or the number is past the store's newest change (``ahead``): no changes come,
    and the caller must empty what it built from them and ask again after 0."""
    ahead: bool = False
    """The number asked after is past the store's newest change: what the caller built came from another
    store (another database, or this one before it was restored from an older backup). ``restart`` too."""


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


SEARCHES_KEPT = 8
"""An answer record keeps at most this many of the answer's searches (the first ones)."""
QUERY_CHARS = 200
"""A recorded search query is kept up to this many characters."""
SCORES_KEPT = 3
"""A recorded search keeps the scores of its best hits, at most this many."""
QUESTION_CHARS = 500
"""An answer record keeps the question up to this many characters."""
ANSWER_CHARS = 1_000
"""An answer record keeps the start of the answer, up to this many characters."""


@dataclass(frozen=True)
class SearchRecord:
    """One knowledge-base search an answer made: the query (masked, cut to ``QUERY_CHARS``), how many
    sections it found and the best scores (comparable within the one search). No hit means the index
    found nothing relevant enough (it abstains below its floor)."""

    query: str
    hits: int
    top_scores: tuple[float, ...] = ()

    @property
    def nothing_relevant(self) -> bool:
        return self.hits == 0


@dataclass(frozen=True)
class AnswerRecord:
    """What one answer did (``bot.quality.record``): the question it answered, the start of its text, the
    searches it made, the articles shown under it, whether search found nothing relevant (searches were
    made and none found anything) and whether the fallback answered, without the model.

    Written with the reply (``Answering.finish_reply``), keyed by its ``reply_id`` like the reply row and
    the feedback votes. ``message_id`` is the answer's first message on the platform (for links). The
    last three fields are read, never written: the answer's votes, and whether its thread was escalated
    at or after it (``AnswerLog.answers_since``)."""

    reply_id: str
    ref: ThreadRef
    message_id: str
    at: datetime
    question: str
    answer: str
    searches: tuple[SearchRecord, ...]
    cited: tuple[Source, ...]
    nothing_found: bool
    fallback: bool
    user_id: str | None = None
    """Whom it answered; the record is deleted when they are forgotten or the retention period is over."""
    helpful_votes: int = 0
    not_helpful_votes: int = 0
    escalated: bool = False


KbDraftStatus = Literal["draft", "published", "discarded"]


@dataclass(frozen=True)
class KbDraft:
    """A knowledge-base article drafted from a resolved thread (``bot.quality.drafts``).

    ``status`` is ``draft`` while it waits for a lead, then ``published`` (an article of the ``drafts``
    source, with its ``visibility``) or ``discarded``. ``made_with`` names the model that drafted it, or
    ``template`` when it was drafted without one."""

    id: int
    ref: ThreadRef
    title: str
    question: str
    body: str
    drafted_by: str
    made_with: str
    created_at: datetime
    updated_at: datetime
    status: KbDraftStatus = "draft"
    visibility: Literal["public", "internal"] | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None


__all__ = [
    "ANSWER_CHARS",
    "LEAD_ACTIONS_KEPT",
    "LEAD_ACTION_ARGUMENT_CHARS",
    "QUERY_CHARS",
    "QUESTION_CHARS",
    "SCORES_KEPT",
    "SEARCHES_KEPT",
    "AnswerRecord",
    "ArticleDiff",
    "AuditRecord",
    "ChangeBatch",
    "Escalation",
    "FeedbackVote",
    "ForgetReport",
    "KbDraft",
    "KbDraftStatus",
    "LeadAction",
    "PendingReply",
    "PruneReport",
    "ReplyRecord",
    "SearchRecord",
    "SourceStatus",
    "ThreadState",
    "ThreadSummary",
    "UsageRecord",
]
