"""Escalations on Slack: the leads' channel, the thread, and where a thread is.

``SlackEscalations`` is the ``LeadsDesk`` of ``bot.escalations.Handover`` for the ``slack`` platform, and
the core's ``EscalationNotifier`` there (so the ``escalate_to_human`` tool posts through it too): it posts
to ``[slack] leads_channel`` with a link to the thread and a "Mark resolved" button. While an escalation is
open the core steps back in the thread; it answers there again once a lead resolves it (the button, or
``/support resolve``), and the leads' post then says "Resolved by @lead" and offers "Draft KB article"
(``bot.quality.drafts``) instead of "Mark resolved". The post is found again by its metadata (the thread it
is about) among the leads' channel's recent messages.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import aiohttp
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.config import SlackRoles
from bot.escalations import Handover, handed_over_text, resolved_text, resolver_text
from bot.store import Escalation, EscalationLog
from bot.streaming.notice import post_with_retries
from bot.types import Principal, ThreadRef
from integrations.slack.blocks import RESOLVE, Block, fallback_text, resolve_block, resolved_blocks, section
from integrations.slack.budgets import SlackBudgets
from integrations.slack.inbound import DM_THREAD
from integrations.slack.mrkdwn import SLACK_MARKUP
from integrations.slack.stream import FIND_PAGES, POST_EVENT, Poster, deliver

log = logging.getLogger(__name__)

HANDED_OVER = handed_over_text(SLACK_MARKUP)
RESOLVED = resolved_text(SLACK_MARKUP)
ESCALATED_THREAD = "escalated_thread"
"""The metadata field of a leads' post that names the thread it is about (its key)."""


async def _deliver_call(call: Callable[[], Awaitable[AsyncSlackResponse]], method: str) -> AsyncSlackResponse:
    return await deliver(call(), method)


def _offers_resolve(message: dict[str, Any]) -> bool:
    return any(
        element.get("action_id") == RESOLVE
        for block in message.get("blocks") or ()
        if block.get("type") == "actions"
        for element in block.get("elements") or ()
    )


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
        blocks = [section(text), resolve_block(escalation.ref.key)]
        await self.post(channel, None, text, blocks, about={ESCALATED_THREAD: escalation.ref.key})

    async def where(self, ref: ThreadRef) -> str:
        """Where the thread is, for a lead: a link to it, or the channel when there is no link."""
        if ref.thread_id == DM_THREAD:
            return "in a direct message with the bot"
        link = await self.link(ref)
        if link is None:
            return f"in a thread in <#{ref.channel_id}>"
        return f"in <{link}|this thread> in <#{ref.channel_id}>"

    async def link(self, ref: ThreadRef) -> str | None:
        """The thread's permalink (``chat.getPermalink``); None in a direct message or when it fails."""
        if ref.thread_id == DM_THREAD:
            return None
        try:
            response = await self._client.chat_getPermalink(channel=ref.channel_id, message_ts=ref.thread_id)
            return str(response["permalink"])
        except (SlackClientError, aiohttp.ClientError, TimeoutError, KeyError) as exc:
            log.warning("chat.getPermalink failed for %s: %s", ref.key, exc)
            return None

    async def post_in_thread(self, ref: ThreadRef, text: str) -> None:
        thread_ts = None if ref.thread_id == DM_THREAD else ref.thread_id
        await self.post(ref.channel_id, thread_ts, text, [section(text)])

    async def closed(self, ref: ThreadRef, lead: Principal) -> None:
        """The thread's posts in the leads' channel lose their button and say who resolved them."""
        channel = self._roles.leads_channel
        if channel is None:
            return
        for post in await self._escalation_posts(channel, ref):
            update = partial(
                self._client.chat_update,
                channel=channel,
                ts=str(post["ts"]),
                text=str(post.get("text", "")),
                blocks=resolved_blocks(post.get("blocks") or [], resolver_text(SLACK_MARKUP, lead), ref.key),
            )
            await post_with_retries(
                partial(_deliver_call, update, "chat.update"),
                self._budgets.for_reply(ref.space_id, channel).edits,
                what=f"marking the escalation post {post['ts']} resolved",
            )

    async def _escalation_posts(self, channel: str, ref: ThreadRef) -> list[dict[str, Any]]:
        """The bot's posts about ``ref`` in ``channel`` that still offer "Mark resolved" (the latest
        ``FIND_PAGES`` pages of the channel are read; an older post keeps its button)."""
        found: list[dict[str, Any]] = []
        cursor: str | None = None
        try:
            for _ in range(FIND_PAGES):
                page = await self._client.conversations_history(
                    channel=channel, limit=200, include_all_metadata=True, cursor=cursor
                )
                for message in page.get("messages") or ():
                    metadata = message.get("metadata") or {}
                    about = (metadata.get("event_payload") or {}).get(ESCALATED_THREAD)
                    if (
                        metadata.get("event_type") == POST_EVENT
                        and about == ref.key
                        and _offers_resolve(message)
                    ):
                        found.append(message)
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if cursor is None:
                    break
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("could not read %s for the escalation posts of %s: %s", channel, ref.key, exc)
        return found

    async def post(
        self,
        channel: str,
        thread_ts: str | None,
        text: str,
        blocks: list[Block],
        *,
        about: dict[str, str] | None = None,
    ) -> None:
        """A notice from the bot, within the channel's post budget; failures are logged, not raised.

        A 429 or a server error is tried again (bounded), and a post that went through although Slack
        answered with an error is not posted twice."""
        poster = Poster(self._client, channel, thread_ts)
        await post_with_retries(
            lambda: poster.post({"text": fallback_text(text), "blocks": blocks}, about=about),
            self._budgets.posts(channel),
            what=f"posting a notice to {channel}",
        )
