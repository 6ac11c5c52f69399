"""`ReplyStream` on Slack with native streaming: ``chat.startStream``, ``chat.appendStream``,
``chat.stopStream`` (``[platforms.slack] streaming = "native"``).

The core's renderer sends every message's whole text each time, with an in-progress marker (and, inside a
code block still being written, a closing fence) that later texts drop. A streamed message can only grow,
so this stream sends what is settled of each text: the marker and that provisional fence are left out, and
only what was not sent yet is appended. A text without the marker is the message's last: its stream is
stopped, with the sources and buttons as blocks under it. A final text that does not continue what was
streamed (rare: the model's completed text differs) stops the stream and edits the message to it.

A person can stop a streaming message in Slack; Slack then refuses to append
(``message_not_in_streaming_state``). The answer ends there: ``on_stopped`` is called once (the front end
cancels the answer), and later calls for this reply send nothing, so the message keeps what it showed.

Start and stop are Tier 2 (about 20 a minute), so this does not help a burst of questions; editing stays
the default. In a channel Slack needs the person the answer is for (``recipient_user_id`` and
``recipient_team_id``). The thread status (``Progress``) and the fallback edit are those of
:class:`SlackReplyStream`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.streaming.protocol import DeliveryError, Footer, MessageRef, ReplyLimits
from bot.streaming.reply import DEFAULT_MARKER
from bot.streaming.splitter import close_open_fence
from integrations.slack.blocks import Block, feedback_blocks, sources_block
from integrations.slack.mrkdwn import plain
from integrations.slack.stream import SlackReplyStream, deliver

log = logging.getLogger(__name__)

STOPPED_BY_USER = "message_not_in_streaming_state"
"""Slack's answer to appending to (or stopping) a stream that no longer streams: the person stopped it."""


class _StoppedByUser(Exception):
    """The person stopped the streaming message (not a delivery error: nothing is retried or logged)."""


@dataclass(frozen=True)
class Recipient:
    """Who the streamed answer is for (Slack needs them in channels)."""

    user_id: str
    team_id: str


@dataclass
class _Streamed:
    sent: str = ""  # the text appended so far
    open: bool = True  # not yet stopped


class NativeSlackReplyStream:
    """The messages of one reply in one thread, streamed with Slack's streaming methods."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        channel_id: str,
        thread_ts: str,
        recipient: Recipient,
        limits: ReplyLimits,
        on_stopped: Callable[[], None],
    ) -> None:
        self._client = client
        self._channel = channel_id
        self._thread_ts = thread_ts
        self._recipient = recipient
        self._edits = SlackReplyStream(client, channel_id=channel_id, thread_ts=thread_ts, limits=limits)
        self._on_stopped = on_stopped
        self._streams: dict[MessageRef, _Streamed] = {}
        self.stopped_by_user = False

    @property
    def limits(self) -> ReplyLimits:
        return self._edits.limits

    async def show_progress(self, tool: str | None, subject: str | None = None) -> None:
        await self._edits.show_progress(tool, subject)

    async def clear_progress(self) -> None:
        await self._edits.clear_progress()

    async def post(self, text: str, footer: Footer | None = None) -> MessageRef:
        if self.stopped_by_user:  # no further message: the rest of the answer stays unwritten
            return next(reversed(self._streams))
        settled, final = settled_text(text)
        response = await self._call(
            self._client.chat_startStream(
                channel=self._channel,
                thread_ts=self._thread_ts,
                markdown_text=settled or None,
                recipient_user_id=self._recipient.user_id,
                recipient_team_id=self._recipient.team_id,
            ),
            "chat.startStream",
        )
        ts = response.get("ts") if response is not None else None
        if not isinstance(ts, str):
            raise DeliveryError("chat.startStream answered without a ts")
        self._streams[ts] = _Streamed(sent=settled)
        if final:
            await self._stop(ts, footer)
        return ts

    async def edit(self, ref: MessageRef, text: str, footer: Footer | None = None) -> None:
        streamed = self._streams.setdefault(ref, _Streamed(open=False))
        if self.stopped_by_user:
            return
        settled, final = settled_text(text)
        if not streamed.open or not settled.startswith(streamed.sent):
            if final:  # the last text differs from what was streamed: the message is edited to it
                await self._stop_quietly(ref)
                await self._edits.edit(ref, text, footer)
            return  # an interim text that does not continue the stream waits for the final one
        delta = settled[len(streamed.sent) :]
        if delta:
            await self._call(
                self._client.chat_appendStream(channel=self._channel, ts=ref, markdown_text=delta),
                "chat.appendStream",
            )
            streamed.sent = settled
        if final:
            await self._stop(ref, footer)

    async def _stop(self, ref: MessageRef, footer: Footer | None) -> None:
        blocks = footer_blocks(footer) if footer is not None else []
        await self._call(
            self._client.chat_stopStream(channel=self._channel, ts=ref, blocks=blocks or None),
            "chat.stopStream",
        )
        self._streams[ref].open = False

    async def _stop_quietly(self, ref: MessageRef) -> None:
        streamed = self._streams[ref]
        if streamed.open:
            try:
                await self._stop(ref, None)
            except DeliveryError as exc:
                log.info("could not stop the stream of %s before editing it: %s", ref, exc)
            streamed.open = False

    async def _call(self, call: Awaitable[AsyncSlackResponse], method: str) -> dict[str, Any] | None:
        """The answer to a streaming call; None when the person had stopped the stream (the answer ends)."""

        async def checked() -> AsyncSlackResponse:
            try:
                return await call
            except SlackApiError as exc:
                if exc.response.get("error") == STOPPED_BY_USER:
                    raise _StoppedByUser from exc
                raise

        try:
            response = await deliver(checked(), method)
        except _StoppedByUser:
            self._user_stopped()
            return None
        return dict(response.data) if isinstance(response.data, dict) else {}

    def _user_stopped(self) -> None:
        if self.stopped_by_user:
            return
        self.stopped_by_user = True
        for streamed in self._streams.values():
            streamed.open = False
        log.info("the answer in thread %s of %s was stopped by the person", self._thread_ts, self._channel)
        self._on_stopped()


def footer_blocks(footer: Footer) -> list[Block]:
    """The sources and buttons under the streamed text."""
    blocks = [sources_block(footer.sources)] if footer.sources else []
    return blocks + (feedback_blocks(footer.reply_id) if footer.buttons else [])


def settled_text(text: str, marker: str = DEFAULT_MARKER) -> tuple[str, bool]:
    """What of ``text`` can be streamed for good, made safe to post, and whether ``text`` is a message's
    last (it has no marker).

    The renderer writes an interim text as the text so far and the marker, or, inside an open code block,
    as the text so far, a closing fence, a new line and the marker without its space. Of an interim text
    only whole words are settled: ``@chan`` may still become ``@channel``, which must not notify anyone.
    The text is escaped (``<!channel>`` shows as written) with every mass mention disarmed.
    """
    if text.endswith(marker):
        return _whole_words(text[: -len(marker)]), False
    bare = marker.strip()
    if text.endswith("\n" + bare):
        closed = text[: -len(bare) - 1]
        # A fence is a few backticks or tildes, after a new line the text may or may not have ended with:
        # the shortest text that the fence closes is a prefix of every reading.
        for cut in range(min(len(closed), 8), 0, -1):
            if close_open_fence(closed[:-cut]) == closed:
                return _whole_words(closed[:-cut]), False
        return _whole_words(closed), False
    return plain(text), True


def _whole_words(text: str) -> str:
    end = max(text.rfind(" "), text.rfind("\n"))
    return plain(text[: end + 1])
