"""``/support``, the same on every platform: typed commands, who may run them, running them, the replies.

``help`` and ``kb search`` are for everyone; everything else is for support leads, and others get a
polite refusal. What a lead changes (links, pauses, resolves, a KB reload) is recorded in the store with
who, when and where, and ``audit`` reads it back. A front end translates its platform's invocation
(Slack's command text, Discord's typed options) into a :data:`Command` with :func:`parse_command` or the
constructors below, and shows the reply string only to the person who ran it. What differs between
platforms comes in two parts:

- a :class:`Dialect` (pure): the platform's markup, how a user and a thread link are written, and the
  help lines that differ;
- a :class:`CommandHost` (I/O): where a thread is (a link for the leads), how an escalation is resolved
  there, and how a thread link becomes a ``ThreadRef``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from bot.dashboard.auth import DashboardAccess
from bot.kb.index import KnowledgeBase, UnreadableIndex
from bot.kb.schedule import KnowledgeSync
from bot.markup import Markup
from bot.privacy import describe_forget
from bot.quality.drafts import KbDrafting, drafted_reply, waiting_list
from bot.quality.gaps import GapReport, describe_reasons, find_gaps
from bot.stats import Figures, Stats, gather_stats, seconds
from bot.store import CommandsStore, Escalation, LeadAction
from bot.types import Principal, ThreadRef

log = logging.getLogger(__name__)

DEFAULT_DAYS = 7
MAX_DAYS = 90
MAX_LISTED = 15
KB_RESULTS = 5
AUDIT_LISTED = 20
SUMMARY_CHARS = 200
OPERATOR_PREFIX = "operator:"
"""A lead action's ``user_id`` when an operator did it with ``supportbot`` (``supportbot forget``)."""

KB_USAGE = (
    "Use `/support kb search QUERY`, `/support kb reload`, `/support kb save [LINK]` or `/support kb drafts`."
)
REFUSAL = (
    "Sorry, only support leads can use `/support {name}`. You can use `/support help` and "
    "`/support kb search QUERY`."
)

DASHBOARD_OFF = (
    "The dashboard is off: an operator turns it on by setting DASHBOARD_SECRET and PUBLIC_URL "
    "(README, Dashboard)."
)

_CUSTOMER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_ESCALATION_ID = re.compile(r"#?([0-9]{1,12})")
_DAYS = re.compile(r"[0-9]{1,4}")  # ASCII digits only: "²" and "٣" are digits to str.isdigit

ThreadLink = tuple[str, ...]
"""A thread named by a link, as the dialect parsed it (ids); the host turns it into a ``ThreadRef``."""


@dataclass(frozen=True)
class Help:
    problem: str | None = None


@dataclass(frozen=True)
class ShowStats:
    days: int


@dataclass(frozen=True)
class ShowGaps:
    """The coverage gaps of the last ``days`` days (``bot.quality.gaps``)."""

    days: int


@dataclass(frozen=True)
class ListEscalations:
    pass


@dataclass(frozen=True)
class Link:
    user_id: str
    customer_id: str


@dataclass(frozen=True)
class Unlink:
    user_id: str


@dataclass(frozen=True)
class Forget:
    """Delete what the bot stored about one person (``bot.privacy``)."""

    user_id: str


@dataclass(frozen=True)
class KbSearch:
    query: str


@dataclass(frozen=True)
class KbReload:
    pass


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class ResolveId:
    escalation_id: int


@dataclass(frozen=True)
class ResolveThread:
    link: ThreadLink


@dataclass(frozen=True)
class ResolveHere:
    """``resolve`` without an argument, run inside the thread to resolve."""


@dataclass(frozen=True)
class ShowAudit:
    """What leads did lately in this workspace or server."""


@dataclass(frozen=True)
class OpenDashboard:
    """A sign-in link to the leads' dashboard (``bot.dashboard``), for the lead who asks only."""


@dataclass(frozen=True)
class KbSave:
    """Draft a KB article from a thread (``bot.quality.drafts``): the one named by ``link``, or (None) the
    thread the command was run in."""

    link: ThreadLink | None = None


@dataclass(frozen=True)
class ListKbDrafts:
    """The KB drafts waiting for a lead."""


Command = (
    Help
    | ShowStats
    | ShowGaps
    | ListEscalations
    | Link
    | Unlink
    | Forget
    | KbSearch
    | KbReload
    | Pause
    | Resume
    | ResolveId
    | ResolveThread
    | ResolveHere
    | ShowAudit
    | OpenDashboard
    | KbSave
    | ListKbDrafts
)
LEADS_ONLY = (
    ShowStats,
    ShowGaps,
    ListEscalations,
    Link,
    Unlink,
    Forget,
    KbReload,
    Pause,
    Resume,
    ResolveId,
    ResolveThread,
    ResolveHere,
    ShowAudit,
    OpenDashboard,
    KbSave,
    ListKbDrafts,
)
_NAMES: dict[type, str] = {
    ShowStats: "stats",
    ShowGaps: "gaps",
    ListEscalations: "escalations",
    Link: "link",
    Unlink: "unlink",
    Forget: "forget",
    KbReload: "kb reload",
    Pause: "pause",
    Resume: "resume",
    ResolveId: "resolve",
    ResolveThread: "resolve",
    ResolveHere: "resolve",
    ShowAudit: "audit",
    OpenDashboard: "dashboard",
    KbSave: "kb save",
    ListKbDrafts: "kb drafts",
}


def _identity(text: str) -> str:
    return text


@dataclass(frozen=True)
class Dialect:
    """What ``/support`` looks like on one platform (pure: no I/O)."""

    platform: str
    label: str
    """The platform's name in replies: ``Slack``, ``Discord``."""
    markup: Markup
    resolve_help: str
    """The help line of ``resolve``: its usage and what it does."""
    resolve_usage: str
    """The problem shown for a ``resolve`` that cannot be read."""
    parse_user: Callable[[str], str | None]
    """A user id from a word of the command (a mention, or an id)."""
    parse_thread_link: Callable[[str], ThreadLink | None]
    """A thread from a word of the command (the platform's link to it)."""
    unescape: Callable[[str], str] = _identity
    """Free text of the command (a search query) as the person typed it."""
    kb_save_help: str = (
        "`kb save [LINK]`: draft a KB article from this thread (run it there) or the linked one"
    )
    """The help line of ``kb save``: its usage and what it does."""
    kb_save_usage: str = "Use `/support kb save` in the thread, or give the thread's link."
    """The problem shown for a ``kb save`` that cannot be read."""


@dataclass(frozen=True)
class Invocation:
    """Who ran a command, and where: ``channel_id`` is the channel (for a thread, the channel it is in)."""

    caller: Principal
    space_id: str
    channel_id: str
    thread: ThreadRef | None = None


class CommandHost(Protocol):
    """What the commands need from the platform."""

    async def locate(self, link: ThreadLink, invocation: Invocation) -> ThreadRef | None:
        """The thread a link names, or None when it is not one of the platform's threads."""
        ...

    async def where(self, ref: ThreadRef) -> str:
        """Where the thread is, for a lead (a link to it, where there is one)."""
        ...

    async def resolve(self, ref: ThreadRef, lead: Principal) -> int:
        """Resolve the thread's open escalations; how many there were."""
        ...


def help_text(dialect: Dialect) -> str:
    bold = dialect.markup.bold
    return "\n".join(
        [
            bold("`/support` commands"),
            "• `help`: this list",
            "• `kb search QUERY`: search the knowledge base",
            bold("For support leads"),
            "• `stats [days]`: answers, feedback, speed and cost of the last days (default 7)",
            "• `gaps [days]`: the questions I could not answer well (nothing found, not helpful, escalated), "
            "grouped into topics, largest first (default 7 days)",
            "• `escalations`: the open escalations",
            f"• `link @user CUSTOMER_ID`, `unlink @user`: link a {dialect.label} user to a customer account, "
            "or undo it",
            "• `forget @user`: delete what I stored about a person: their messages, my answers to them, "
            "their link and feedback votes",
            "• `kb reload`: sync the knowledge sources now",
            f"• {dialect.kb_save_help} (after a resolved escalation); `kb drafts`: the drafts waiting for "
            "a lead to edit, publish or discard on the dashboard",
            "• `pause`, `resume`: stop or restart answering in this channel",
            f"• {dialect.resolve_help}",
            "• `audit`: what leads did lately (links, pauses, resolves, reloads): who, when and where",
            "• `dashboard`: a link to the leads' dashboard, only for you (it works once, for 10 minutes)",
        ]
    )


# ---- building commands (Slack parses text; Discord has typed options) ----------------------------------


def parse_command(text: str, dialect: Dialect, *, in_thread: bool = False) -> Command:
    """``/support``'s text as a command; anything unknown is ``Help`` (with the problem, if one)."""
    words = text.split()
    if not words:
        return Help()
    name, args = words[0].lower(), words[1:]
    match name:
        case "help":
            return Help()
        case "stats":
            return _stats(args)
        case "gaps":
            return _gaps(args)
        case "escalations":
            return ListEscalations()
        case "audit":
            return ShowAudit()
        case "dashboard":
            return OpenDashboard()
        case "link":
            user = dialect.parse_user(args[0]) if len(args) == 2 else None
            return link_command(user, args[1] if len(args) == 2 else "")
        case "unlink":
            return unlink_command(dialect.parse_user(args[0]) if len(args) == 1 else None)
        case "forget":
            return forget_command(dialect.parse_user(args[0]) if len(args) == 1 else None)
        case "kb":
            if args[:1] == ["reload"] and len(args) == 1:
                return KbReload()
            if args[:1] == ["search"] and len(args) > 1:
                return kb_search_command(dialect.unescape(" ".join(args[1:])))
            if args == ["drafts"]:
                return ListKbDrafts()
            if args[:1] == ["save"] and len(args) <= 2:
                return kb_save_command(args[1] if len(args) == 2 else None, dialect, in_thread=in_thread)
            return Help(KB_USAGE)
        case "pause":
            return Pause()
        case "resume":
            return Resume()
        case "resolve":
            if len(args) > 1:
                return Help(dialect.resolve_usage)
            return resolve_command(args[0] if args else None, dialect, in_thread=in_thread)
    return Help(f"I don't know {dialect.markup.code(dialect.markup.plain(name))}.")


def _stats(args: list[str]) -> Command:
    if not args:
        return stats_command(None)
    if len(args) == 1 and _DAYS.fullmatch(args[0]):
        return stats_command(int(args[0]))
    return stats_command(-1)


def _gaps(args: list[str]) -> Command:
    if len(args) > 1 or (args and not _DAYS.fullmatch(args[0])):
        return gaps_command(-1)
    return gaps_command(int(args[0]) if args else None)


def gaps_command(days: int | None) -> Command:
    if days is None:
        return ShowGaps(DEFAULT_DAYS)
    if 1 <= days <= MAX_DAYS:
        return ShowGaps(days)
    return Help(f"Use `/support gaps [days]` with 1 to {MAX_DAYS} days.")


def stats_command(days: int | None) -> Command:
    if days is None:
        return ShowStats(DEFAULT_DAYS)
    if 1 <= days <= MAX_DAYS:
        return ShowStats(days)
    return Help(f"Use `/support stats [days]` with 1 to {MAX_DAYS} days.")


def link_command(user_id: str | None, customer_id: str) -> Command:
    if user_id is None or not _CUSTOMER_ID.fullmatch(customer_id):
        return Help("Use `/support link @user CUSTOMER_ID` (a customer id like `C-1001`).")
    return Link(user_id, customer_id)


def unlink_command(user_id: str | None) -> Command:
    return Unlink(user_id) if user_id else Help("Use `/support unlink @user`.")


def forget_command(user_id: str | None) -> Command:
    return Forget(user_id) if user_id else Help("Use `/support forget @user`.")


def kb_search_command(query: str) -> Command:
    query = query.strip()
    return KbSearch(query) if query else Help(KB_USAGE)


def kb_save_command(target: str | None, dialect: Dialect, *, in_thread: bool) -> Command:
    """``kb save`` with a thread link, or nothing (inside the thread)."""
    if target is None or not target.strip():
        return KbSave() if in_thread else Help(dialect.kb_save_usage)
    link = dialect.parse_thread_link(target.strip())
    return KbSave(link) if link is not None else Help(dialect.kb_save_usage)


def resolve_command(target: str | None, dialect: Dialect, *, in_thread: bool) -> Command:
    """``resolve`` with a thread link, an escalation number, or nothing (inside the thread)."""
    if target is None or not target.strip():
        return ResolveHere() if in_thread else Help(dialect.resolve_usage)
    target = target.strip()
    if match := _ESCALATION_ID.fullmatch(target):
        return ResolveId(int(match.group(1)))
    link = dialect.parse_thread_link(target)
    return ResolveThread(link) if link is not None else Help(dialect.resolve_usage)


# ---- running commands ------------------------------------------------------------------------------------


class SupportCommands:
    """Runs commands for one platform against the store, the knowledge base and the stats."""

    def __init__(
        self,
        store: CommandsStore,
        kb: KnowledgeBase,
        dialect: Dialect,
        host: CommandHost,
        dashboard: DashboardAccess | None = None,
        *,
        knowledge: KnowledgeSync,
        drafts: KbDrafting,
        drafts_page: str | None = None,
    ) -> None:
        self._knowledge = knowledge
        self._drafts = drafts
        self._drafts_page = drafts_page
        self._store = store
        self._dashboard = dashboard
        self._kb = kb
        self._dialect = dialect
        self._markup = dialect.markup
        self._host = host
        self.help = help_text(dialect)

    async def run(self, command: Command, invocation: Invocation) -> str:
        """The reply to ``command``, for the person who ran it (in the platform's markup)."""
        caller, markup, platform = invocation.caller, self._markup, self._dialect.platform
        if isinstance(command, LEADS_ONLY) and not caller.is_lead:
            return REFUSAL.format(name=_NAMES[type(command)])
        match command:
            case Help(problem=problem):
                return f"{problem}\n\n{self.help}" if problem else self.help
            case ShowStats(days=days):
                return format_stats(await gather_stats(self._store, platform, days), days, self._dialect)
            case ShowGaps(days=days):
                return format_gaps(await find_gaps(self._store, days, platform=platform), self._dialect)
            case ListEscalations():
                return await self._list_escalations()
            case ShowAudit():
                return await self._audit(invocation)
            case OpenDashboard():
                return self._dashboard_link(caller)
            case Link(user_id=user_id, customer_id=customer_id):
                await self._store.link_identity(platform, user_id, customer_id)
                await self._done(invocation, "link", f"{user_id} → {customer_id}")
                return f"Linked {markup.user(user_id)} to customer {markup.code(customer_id)}."
            case Unlink(user_id=user_id):
                if await self._store.unlink_identity(platform, user_id):
                    await self._done(invocation, "unlink", user_id)
                    return f"Unlinked {markup.user(user_id)}."
                return f"{markup.user(user_id)} was not linked to a customer."
            case Forget(user_id=user_id):
                forgotten = await self._store.forget_user(platform, user_id)
                await self._done(invocation, "forget", user_id)
                return f"Forgot {markup.user(user_id)}: {describe_forget(forgotten)}."
            case KbSearch(query=query):
                return await self._kb_search(query, caller)
            case KbReload():
                summaries = await self._knowledge.sync()  # every source, then the index caught up
                articles = sum(summary.articles for summary in summaries)
                skipped = sum(len(summary.skipped) for summary in summaries)
                await self._done(invocation, "kb reload", f"{articles} indexed")
                lines = "".join(f"\n• {markup.plain(summary.line())}" for summary in summaries[:MAX_LISTED])
                return f"Indexed {articles} articles ({skipped} skipped).{lines}"
            case Pause():
                channel = markup.channel(invocation.channel_id)
                await self._store.pause_channel(
                    platform, invocation.space_id, invocation.channel_id, caller.user_id
                )
                await self._done(invocation, "pause")
                return f"I'm paused in {channel} until a lead runs `/support resume` there."
            case Resume():
                channel = markup.channel(invocation.channel_id)
                thread = invocation.thread
                # A thread the bot stepped back from (staff took over) is recorded as a paused channel of
                # its own: resuming there ends that first.
                if thread is not None and await self._store.resume_channel(
                    platform, thread.space_id, thread.thread_id
                ):
                    await self._done(invocation, "resume", "thread")
                    return "I'm answering in this thread again."
                if await self._store.resume_channel(platform, invocation.space_id, invocation.channel_id):
                    await self._done(invocation, "resume")
                    return f"I'm answering in {channel} again."
                return f"I wasn't paused in {channel}."
            case ResolveId(escalation_id=escalation_id):
                refs = [e.ref for e in await self._store.open_escalations() if e.id == escalation_id]
                if not refs:
                    return f"There is no open escalation #{escalation_id}."
                return await self._resolve(refs, invocation, f"#{escalation_id} ")
            case ResolveThread(link=link):
                ref = await self._host.locate(link, invocation)
                return await self._resolve([ref] if ref is not None else [], invocation)
            case ResolveHere():
                return await self._resolve([invocation.thread] if invocation.thread else [], invocation)
            case KbSave(link=link):
                ref = invocation.thread if link is None else await self._host.locate(link, invocation)
                if ref is None:
                    return "That is not a thread I know."
                draft = await self._drafts.draft_from_thread(ref, caller.user_id)
                if draft is not None:
                    await self._done(invocation, "kb save", f"#{draft.id} {ref.key}")
                return drafted_reply(draft, markup, self._drafts_page)
            case ListKbDrafts():
                return waiting_list(await self._drafts.waiting(), markup, self._drafts_page)

    async def _done(self, invocation: Invocation, action: str, argument: str = "") -> None:
        """Record what a lead did, for ``audit``."""
        await self._store.record_lead_action(
            LeadAction(
                at=datetime.now(UTC),
                platform=self._dialect.platform,
                space_id=invocation.space_id,
                channel_id=invocation.channel_id,
                user_id=invocation.caller.user_id,
                action=action,
                argument=argument,
            )
        )

    async def _audit(self, invocation: Invocation) -> str:
        markup = self._markup
        actions = await self._store.lead_actions(self._dialect.platform, invocation.space_id, AUDIT_LISTED)
        if not actions:
            return "No lead actions recorded yet."
        lines = [
            f"• {action.at.astimezone(UTC).strftime('%Y-%m-%d %H:%M UTC')} {self._actor(action)} "
            f"{markup.bold(action.action)} {self._place(action)}"
            + (f": {markup.code(markup.plain(action.argument))}" if action.argument else "")
            for action in actions
        ]
        return f"{markup.bold(f'The last {len(actions)} lead action(s), newest first')}\n" + "\n".join(lines)

    def _actor(self, action: LeadAction) -> str:
        """The lead, or the operator who ran ``supportbot`` (``operator:NAME``)."""
        if action.user_id.startswith(OPERATOR_PREFIX):
            return self._markup.plain(action.user_id)
        return self._markup.user(action.user_id)

    def _place(self, action: LeadAction) -> str:
        if not action.channel_id:
            return "on the command line"
        return f"in {self._markup.channel(action.channel_id)}"

    def _dashboard_link(self, lead: Principal) -> str:
        if self._dashboard is None or self._dashboard.public_url is None:
            return DASHBOARD_OFF
        link = self._dashboard.link(f"{lead.platform}:{lead.user_id}")
        return (
            f"{self._markup.link(link, 'Open the dashboard')}: this link is only for you; it works once, "
            "within 10 minutes, and keeps you signed in for 8 hours."
        )

    async def _list_escalations(self) -> str:
        escalations = await self._store.open_escalations()
        if not escalations:
            return "No open escalations."
        lines = [await self._escalation_line(e) for e in escalations[:MAX_LISTED]]
        more = len(escalations) - MAX_LISTED
        tail = f"\n…and {more} more." if more > 0 else ""
        return f"{self._markup.bold(f'{len(escalations)} open escalation(s)')}\n" + "\n".join(lines) + tail

    async def _escalation_line(self, escalation: Escalation) -> str:
        markup = self._markup
        opened = escalation.opened_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        if escalation.ref.platform == self._dialect.platform:
            who, where = markup.user(escalation.user_id), await self._host.where(escalation.ref)
        else:
            who, where = markup.plain(escalation.user_id), f"on {escalation.ref.platform}"
        if not escalation.user_id:  # forgotten (supportbot forget)
            who = "someone"
        summary = markup.plain(" ".join(escalation.summary.split())[:SUMMARY_CHARS])
        return f"• {markup.bold(f'#{escalation.id}')} {where}, opened {opened} by {who}: {summary}"

    async def _kb_search(self, query: str, caller: Principal) -> str:
        markup = self._markup
        shown = markup.italic(markup.plain(query))
        try:
            hits = await self._kb.asearch(query, include_internal=caller.is_staff, limit=KB_RESULTS)
        except UnreadableIndex as exc:
            log.error("%s", exc)
            return (
                "The knowledge base cannot be searched right now: its index file is damaged. "
                "`supportbot doctor` says how to rebuild it."
            )
        if not hits:
            return f"No articles matched {shown}."
        lines = [
            f"• {markup.link(hit.url, markup.plain(hit.title))}"
            f"{' (internal)' if hit.visibility == 'internal' else ''}\n   {markup.plain(hit.snippet)}"
            for hit in hits
        ]
        return f"{markup.bold(f'Articles for {shown}')}\n" + "\n".join(lines)

    async def _resolve(self, refs: list[ThreadRef], invocation: Invocation, label: str = "") -> str:
        resolved = sum([await self._host.resolve(ref, invocation.caller) for ref in refs])
        if not resolved:
            return "There is no open escalation in that thread."
        await self._done(invocation, "resolve", label + " ".join(ref.key for ref in refs))
        return f"Resolved {resolved} escalation(s); I answer in that thread again."


def format_stats(stats: Stats, days: int, dialect: Dialect) -> str:
    """The totals, then one line per day and per channel (the busiest first)."""
    markup = dialect.markup
    total = stats.total
    since = stats.since.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"{markup.bold(f'{dialect.label}, the last {days} day(s)')} (since {since})",
        f"• Questions: {total.questions} ({total.limited} answered with a limit notice)",
        f"• Answers: {total.answers} ({total.fallback} without the AI model); {total.failed} failed",
        f"• Feedback: {total.helpful} helpful, {total.not_helpful} not helpful",
        f"• Escalations: {total.escalations} opened; {stats.open_escalations} open now",
        f"• Solved threads: {stats.solved}",
        f"• Median time to first text: {seconds(total.median_first_text_ms)}",
        f"• Tokens: {total.input_tokens + total.cache_read_tokens + total.cache_write_tokens:,} in "
        f"({total.cache_read_tokens:,} from the cache), {total.output_tokens:,} out; "
        f"cost ${total.cost_usd:.2f}",
    ]
    if stats.per_day:
        lines.append(markup.bold("Per day"))
        lines += [f"• {markup.code(day.isoformat())} {_figures(f)}" for day, f in stats.per_day[-MAX_DAYS:]]
    if stats.per_channel:
        lines.append(markup.bold("Per channel"))
        listed = stats.per_channel[:MAX_LISTED]
        lines += [f"• {markup.channel(channel.channel_id)} {_figures(f)}" for channel, f in listed]
        if len(stats.per_channel) > MAX_LISTED:
            lines.append(f"…and {len(stats.per_channel) - MAX_LISTED} more.")
    return "\n".join(lines)


GAP_TOPICS_LISTED = 8
GAP_QUESTION_CHARS = 150


def format_gaps(report: GapReport, dialect: Dialect) -> str:
    """The largest gap topics, each with its count, reasons and example questions linked to their threads
    (a few, each cut short, so the reply stays within a message)."""
    markup = dialect.markup
    head = markup.bold(f"Coverage gaps on {dialect.label}, the last {report.days} day(s)")
    summary = (
        f"{head}: {report.questions} of {report.answers} question(s) answered badly, "
        f"in {len(report.topics)} topic(s)"
    )
    if not report.topics:
        return f"{summary}\nNo question went unanswered, unhelpful or escalated in this period."
    lines = [summary]
    for number, topic in enumerate(report.topics[:GAP_TOPICS_LISTED], start=1):
        label = markup.bold(markup.plain(topic.label))
        lines.append(f"{number}. {label}: {topic.count} ({describe_reasons(topic.reasons)})")
        for example in topic.examples:
            question = markup.plain(" ".join(example.question.split())[:GAP_QUESTION_CHARS])
            link = f" {markup.link(example.link, 'thread')}" if example.link else ""
            lines.append(f"   • {markup.italic(question)}{link}")
    if len(report.topics) > GAP_TOPICS_LISTED:
        lines.append(f"…and {len(report.topics) - GAP_TOPICS_LISTED} more topic(s) (`supportbot gaps`).")
    return "\n".join(lines)


def _figures(f: Figures) -> str:
    """A day's or a channel's figures on one line."""
    return (
        f"{f.questions} questions, {f.answers} answers ({f.fallback} without the AI model), "
        f"{f.failed} failed, {f.helpful} helpful, {f.not_helpful} not helpful, {f.escalations} escalations, "
        f"first text {seconds(f.median_first_text_ms)}, ${f.cost_usd:.2f}"
    )
