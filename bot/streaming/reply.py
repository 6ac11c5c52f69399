"""Rendering one reply by posting and editing messages as the agent's text arrives (docs/architecture.md §5).

``StreamingReply.render`` consumes the agent's events and drives a ``ReplyStream``:

- a placeholder is posted at once (unless ``limits.placeholder`` is off: then the first message comes
  with the first text); the first text replaces it as soon as a permit allows;
- later edits of a message come at most once per ``limits.edit_interval`` and only with a permit from the
  shared budget, so the interval stretches when many replies share the budget; each edit carries the
  latest full text (edits coalesce, stale ones are never sent);
- one writer task sends the streaming edits, one call at a time, and stops before the final edits are made,
  so edits of a message are strictly ordered;
- text over the length limit is split (fences closed and reopened); the finished chunks are settled
  without the in-progress marker and the rest continues in a new message;
- errors never lose text: every edit sends the whole text, a 429 pauses the shared budget, final edits are
  retried (bounded) and a message that cannot be edited is posted anew;
- the reply always ends settled: with the answer and its footer, or with what was written plus a notice
  (on ``Failed`` or a broken event stream; on cancellation, that the answer was interrupted). No
  placeholder is left behind.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterable, Awaitable, Callable
from contextlib import nullcontext
from dataclasses import dataclass

from bot.agent.events import AgentEvent, Completed, Failed, TextDelta, ToolStarted
from bot.streaming.budget import Budget, KeepsFinals, Priority
from bot.streaming.clock import Clock, SystemClock
from bot.streaming.protocol import DeliveryError, Footer, MessageRef, Progress, RateLimited, ReplyStream
from bot.streaming.splitter import close_open_fence, split_chunks

logger = logging.getLogger(__name__)

DEFAULT_MARKER = " ▍"

#: Kept free in the message being written for the fence that closes a code block still being written
#: (a newline and the fence; a longer fence than seven characters goes unclosed until it is settled).
FENCE_CLOSE_ROOM = 8
"""Ends the text while the answer is still being written."""

PROGRESS_SETTLE_SECONDS = 5.0
"""How long a settled reply waits for its last progress call (the platform's status) before clearing it."""

DEFAULT_PLACEHOLDER = "_Thinking…_"
"""The first message's text until the answer's first text or a tool status comes."""

BROKEN_NOTICE = "_Something went wrong while answering; please ask again._"
"""Shown under the text written so far when the answer stops without a ``Failed`` event."""

INTERRUPTED_NOTICE = "_This answer was interrupted by a restart; please ask again._"
"""Shown under the text written so far when the reply is cancelled (at shutdown) or cut off by a crash."""

EMPTY_NOTICE = "_No answer came out of this; please ask again._"
"""Shown when an answer completes without any text."""

SURPLUS_TEXT = "…"
"""What a message holds when a final text needs fewer messages than were already posted for it."""


def default_tool_status(name: str) -> str:
    """The placeholder shown while a tool runs and no text has come yet."""
    return f"_Using {name.replace('_', ' ')}…_"


@dataclass(frozen=True)
class RetryPolicy:
    """How often a final post or edit is tried, and the pause after the n-th failure in a row."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, failures: int) -> float:
        return min(self.max_delay, self.base_delay * 2.0 ** max(0, failures - 1))


@dataclass(frozen=True)
class RenderOutcome:
    """What became of one reply, for the store and metrics."""

    text: str
    """The whole text the reply settled with: the answer (and its note), or what was written plus a notice."""
    refs: tuple[MessageRef, ...]
    """The messages that hold it, in reading order."""
    edits: int
    """Edit calls made, failed ones included."""
    posts: int
    """Post calls made, failed ones included."""
    rate_limited: int
    """429 answers seen."""
    failed: bool
    """The answer did not complete (``Failed`` or a broken event stream)."""
    delivered: bool
    """Every message of the final text reached the platform."""
    first_text_at: float | None
    """Clock time at which the first text of the answer became visible, if it did."""
    settled_at: float
    """Clock time at which the final text was shown (or given up on)."""
    end: Completed | Failed | None
    """The event that ended the answer; ``None`` if the event stream broke or ended without one."""


@dataclass
class _Message:
    """What the renderer knows of one of the reply's messages."""

    ref: MessageRef | None = None  # None: not posted yet, or it must be posted anew
    shown: tuple[str, Footer | None] | None = None  # last text and footer the platform accepted
    not_before: float = -math.inf  # earliest time of the next call on this message
    failures: int = 0  # failed calls in a row


class StreamingReply:
    """Renders one reply through a ``ReplyStream``; ``render`` may be called once.

    ``budget`` grants edits and ``post_budget`` posts; both are usually shared with other replies of the
    same platform bucket. ``on_post`` is called with each new message's ref as soon as it is posted (the
    first, and each continuation of a long answer: the newest is the one showing the in-progress marker),
    so the caller can record the pending reply and settle it after a restart. The calls run alongside the
    reply, one after the other (the first text never waits for the caller's store); ``render`` returns
    only once they are done, and their errors are logged.
    """

    def __init__(
        self,
        stream: ReplyStream,
        *,
        budget: Budget,
        post_budget: Budget,
        reply_id: str,
        clock: Clock | None = None,
        marker: str = DEFAULT_MARKER,
        placeholder: str = DEFAULT_PLACEHOLDER,
        on_post: Callable[[MessageRef], Awaitable[None]] | None = None,
        tool_status: Callable[[str], str] = default_tool_status,
        retry: RetryPolicy = RetryPolicy(),
        progress: Progress | None = None,
    ) -> None:
        self._stream = stream
        self._limits = stream.limits
        if len(marker) >= self._limits.max_chars or len(placeholder) > self._limits.max_chars:
            raise ValueError("the marker and the placeholder must fit in a message")
        self._budget = budget
        self._post_budget = post_budget
        self._reply_id = reply_id
        self._clock: Clock = clock or SystemClock()
        self._marker = marker
        self._placeholder = placeholder
        self._on_post = on_post
        self._tool_status = tool_status
        self._retry = retry

        self._text = ""  # the answer so far
        self._status: str | None = None  # shown instead of the placeholder while a tool runs
        self._committed: list[str] = []  # texts of the messages before the last, no longer growing
        self._offset = 0  # where the last message's share of the text starts
        self._tail_reopen = ""  # fence line the last message starts with
        self._messages: list[_Message] = []
        self._post_noted: asyncio.Future[None] | None = None  # the latest on_post call
        self._first_text_at: float | None = None
        self._edits = self._posts = self._rate_limited = 0

        self._progress_sign = progress
        self._progress: asyncio.Task[None] | None = None  # the latest progress call; each waits for the last
        self._progress_at: float | None = None  # when the latest progress call was made
        self._posted_at: float | None = None  # when the first post was sent (a post clears the progress)

        self._wake = asyncio.Event()  # set when there is something new to show
        self._closing = False
        self._cancelled = False  # render() was cancelled: the notice says the answer was interrupted
        self._in_flight = False  # a platform call (or the first-post callback) is under way
        self._writer: asyncio.Task[None] | None = None
        self._finishing: asyncio.Future[RenderOutcome] | None = None

    async def render(self, events: AsyncIterable[AgentEvent]) -> RenderOutcome:
        """Show the answer as the events come, then settle it.

        Delivery errors and a broken event stream are handled here and reported in the outcome. On
        cancellation the messages are settled with the text so far and a notice (the settling goes on
        shielded from the cancellation) before the cancellation is re-raised.
        """
        if self._writer is not None:
            raise RuntimeError("render() can be called once per StreamingReply")
        # On a window budget, this reply's final text keeps its permit while it streams.
        holding = self._budget.holding_final() if isinstance(self._budget, KeepsFinals) else nullcontext()
        async with holding:
            self._writer = asyncio.create_task(self._write())
            if not self._limits.placeholder:
                self._show_progress(None)
            try:
                await asyncio.sleep(0)  # let the writer post the placeholder before the first event is pulled
                end = await self._consume(events)
            except asyncio.CancelledError:
                self._cancelled = True
                await self._finish_shielded(None)
                raise
            except Exception:
                logger.exception("the event stream of reply %s broke", self._reply_id)
                end = None
            return await self._finish_shielded(end)

    async def _consume(self, events: AsyncIterable[AgentEvent]) -> Completed | Failed | None:
        async for event in events:
            match event:
                case TextDelta(text=text):
                    self._add_text(text)
                case ToolStarted(name=name, subject=subject):
                    self._show_progress(name, subject)
                    if not self._text:
                        self._status = self._tool_status(name)
                        self._wake.set()
                case Completed() | Failed():
                    return event
        logger.error("the event stream of reply %s ended without Completed or Failed", self._reply_id)
        return None

    def _add_text(self, delta: str) -> None:
        """Append model text; settle the chunks that no longer fit before the last message."""
        self._text += delta
        limit = self._limits.max_chars - len(self._marker) - FENCE_CLOSE_ROOM
        if len(self._tail_reopen) + len(self._text) - self._offset > limit:
            chunks = split_chunks(self._text, limit, start=self._offset)
            self._committed.extend(chunk.text for chunk in chunks[:-1])
            self._offset, self._tail_reopen = chunks[-1].start, chunks[-1].reopen
        self._wake.set()

    def _streaming_view(self) -> list[str]:
        """The text every message should show now."""
        if not self._text:
            return [self._status or self._placeholder] if self._limits.placeholder else []
        return [*self._committed, _in_progress(self._tail_reopen + self._text[self._offset :], self._marker)]

    async def _write(self) -> None:
        """The one writer of the streaming edits: brings the oldest out-of-date message up to date."""
        while not self._closing:
            index = self._out_of_date(self._streaming_view())
            if index is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            message = self._message(index)
            early = message.ref is None or self._first_text_at is None
            await self._wait_turn(message, Priority.FIRST if early else Priority.MIDDLE)
            await self._send(message, self._streaming_view()[index], None)  # the latest text, not a stale one

    def _out_of_date(self, view: list[str]) -> int | None:
        for index, text in enumerate(view):
            if index == len(self._messages) or self._messages[index].shown != (text, None):
                return index
        return None

    def _message(self, index: int) -> _Message:
        if index == len(self._messages):
            self._messages.append(_Message())
        return self._messages[index]

    async def _wait_turn(self, message: _Message, priority: Priority) -> None:
        """Wait out the message's interval (or backoff), then for a permit of the budget its call uses.

        Until the first text is visible nothing but the budget holds a call back, so the first text shows
        as soon as it can.
        """
        if message.failures or self._first_text_at is not None:
            delay = message.not_before - self._clock.monotonic()
            if delay > 0:
                await self._clock.sleep(delay)
        await (self._post_budget if message.ref is None else self._budget).acquire(priority)

    async def _send(self, message: _Message, text: str, footer: Footer | None) -> DeliveryError | None:
        """Post or edit one message; returns the error if the platform refused it."""
        shows_text = bool(self._text)
        posting = message.ref is None
        self._in_flight = True  # the platform call under way
        try:
            if message.ref is None:
                self._posts += 1
                if self._posted_at is None:
                    self._posted_at = self._clock.monotonic()
                message.ref = await self._stream.post(text, footer)
                self._post_noted = asyncio.ensure_future(self._notify_post(message.ref, self._post_noted))
            else:
                self._edits += 1
                await self._stream.edit(message.ref, text, footer)
        except DeliveryError as error:
            await self._note_failure(message, error, posting)
            return error
        finally:
            self._in_flight = False
        now = self._clock.monotonic()
        message.shown = (text, footer)
        message.failures = 0
        message.not_before = now + self._limits.edit_interval
        if shows_text and self._first_text_at is None:
            self._first_text_at = now
        return None

    async def _note_failure(self, message: _Message, error: DeliveryError, posting: bool) -> None:
        logger.warning("%s of reply %s failed: %s", "post" if posting else "edit", self._reply_id, error)
        message.failures += 1
        message.not_before = self._clock.monotonic() + self._retry.delay(message.failures)
        if isinstance(error, RateLimited):
            self._rate_limited += 1
            await (self._post_budget if posting else self._budget).pause(error.retry_after)
        elif not posting and not error.retryable:
            self._post_anew(message)

    def _post_anew(self, message: _Message) -> None:
        """The message cannot be edited: its text goes out in a new message, without delay."""
        message.ref = None
        message.failures = 0
        message.not_before = -math.inf

    async def _notify_post(self, ref: MessageRef, previous: asyncio.Future[None] | None) -> None:
        """``on_post(ref)`` once the call for the message before has ended (the newest is told last)."""
        if previous is not None:
            await previous  # never raises: its errors are logged
        if self._on_post is None:
            return
        try:
            await self._on_post(ref)
        except Exception:
            logger.exception("on_post failed for reply %s", self._reply_id)

    async def _finish_shielded(self, end: Completed | Failed | None) -> RenderOutcome:
        """Settle the reply in a task of its own, so that a cancellation cannot stop it half way."""
        self._closing = True  # the writer starts no further call from now on
        if self._finishing is None:
            self._finishing = asyncio.ensure_future(self._finish(end))
        return await asyncio.shield(self._finishing)

    async def _finish(self, end: Completed | Failed | None) -> RenderOutcome:
        await self._stop_writer()
        text, footer = self._final_text(end)
        view = self._final_view(text)
        if isinstance(end, Completed):
            self._text = end.text  # the completed answer is the text shown from now on
        delivered = True
        for index, message_text in enumerate(view):
            last = index == len(view) - 1
            ok = await self._deliver(self._message(index), message_text, footer if last else None)
            delivered = delivered and ok
        if self._post_noted is not None:
            await self._post_noted
        await self._settle_progress()
        return RenderOutcome(
            text=text,
            refs=tuple(message.ref for message in self._messages if message.ref is not None),
            edits=self._edits,
            posts=self._posts,
            rate_limited=self._rate_limited,
            failed=not isinstance(end, Completed),
            delivered=delivered,
            first_text_at=self._first_text_at,
            settled_at=self._clock.monotonic(),
            end=end,
        )

    def _show_progress(self, tool: str | None, subject: str | None = None) -> None:
        """Show the platform's own sign of progress, where it has one, without holding up the answer; the
        calls go one after the other, in order."""
        sign = self._progress_sign
        if sign is None:
            return
        previous = self._progress

        async def show() -> None:
            if previous is not None:
                await previous
            self._progress_at = self._clock.monotonic()
            await sign.show_progress(tool, subject)

        self._progress = asyncio.ensure_future(show())

    async def _settle_progress(self) -> None:
        """Wait for the progress calls (bounded), and clear the sign unless a post since cleared it."""
        sign = self._progress_sign
        if self._progress is None or sign is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._progress), PROGRESS_SETTLE_SECONDS)
        except TimeoutError:
            self._progress.cancel()
        except Exception:  # a stream's progress is best effort: it must not fail the reply
            logger.exception("showing the progress of reply %s failed", self._reply_id)
        shown_after_post = self._progress_at is not None and self._progress_at >= (self._posted_at or 0.0)
        if self._posted_at is None or shown_after_post:
            await sign.clear_progress()

    async def _stop_writer(self) -> None:
        """Stop the writer between calls: a call under way is let finish, a wait is cancelled."""
        writer = self._writer
        if writer is None:
            return
        if not self._in_flight:
            writer.cancel()
        await asyncio.wait([writer])
        if not writer.cancelled() and writer.exception() is not None:
            logger.error("the writer of reply %s failed", self._reply_id, exc_info=writer.exception())

    def _final_text(self, end: Completed | Failed | None) -> tuple[str, Footer | None]:
        match end:
            case Completed():
                text = _with_notice(end.text, _italic(end.note)) if end.note else end.text
                return (text if text.strip() else EMPTY_NOTICE), Footer(self._reply_id, end.sources)
            case Failed():
                return _with_notice(self._text, _italic(end.user_message)), None
            case None:
                notice = INTERRUPTED_NOTICE if self._cancelled else BROKEN_NOTICE
                return _with_notice(self._text, notice), None

    def _final_view(self, text: str) -> list[str]:
        """The final text of every message; chunks settled while streaming stay as they are."""
        if not text.startswith(self._text[: self._offset]):
            logger.warning("reply %s: final text differs from the streamed one; split anew", self._reply_id)
            self._committed, self._offset, self._tail_reopen = [], 0, ""
        chunks = split_chunks(text, self._limits.max_chars, start=self._offset)
        view = [*self._committed, *(chunk.text for chunk in chunks)]
        posted = max((index + 1 for index, message in enumerate(self._messages) if message.ref), default=0)
        return view + [SURPLUS_TEXT] * (posted - len(view))

    async def _deliver(self, message: _Message, text: str, footer: Footer | None) -> bool:
        """Make one message show its final text: bounded retries, then a new message; False if all fail."""
        attempts = 0
        while message.shown != (text, footer):
            posting = message.ref is None
            await self._wait_turn(message, Priority.FINAL)
            error = await self._send(message, text, footer)
            if error is None:
                break
            attempts += 1
            if posting and (attempts >= self._retry.attempts or not error.retryable):
                logger.error("reply %s: giving up on posting its final text: %s", self._reply_id, error)
                return False
            if not posting and (message.ref is None or attempts >= self._retry.attempts):
                self._post_anew(message)
                attempts = 0
        return True


def _in_progress(text: str, marker: str) -> str:
    """An interim edit: a code block still being written is closed, so that it shows as code (not as raw
    backticks with its ``*`` and ``_`` read as emphasis), and the marker follows the block."""
    closed = close_open_fence(text)
    if closed == text or len(closed) - len(text) >= FENCE_CLOSE_ROOM:  # the marker's line takes one more
        return text + marker
    return f"{closed}\n{marker}"  # still ends with the marker, which is how every front end knows it


def _italic(line: str) -> str:
    line = line.strip()
    return line if line.startswith(("_", "*")) else f"_{line}_"


def _with_notice(text: str, notice: str) -> str:
    """``text`` with ``notice`` as a last paragraph of its own (outside any open code block)."""
    if not text.strip():
        return notice
    body = close_open_fence(text)
    newlines = len(body) - len(body.rstrip("\n"))
    return body + "\n" * max(0, 2 - newlines) + notice
