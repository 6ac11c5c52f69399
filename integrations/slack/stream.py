"""`ReplyStream` on Slack: post with ``chat.postMessage`` in the thread, edit with ``chat.update``.

The core decides when to post and edit (DESIGN.md §5); this class only turns its Markdown into mrkdwn
sections, adds the footer (sources and buttons) to the last message, and maps Slack's answers onto the
core's delivery errors:

- HTTP 429 → ``RateLimited`` with the ``Retry-After`` seconds (the client does not retry 429 itself: the
  shared budget is paused instead);
- ``message_not_found``, ``cant_update_message``, ``edit_window_closed`` → ``MessageGone`` (posted anew);
- network errors, timeouts and 5xx → ``DeliveryError`` (retried);
- anything else Slack refuses (``channel_not_found``, ``not_in_channel``, ``invalid_blocks``, …) →
  ``Refused``, which is not retried.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.streaming.protocol import DeliveryError, Footer, MessageGone, MessageRef, RateLimited, ReplyLimits
from integrations.slack.blocks import (
    Block,
    fallback_text,
    feedback_block,
    section,
    sources_block,
    split_sections,
)
from integrations.slack.mrkdwn import to_mrkdwn

log = logging.getLogger(__name__)

GONE_ERRORS = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})
TRANSIENT_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})
DEFAULT_RETRY_AFTER = 1.0


class Refused(DeliveryError):
    """Slack refused the call for a reason sending it again will not change."""

    retryable = False


class SlackReplyStream:
    """The messages of one reply in one conversation: a thread, or the top level of a DM."""

    def __init__(
        self, client: AsyncWebClient, *, channel_id: str, thread_ts: str | None, limits: ReplyLimits
    ) -> None:
        self._client = client
        self._channel = channel_id
        self._thread_ts = thread_ts
        self._limits = limits

    @property
    def limits(self) -> ReplyLimits:
        return self._limits

    async def post(self, text: str, footer: Footer | None = None) -> MessageRef:
        mrkdwn = to_mrkdwn(text)
        response = await _deliver(
            self._client.chat_postMessage(
                channel=self._channel,
                thread_ts=self._thread_ts,
                text=fallback_text(mrkdwn),
                blocks=message_blocks(mrkdwn, footer),
                unfurl_links=False,
                unfurl_media=False,
            ),
            "chat.postMessage",
        )
        ts = response.get("ts")
        if not isinstance(ts, str):
            raise Refused("chat.postMessage answered without a ts")
        return ts

    async def edit(self, ref: MessageRef, text: str, footer: Footer | None = None) -> None:
        mrkdwn = to_mrkdwn(text)
        await _deliver(
            self._client.chat_update(
                channel=self._channel,
                ts=ref,
                text=fallback_text(mrkdwn),
                blocks=message_blocks(mrkdwn, footer),
            ),
            "chat.update",
        )


def message_blocks(mrkdwn: str, footer: Footer | None) -> list[Block]:
    """The text as sections; under the last message of an answer, its sources and buttons.

    Every call sends the blocks, since ``chat.update`` without ``blocks`` would keep the old ones.
    """
    blocks = [section(piece) for piece in split_sections(mrkdwn)]
    if footer is not None:
        if footer.sources:
            blocks.append(sources_block(footer.sources))
        if footer.buttons:
            blocks.append(feedback_block(footer.reply_id))
    return blocks


async def _deliver(call: Awaitable[AsyncSlackResponse], method: str) -> AsyncSlackResponse:
    try:
        return await call
    except SlackApiError as exc:
        raise delivery_error(exc, method) from exc
    except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
        raise DeliveryError(f"{method}: {type(exc).__name__}: {exc}") from exc


def delivery_error(exc: SlackApiError, method: str) -> DeliveryError:
    """The core's error for a refused Web API call."""
    response = exc.response
    status = response.status_code
    error = _error_code(response.data)
    if status == 429:
        return RateLimited(_retry_after(response.headers))
    if error in GONE_ERRORS:
        return MessageGone(f"{method}: {error}")
    if status >= 500 or error in TRANSIENT_ERRORS:
        return DeliveryError(f"{method}: HTTP {status} {error}")
    log.error("%s refused: %s (HTTP %s)", method, error, status)
    return Refused(f"{method}: {error}")


def _error_code(data: Any) -> str:
    return str(data.get("error", "unknown")) if isinstance(data, dict) else "unknown"


def _retry_after(headers: Any) -> float:
    try:
        return max(0.0, float(headers.get("Retry-After", DEFAULT_RETRY_AFTER)))
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
