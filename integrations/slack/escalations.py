"""Escalations on Slack: the leads' channel, the thread, and where a thread is.

``SlackEscalations`` is the ``LeadsDesk`` of ``bot.escalations.Handover`` for the ``slack`` platform, and
the core's ``EscalationNotifier`` there (so the ``escalate_to_human`` tool posts through it too): it posts
to ``[slack] leads_channel`` with a link to the thread and a "Mark resolved" button. While an escalation is
open the core steps back in the thread; it answers there again once a lead resolves it (the button, or
``/support resolve``).
"""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import SlackRoles
from bot.escalations import Handover, handed_over_text, resolved_text
from bot.store import Escalation, EscalationLog
from bot.streaming.notice import post_with_retries
from bot.types import Principal, ThreadRef
from integrations.slack.blocks import Block, fallback_text, resolve_block, section
from integrations.slack.budgets import SlackBudgets
from integrations.slack.inbound import DM_THREAD
from integrations.slack.mrkdwn import SLACK_MARKUP
from integrations.slack.stream import Poster

log = logging.getLogger(__name__)

HANDED_OVER = handed_over_text(SLACK_MARKUP)
RESOLVED = resolved_text(SLACK_MARKUP)


class SlackEscalations:
    def __init__(
        self, client: AsyncWebClient, store: EscalationLog, budgets: SlackBudgets, roles: SlackRoles
    ) -> None:
        self._client = client
        self._budgets = budgets
        self._roles = roles
        self._handover = Handover(store, self, SLACK_MARKUP)

    async def notify(self, escalation: Escalation, requester: Principal) -> None:
        """Post the escalation to the leads' channel (a warning in the log when there is none)."""
        await self._handover.notify(escalation, requester)

    async def request_human(self, ref: ThreadRef, requester: Principal, summary: str) -> Escalation | None:
        """Open an escalation in the thread unless one is open; None when one already was."""
        return await self._handover.request_human(ref, requester, summary)

    async def resolve(self, ref: ThreadRef, lead: Principal) -> int:
        """Resolve the thread's open escalations; the thread is told when there were any."""
        return await self._handover.resolve(ref, lead)

    @property
    def handover(self) -> Handover:
        return self._handover

    # The LeadsDesk of the handover.

    async def post_escalation(self, escalation: Escalation, text: str) -> None:
        channel = self._roles.leads_channel
        if channel is None:
            log.warning(
                "escalation %s: no [slack] leads_channel in bot.toml; leads see it in /support escalations",
                escalation.id,
            )
            return
        await self.post(channel, None, text, [section(text), resolve_block(escalation.ref.key)])

    async def where(self, ref: ThreadRef) -> str:
        """Where the thread is, for a lead: a link to it, or the channel when there is no link."""
        if ref.thread_id == DM_THREAD:
            return "in a direct message with the bot"
        try:
            response = await self._client.chat_getPermalink(channel=ref.channel_id, message_ts=ref.thread_id)
            return f"in <{response['permalink']}|this thread> in <#{ref.channel_id}>"
        except (SlackClientError, aiohttp.ClientError, TimeoutError, KeyError) as exc:
            log.warning("chat.getPermalink failed for %s: %s", ref.key, exc)
            return f"in a thread in <#{ref.channel_id}>"

    async def post_in_thread(self, ref: ThreadRef, text: str) -> None:
        thread_ts = None if ref.thread_id == DM_THREAD else ref.thread_id
        await self.post(ref.channel_id, thread_ts, text, [section(text)])

    async def closed(self, ref: ThreadRef) -> None:
        """Nothing more to do on Slack once the thread is told."""

    async def post(self, channel: str, thread_ts: str | None, text: str, blocks: list[Block]) -> None:
        """A notice from the bot, within the channel's post budget; failures are logged, not raised.

        A 429 or a server error is tried again (bounded), and a post that went through although Slack
        answered with an error is not posted twice."""
        poster = Poster(self._client, channel, thread_ts)
        await post_with_retries(
            lambda: poster.post({"text": fallback_text(text), "blocks": blocks}),
            self._budgets.posts(channel),
            what=f"posting a notice to {channel}",
        )
