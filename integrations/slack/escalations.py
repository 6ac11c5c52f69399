"""Escalations on Slack: telling the leads, telling the thread, and resolving.

``SlackEscalations`` is the core's ``EscalationNotifier`` for the ``slack`` platform (so the
``escalate_to_human`` tool posts through it too): it posts to ``[slack] leads_channel`` with a link to the
thread and a "Mark resolved" button. While an escalation is open the core steps back in the thread; it
answers there again once a lead resolves it (the button, or ``/support resolve``).
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import SlackRoles
from bot.store import Escalation, Store
from bot.streaming.budget import Priority
from bot.types import Principal, ThreadRef
from integrations.slack.blocks import Block, fallback_text, resolve_block, section
from integrations.slack.budgets import SlackBudgets
from integrations.slack.events import DM_THREAD
from integrations.slack.mrkdwn import plain

log = logging.getLogger(__name__)

HANDED_OVER = (
    ":raising_hand: I've asked a support lead to help here. I'll stay quiet in this thread until they "
    "mark it resolved."
)
RESOLVED = (
    ":white_check_mark: A support lead marked this resolved. Mention me or ask here if you need more help."
)
SUMMARY_LIMIT = 500


class SlackEscalations:
    def __init__(
        self, client: AsyncWebClient, store: Store, budgets: SlackBudgets, roles: SlackRoles
    ) -> None:
        self._client = client
        self._store = store
        self._budgets = budgets
        self._roles = roles

    async def notify(self, escalation: Escalation, requester: Principal) -> None:
        """Post the escalation to the leads' channel (a warning in the log when there is none)."""
        channel = self._roles.leads_channel
        if channel is None:
            log.warning(
                "escalation %s: no [slack] leads_channel in bot.toml; leads see it in /support escalations",
                escalation.id,
            )
            return
        summary = plain(" ".join(escalation.summary.split())[:SUMMARY_LIMIT])
        where = await self.where(escalation.ref)
        text = (
            f":rotating_light: *Escalation #{escalation.id}*: {plain(requester.display_name)} "
            f"({requester.describe()}) needs a human {where}.\n&gt; {summary}"
        )
        await self.post(channel, None, text, [section(text), resolve_block(escalation.ref.key)])

    async def request_human(self, ref: ThreadRef, requester: Principal, summary: str) -> Escalation | None:
        """Open an escalation in the thread unless one is open; None when one already was."""
        if await self._store.is_escalated(ref):
            return None
        escalation = await self._store.open_escalation(ref, requester.user_id, summary)
        await self.notify(escalation, requester)
        await self.post_in_thread(ref, HANDED_OVER)
        return escalation

    async def resolve(self, ref: ThreadRef, lead: Principal) -> int:
        """Resolve the thread's open escalations; the thread is told when there were any."""
        resolved = await self._store.resolve_escalations(ref, lead.user_id)
        if resolved:
            await self.post_in_thread(ref, RESOLVED)
        return resolved

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

    async def post(self, channel: str, thread_ts: str | None, text: str, blocks: list[Block]) -> None:
        """A notice from the bot, within the channel's post budget; failures are logged, not raised."""
        await self._budgets.posts(channel).acquire(Priority.FINAL)
        arguments: dict[str, Any] = {"channel": channel, "text": fallback_text(text), "blocks": blocks}
        if thread_ts is not None:
            arguments["thread_ts"] = thread_ts
        try:
            await self._client.chat_postMessage(**arguments, unfurl_links=False)
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            log.error("posting a notice to %s failed: %s", channel, exc)
