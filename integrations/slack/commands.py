"""``/support``: parsing (pure) and the handlers. Replies are shown only to the person who ran it.

``help`` and ``kb search`` are for everyone; everything else is for support leads, and others get a
polite refusal. Slash commands cannot be run in a thread, so ``resolve`` takes the thread's link (from
"Copy link") or the escalation's number.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC
from urllib.parse import parse_qs, urlsplit

from bot.runtime import App
from bot.stats import Stats, gather_stats
from bot.store import Escalation
from bot.types import Principal, ThreadRef
from integrations.slack.escalations import SlackEscalations
from integrations.slack.events import PLATFORM, SlashCommand, thread_ref
from integrations.slack.mrkdwn import plain
from integrations.slack.principals import PrincipalResolver

DEFAULT_DAYS = 7
MAX_DAYS = 90
MAX_LISTED = 15
KB_RESULTS = 5

HELP = """*`/support` commands*
• `help`: this list
• `kb search QUERY`: search the knowledge base
*For support leads*
• `stats [days]`: answers, feedback, speed and cost of the last days (default 7)
• `escalations`: the open escalations
• `link @user CUSTOMER_ID`, `unlink @user`: link a Slack user to a customer account, or undo it
• `kb reload`: index the knowledge base again
• `pause`, `resume`: stop or restart answering in this channel
• `resolve LINK` or `resolve #ID`: close an escalation (the thread's link, or its number); I answer in the \
thread again"""
REFUSAL = (
    "Sorry, only support leads can use `/support {name}`. You can use `/support help` and "
    "`/support kb search QUERY`."
)

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|([UW][A-Z0-9]{2,})")
_CUSTOMER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_ESCALATION_ID = re.compile(r"#?(\d{1,12})")
_PERMALINK_PATH = re.compile(r"/archives/([CGD][A-Z0-9]+)/p(\d{7,})$")


@dataclass(frozen=True)
class Help:
    problem: str | None = None


@dataclass(frozen=True)
class ShowStats:
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
    channel_id: str
    thread_ts: str


Command = (
    Help
    | ShowStats
    | ListEscalations
    | Link
    | Unlink
    | KbSearch
    | KbReload
    | Pause
    | Resume
    | ResolveId
    | ResolveThread
)
LEADS_ONLY = (ShowStats, ListEscalations, Link, Unlink, KbReload, Pause, Resume, ResolveId, ResolveThread)
_NAMES: dict[type, str] = {
    ShowStats: "stats",
    ListEscalations: "escalations",
    Link: "link",
    Unlink: "unlink",
    KbReload: "kb reload",
    Pause: "pause",
    Resume: "resume",
    ResolveId: "resolve",
    ResolveThread: "resolve",
}


def parse_command(text: str) -> Command:
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
        case "escalations":
            return ListEscalations()
        case "link":
            return _link(args)
        case "unlink":
            user = _user(args[0]) if len(args) == 1 else None
            return Unlink(user) if user else Help("Use `/support unlink @user`.")
        case "kb":
            return _kb(args)
        case "pause":
            return Pause()
        case "resume":
            return Resume()
        case "resolve":
            return _resolve(args)
    return Help(f"I don't know `{plain(name)}`.")


def _stats(args: list[str]) -> Command:
    if not args:
        return ShowStats(DEFAULT_DAYS)
    if len(args) == 1 and args[0].isdigit() and 1 <= int(args[0]) <= MAX_DAYS:
        return ShowStats(int(args[0]))
    return Help(f"Use `/support stats [days]` with 1 to {MAX_DAYS} days.")


def _link(args: list[str]) -> Command:
    user = _user(args[0]) if len(args) == 2 else None
    if user is None or not _CUSTOMER_ID.fullmatch(args[1]):
        return Help("Use `/support link @user CUSTOMER_ID` (a customer id like `C-1001`).")
    return Link(user, args[1])


def _kb(args: list[str]) -> Command:
    if args[:1] == ["reload"] and len(args) == 1:
        return KbReload()
    if args[:1] == ["search"] and len(args) > 1:
        return KbSearch(html.unescape(" ".join(args[1:])))
    return Help("Use `/support kb search QUERY` or `/support kb reload`.")


def _resolve(args: list[str]) -> Command:
    usage = Help("Use `/support resolve LINK` with the thread's link (Copy link), or `/support resolve #ID`.")
    if len(args) != 1:
        return usage
    if match := _ESCALATION_ID.fullmatch(args[0]):
        return ResolveId(int(match.group(1)))
    url = urlsplit(html.unescape(args[0].strip("<>").split("|")[0]))
    path = _PERMALINK_PATH.search(url.path)
    if url.scheme not in ("http", "https") or path is None:
        return usage
    digits = path.group(2)
    thread_ts = parse_qs(url.query).get("thread_ts", [f"{digits[:-6]}.{digits[-6:]}"])[0]
    return ResolveThread(path.group(1), thread_ts)


def _user(word: str) -> str | None:
    match = _USER.fullmatch(word)
    return (match.group(1) or match.group(2)) if match else None


class SupportCommands:
    def __init__(self, core: App, people: PrincipalResolver, escalations: SlackEscalations) -> None:
        self._core = core
        self._store = core.store
        self._people = people
        self._escalations = escalations

    async def run(self, command: SlashCommand) -> str:
        """The reply (mrkdwn) to ``command``, for the person who ran it."""
        parsed = parse_command(command.text)
        caller = await self._people.resolve(
            command.user_id, team_id=command.team_id, enterprise_id=command.enterprise_id
        )
        if isinstance(parsed, LEADS_ONLY) and not caller.is_lead:
            return REFUSAL.format(name=_NAMES[type(parsed)])
        match parsed:
            case Help(problem=problem):
                return f"{problem}\n\n{HELP}" if problem else HELP
            case ShowStats(days=days):
                return format_stats(await gather_stats(self._store, PLATFORM, days), days)
            case ListEscalations():
                return await self._list_escalations()
            case Link(user_id=user_id, customer_id=customer_id):
                await self._store.link_identity(PLATFORM, user_id, customer_id)
                return f"Linked <@{user_id}> to customer `{customer_id}`."
            case Unlink(user_id=user_id):
                if await self._store.unlink_identity(PLATFORM, user_id):
                    return f"Unlinked <@{user_id}>."
                return f"<@{user_id}> was not linked to a customer."
            case KbSearch(query=query):
                return await self._kb_search(query, caller)
            case KbReload():
                report = await self._core.kb.arebuild()
                problems = "".join(f"\n• {plain(problem)}" for problem in report.problems[:MAX_LISTED])
                return f"Indexed {report.indexed} articles ({report.skipped} skipped).{problems}"
            case Pause():
                await self._store.pause_channel(PLATFORM, command.team_id, command.channel_id, caller.user_id)
                return f"I'm paused in <#{command.channel_id}> until a lead runs `/support resume` there."
            case Resume():
                if await self._store.resume_channel(PLATFORM, command.team_id, command.channel_id):
                    return f"I'm answering in <#{command.channel_id}> again."
                return f"I wasn't paused in <#{command.channel_id}>."
            case ResolveId(escalation_id=escalation_id):
                refs = [e.ref for e in await self._store.open_escalations() if e.id == escalation_id]
                if not refs:
                    return f"There is no open escalation #{escalation_id}."
                return await self._resolve(refs, caller)
            case ResolveThread(channel_id=channel_id, thread_ts=thread_ts):
                return await self._resolve([thread_ref(command.team_id, channel_id, thread_ts)], caller)

    async def _list_escalations(self) -> str:
        escalations = await self._store.open_escalations()
        if not escalations:
            return "No open escalations."
        lines = [await self._escalation_line(e) for e in escalations[:MAX_LISTED]]
        more = len(escalations) - MAX_LISTED
        tail = f"\n…and {more} more." if more > 0 else ""
        return f"*{len(escalations)} open escalation(s)*\n" + "\n".join(lines) + tail

    async def _escalation_line(self, escalation: Escalation) -> str:
        opened = escalation.opened_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        if escalation.ref.platform == PLATFORM:
            who, where = f"<@{escalation.user_id}>", await self._escalations.where(escalation.ref)
        else:
            who, where = plain(escalation.user_id), f"on {escalation.ref.platform}"
        summary = plain(" ".join(escalation.summary.split())[:200])
        return f"• *#{escalation.id}* {where}, opened {opened} by {who}: {summary}"

    async def _kb_search(self, query: str, caller: Principal) -> str:
        hits = await self._core.kb.asearch(query, include_internal=caller.is_staff, limit=KB_RESULTS)
        if not hits:
            return f"No articles matched _{plain(query)}_."
        lines = [
            f"• <{hit.url}|{plain(hit.title)}>{' (internal)' if hit.visibility == 'internal' else ''}\n"
            f"   {plain(hit.snippet)}"
            for hit in hits
        ]
        return f"*Articles for _{plain(query)}_*\n" + "\n".join(lines)

    async def _resolve(self, refs: list[ThreadRef], lead: Principal) -> str:
        resolved = sum([await self._escalations.resolve(ref, lead) for ref in refs])
        if not resolved:
            return "There is no open escalation in that thread."
        return f"Resolved {resolved} escalation(s); I answer in that thread again."


def format_stats(stats: Stats, days: int) -> str:
    since = stats.since.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    first_text = "n/a" if stats.median_first_text_ms is None else f"{stats.median_first_text_ms / 1000:.1f} s"
    lines = [
        f"*Slack, the last {days} day(s)* (since {since})",
        f"• Answers: {stats.answers} ({stats.failed} failed, {stats.fallback} without the AI model)",
        f"• Feedback: {stats.helpful} helpful, {stats.not_helpful} not helpful",
        f"• Median time to first text: {first_text}",
        f"• Tokens: {stats.input_tokens:,} in, {stats.output_tokens:,} out; cost ${stats.cost_usd:.2f}",
        f"• Open escalations: {stats.open_escalations}",
    ]
    if stats.per_day:
        lines.append("*Per day*")
        lines += [
            f"• `{day.day.isoformat()}` {day.answers} answers, {day.failed} failed, {day.fallback} fallback"
            for day in stats.per_day[-MAX_DAYS:]
        ]
    return "\n".join(lines)
