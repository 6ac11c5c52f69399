"""Settling the Slack replies a previous run left unfinished (``bot.recovery`` does the settling).

A pending reply's newest message is read back (``conversations.replies`` in a thread,
``conversations.history`` at the top level of a DM) and rewritten with ``chat.update``: the text it shows,
without the in-progress marker, plus a notice (a bare placeholder is replaced by the notice).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot import recovery
from bot.store import PendingReplies, PendingReply
from integrations.slack.blocks import fallback_text
from integrations.slack.inbound import DM_THREAD, PLATFORM
from integrations.slack.mrkdwn import to_mrkdwn
from integrations.slack.stream import NO_UNFURL, message_blocks


async def settle_interrupted(store: PendingReplies, client: AsyncWebClient) -> int:
    """Settle every pending Slack reply; returns how many there were."""

    async def rewrite(reply: PendingReply, text: str) -> None:
        await client.chat_update(
            channel=reply.ref.channel_id,
            ts=reply.message_ref,
            text=fallback_text(text),
            blocks=message_blocks(text, None),
            **NO_UNFURL,
        )

    return await recovery.settle_interrupted(
        store,
        PLATFORM,
        shown=lambda reply: _shown_text(client, reply),
        rewrite=rewrite,
        errors=(SlackClientError, aiohttp.ClientError, TimeoutError),
        render=to_mrkdwn,
    )


async def _shown_text(client: AsyncWebClient, reply: PendingReply) -> str:
    """The mrkdwn the reply's newest message shows now (its sections joined)."""
    window: dict[str, Any] = {"oldest": reply.message_ref, "latest": reply.message_ref, "inclusive": True}
    if reply.ref.thread_id == DM_THREAD:
        response = await client.conversations_history(channel=reply.ref.channel_id, limit=1, **window)
    else:
        response = await client.conversations_replies(
            channel=reply.ref.channel_id, ts=reply.ref.thread_id, limit=2, **window
        )
    for message in response.get("messages") or ():
        if message.get("ts") == reply.message_ref:
            return _message_text(message)
    return ""


def _message_text(message: Mapping[str, Any]) -> str:
    sections = [
        block["text"]["text"]
        for block in message.get("blocks") or ()
        if block.get("type") == "section" and isinstance(block.get("text"), dict)
    ]
    return "\n".join(sections) if sections else str(message.get("text") or "")
