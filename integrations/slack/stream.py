"""`ReplyStream` on Slack: post with ``chat.postMessage`` in the thread, edit with ``chat.update``.

The core decides when to post and edit (docs/architecture.md §5); this class only turns its Markdown into
mrkdwn
sections, adds the footer (sources and buttons) to the last message, and maps Slack's answers onto the
core's delivery errors:

- HTTP 429 → ``RateLimited`` with the ``Retry-After`` seconds (the client does not retry 429 itself: the
  shared budget is paused instead);
- ``message_not_found``, ``cant_update_message``, ``edit_window_closed`` → ``MessageGone`` (posted anew);
- network errors, timeouts and 5xx → ``DeliveryError`` (retried);
- anything else Slack refuses (``channel_not_found``, ``not_in_channel``, ``invalid_blocks``, …) →
  ``Refused``, which is not retried.

A post that failed with a 5xx or a network error may have gone through all the same. Every post therefore
carries message metadata with a post id of its own; before posting again after such a failure, the thread
is searched for that id, and a post found there is edited instead of posted twice (no second "Thinking…"
left behind, no answer shown twice).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.streaming.protocol import DeliveryError, Footer, MessageGone, MessageRef, RateLimited, ReplyLimits
from integrations.slack.blocks import (
    Block,
    fallback_text,
    feedback_blocks,
    section,
    sources_block,
    split_sections,
)
from integrations.slack.mrkdwn import to_mrkdwn

log = logging.getLogger(__name__)

GONE_ERRORS = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})
TRANSIENT_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})
DEFAULT_RETRY_AFTER = 1.0
POST_EVENT = "supportbot_post"
"""The metadata event type of the bot's posts; its payload's ``post_id`` finds a post that went through
although the bot saw it fail."""
FIND_PAGES = 5
THINKING = "is thinking…"
PROGRESS = {
    "lookup_order": "is looking up {subject}…",
    "search_kb": "is searching the help center…",
    "escalate_to_human": "is asking a support lead…",
}
"""The thread's status while a tool runs, by tool name; ``{subject}`` is what the call is about (an order
id), or ``the order`` when the tool does not say."""
TOOL_PROGRESS = "is working on it…"
NO_UNFURL: dict[str, Any] = {"unfurl_links": False, "unfurl_media": False}
"""On every post and edit: Slack fetches no link in the text for a preview (a link the model was talked into
writing would otherwise be requested with no click, data in its query string and all)."""


class Refused(DeliveryError):
    """Slack refused the call for a reason sending it again will not change."""

    retryable = False


class SlackReplyStream:
    """The messages of one reply in one conversation: a thread, or the top level of a DM.

    In a thread, the reply shows that it is being prepared with the thread's status (it is the reply's
    ``Progress``: ``assistant.threads.setStatus``, "is searching the help center…") instead of a
    placeholder message, and its first text is a post: each answer costs one ``chat.update`` fewer, from
    the workspace's per-minute share of them. At the top level of a DM (no thread to give a status) the
    placeholder stays.
    """

    def __init__(
        self, client: AsyncWebClient, *, channel_id: str, thread_ts: str | None, limits: ReplyLimits
    ) -> None:
        self._client = client
        self._channel = channel_id
        self._thread_ts = thread_ts
        self._limits = replace(limits, placeholder=thread_ts is None)
        self._poster = Poster(client, channel_id, thread_ts)

    @property
    def limits(self) -> ReplyLimits:
        return self._limits

    async def post(self, text: str, footer: Footer | None = None) -> MessageRef:
        mrkdwn = to_mrkdwn(text)
        arguments = {"text": fallback_text(mrkdwn), "blocks": message_blocks(mrkdwn, footer)}
        # An earlier attempt that went through is shown this text instead.
        return await self._poster.post(arguments, found=lambda ts: self.edit(ts, text, footer))

    async def show_progress(self, tool: str | None, subject: str | None = None) -> None:
        if tool is None:
            await self._set_status(THINKING)
            return
        status = PROGRESS.get(tool, TOOL_PROGRESS)
        await self._set_status(status.format(subject=subject or "the order"))

    async def clear_progress(self) -> None:
        await self._set_status("")

    async def _set_status(self, status: str) -> None:
        """The thread's status (a post in the thread clears it; Slack drops it after two minutes)."""
        if self._thread_ts is None:
            return
        try:
            await self._client.assistant_threads_setStatus(
                channel_id=self._channel, thread_ts=self._thread_ts, status=status
            )
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            log.info("could not set the status of thread %s in %s: %s", self._thread_ts, self._channel, exc)

    async def edit(self, ref: MessageRef, text: str, footer: Footer | None = None) -> None:
        mrkdwn = to_mrkdwn(text)
        await deliver(
            self._client.chat_update(
                channel=self._channel,
                ts=ref,
                text=fallback_text(mrkdwn),
                blocks=message_blocks(mrkdwn, footer),
                **NO_UNFURL,
            ),
            "chat.update",
        )


class Poster:
    """Posts the bot's messages in one conversation (a thread, or the top level when ``thread_ts`` is
    None) so that a post Slack made although it answered with an error is found, not made twice."""

    def __init__(self, client: AsyncWebClient, channel: str, thread_ts: str | None) -> None:
        self._client = client
        self._channel = channel
        self._thread_ts = thread_ts
        self._unsure: str | None = None  # the post id of a failed post that may have gone through
        self._last_ts: str | None = None  # the last message posted: a lost post can only come after it

    async def post(
        self,
        arguments: dict[str, Any],
        *,
        found: Callable[[str], Awaitable[None]] | None = None,
        about: dict[str, str] | None = None,
    ) -> str:
        """``chat.postMessage`` with ``arguments`` (text, blocks); the message's ts.

        When an earlier attempt is found to have gone through, its ts is returned instead, after
        ``found(ts)`` (e.g. an edit to the newer text) succeeded: if that fails, the next call looks again.
        ``about`` goes into the post's metadata beside its post id (what the message is about, to find it by).
        """
        if self._unsure is not None:
            earlier = await find_post(
                self._client, self._channel, self._thread_ts, self._unsure, after=self._last_ts
            )
            if earlier is not None:
                if found is not None:
                    await found(earlier)
                self._unsure, self._last_ts = None, earlier
                return earlier
        post_id, self._unsure = uuid.uuid4().hex, None
        try:
            response = await deliver(
                self._client.chat_postMessage(
                    channel=self._channel,
                    thread_ts=self._thread_ts,
                    **NO_UNFURL,
                    metadata=post_metadata(post_id, about),
                    **arguments,
                ),
                "chat.postMessage",
            )
        except DeliveryError as exc:
            if may_have_gone_through(exc):
                self._unsure = post_id
            raise
        ts = response.get("ts")
        if not isinstance(ts, str):
            raise Refused("chat.postMessage answered without a ts")
        self._last_ts = ts
        return ts


def message_blocks(mrkdwn: str, footer: Footer | None) -> list[Block]:
    """The text as sections; under the last message of an answer, its sources and buttons.

    Every call sends the blocks, since ``chat.update`` without ``blocks`` would keep the old ones.
    """
    blocks = [section(piece) for piece in split_sections(mrkdwn)]
    if footer is not None:
        if footer.sources:
            blocks.append(sources_block(footer.sources))
        if footer.buttons:
            blocks.extend(feedback_blocks(footer.reply_id))
    return blocks


def post_metadata(post_id: str, about: dict[str, str] | None = None) -> dict[str, Any]:
    """The message metadata a post carries, so that it can be found again by ``find_post`` (and by what it
    is ``about``)."""
    return {"event_type": POST_EVENT, "event_payload": {**(about or {}), "post_id": post_id}}


def may_have_gone_through(error: DeliveryError) -> bool:
    """A 5xx or a network error: Slack may have posted the message all the same (a 429 or a refusal
    means it did not)."""
    return error.retryable and not isinstance(error, RateLimited)


async def find_post(
    client: AsyncWebClient, channel: str, thread_ts: str | None, post_id: str, *, after: str | None
) -> str | None:
    """The ts of the bot's message with ``post_id`` in the thread (the top level of ``channel`` when
    ``thread_ts`` is None), posted after ``after``; None when there is none or Slack cannot be read (the
    text is then posted anew: a message shown twice is better than one lost)."""
    oldest = after or thread_ts
    window: dict[str, Any] = {"include_all_metadata": True, **({"oldest": oldest} if oldest else {})}
    cursor: str | None = None
    try:
        for _ in range(FIND_PAGES):
            if thread_ts is None:
                page = await client.conversations_history(channel=channel, limit=100, **window)
            else:
                page = await client.conversations_replies(
                    channel=channel, ts=thread_ts, limit=200, cursor=cursor, **window
                )
            for message in page.get("messages") or ():
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if metadata.get("event_type") == POST_EVENT and payload.get("post_id") == post_id:
                    return str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if thread_ts is None or cursor is None:
                return None
    except (SlackClientError, aiohttp.ClientError, TimeoutError, KeyError) as exc:
        log.warning("could not look for a post that may have gone through in %s: %s", channel, exc)
    return None


async def deliver(call: Awaitable[AsyncSlackResponse], method: str) -> AsyncSlackResponse:
    """The answer to a Web API call; its failure as the core's ``DeliveryError``."""
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
