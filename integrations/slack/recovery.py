"""Settling the replies a previous run left unfinished (DESIGN.md §5: no placeholder left behind).

The core records a reply as pending once its first message is posted and forgets it when the reply is
settled. Whatever is still pending on start was cut off by a crash or a restart: its first message keeps
the text it shows, without the in-progress marker, plus a notice (a bare placeholder is replaced by the
notice).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.store import PendingReply, Store
from bot.streaming.reply import DEFAULT_MARKER, DEFAULT_PLACEHOLDER, default_tool_status
from integrations.slack.blocks import fallback_text
from integrations.slack.events import DM_THREAD, PLATFORM
from integrations.slack.mrkdwn import to_mrkdwn
from integrations.slack.stream import message_blocks

log = logging.getLogger(__name__)

INTERRUPTED = "_This answer was interrupted by a restart; please ask again._"
_STATUS = re.compile(
    "[^\n]*".join(re.escape(to_mrkdwn(part)) for part in default_tool_status("\0").split("\0"))
)
"""A tool status line shown instead of the placeholder (whatever the tool's name)."""


async def settle_interrupted(store: Store, client: AsyncWebClient) -> int:
    """Settle every pending Slack reply; returns how many there were."""
    pending = await store.pending_replies(PLATFORM)
    for reply in pending:
        try:
            shown = await _shown_text(client, reply)
            text = _settled(shown)
            await client.chat_update(
                channel=reply.ref.channel_id,
                ts=reply.message_ref,
                text=fallback_text(text),
                blocks=message_blocks(text, None),
            )
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("could not settle interrupted reply %s: %s", reply.reply_id, exc)
        finally:
            await store.settle_pending_reply(reply.reply_id)
    if pending:
        log.info("settled %d reply(ies) interrupted by the last shutdown", len(pending))
    return len(pending)


async def _shown_text(client: AsyncWebClient, reply: PendingReply) -> str:
    """The mrkdwn the reply's first message shows now (its sections joined)."""
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


def _settled(shown: str) -> str:
    """``shown`` without the in-progress marker, with the notice as its last paragraph."""
    marker = to_mrkdwn(DEFAULT_MARKER)
    head, found, tail = shown.rpartition(marker)
    text = (head + tail if found else shown).rstrip()
    if not text or text == to_mrkdwn(DEFAULT_PLACEHOLDER) or _STATUS.fullmatch(text):
        return INTERRUPTED
    return f"{text}\n\n{INTERRUPTED}"
