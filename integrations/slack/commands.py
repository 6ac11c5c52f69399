"""``/support`` on Slack: the text Slack sends, read with Slack's dialect, run by ``bot.support_commands``.

Slack writes users as ``<@U123|name>`` and escapes ``&``, ``<`` and ``>`` in the command's text. Slash
commands cannot be run in a thread, so ``resolve`` takes the thread's link (from "Copy link") or the
escalation's number. Replies are mrkdwn, shown only to the person who ran the command.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

from bot.dashboard.auth import DashboardAccess
from bot.quality.drafts import drafts_page
from bot.runtime import App
from bot.support_commands import (
    CommandHost,
    Dialect,
    Invocation,
    SupportCommands,
    ThreadLink,
    help_text,
    parse_command,
)
from bot.types import Principal, ThreadRef
from integrations.slack.escalations import SlackEscalations
from integrations.slack.inbound import PLATFORM, SlashCommand, thread_ref
from integrations.slack.mrkdwn import SLACK_MARKUP
from integrations.slack.principals import PrincipalResolver

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|([UW][A-Z0-9]{2,})")
_PERMALINK_PATH = re.compile(r"/archives/([CGD][A-Z0-9]+)/p(\d{7,})$")


def parse_user(word: str) -> str | None:
    match = _USER.fullmatch(word)
    return (match.group(1) or match.group(2)) if match else None


def parse_permalink(word: str) -> ThreadLink | None:
    """A message's permalink (``<https://x.slack.com/archives/C1/p1700000000000100?thread_ts=…>``) as
    (channel, thread ts)."""
    try:
        url = urlsplit(html.unescape(word.strip("<>").split("|")[0]))
    except ValueError:  # not a URL at all (an unbalanced "[" in the host, say)
        return None
    path = _PERMALINK_PATH.search(url.path)
    if url.scheme not in ("http", "https") or path is None:
        return None
    digits = path.group(2)
    thread_ts = parse_qs(url.query).get("thread_ts", [f"{digits[:-6]}.{digits[-6:]}"])[0]
    return (path.group(1), thread_ts)


SLACK_DIALECT = Dialect(
    platform=PLATFORM,
    label="Slack",
    markup=SLACK_MARKUP,
    resolve_help=(
        "`resolve LINK` or `resolve #ID`: close an escalation (the thread's link, or its number); I answer "
        "in the thread again"
    ),
    resolve_usage=(
        "Use `/support resolve LINK` with the thread's link (Copy link), or `/support resolve #ID`."
    ),
    parse_user=parse_user,
    parse_thread_link=parse_permalink,
    unescape=html.unescape,
    kb_save_help="`kb save LINK`: draft a KB article from the thread of that link (Copy link)",
    kb_save_usage="Use `/support kb save LINK` with the thread's link (Copy link).",
)
HELP = help_text(SLACK_DIALECT)


class _SlackHost(CommandHost):
    def __init__(self, escalations: SlackEscalations) -> None:
        self._escalations = escalations

    async def locate(self, link: ThreadLink, invocation: Invocation) -> ThreadRef | None:
        channel_id, thread_ts = link
        return thread_ref(invocation.space_id, channel_id, thread_ts)

    async def where(self, ref: ThreadRef) -> str:
        return await self._escalations.where(ref)

    async def resolve(self, ref: ThreadRef, lead: Principal) -> int:
        return await self._escalations.resolve(ref, lead)


class SlackCommands:
    """Runs ``/support`` invocations from Slack."""

    def __init__(self, core: App, people: PrincipalResolver, escalations: SlackEscalations) -> None:
        self._people = people
        self._commands = SupportCommands(
            core.store,
            core.kb,
            SLACK_DIALECT,
            _SlackHost(escalations),
            DashboardAccess.from_settings(core.settings),
            knowledge=core.knowledge,
            drafts=core.drafts,
            drafts_page=drafts_page(core.settings),
        )

    async def run(self, command: SlashCommand) -> str:
        """The reply (mrkdwn) to ``command``, for the person who ran it."""
        caller = await self._people.resolve(
            command.user_id, team_id=command.team_id, enterprise_id=command.enterprise_id
        )
        invocation = Invocation(caller, command.team_id, command.channel_id)
        return await self._commands.run(parse_command(command.text, SLACK_DIALECT), invocation)
