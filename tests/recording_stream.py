"""Test doubles for the streaming machinery: virtual time, a recording ReplyStream, scripted agent events.

``FakeClock`` runs tests on virtual time: ``sleep`` returns when the clock reaches its deadline, and the
clock jumps to the next deadline as soon as no task can run, so seconds of streaming take no real time.
``RecordingStream`` implements ``ReplyStream``: it keeps every message's current text, records every call,
can fail calls on demand and can enforce a platform rate limit (answering 429 like Slack or Discord would).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Literal

from bot.agent.events import AgentEvent, Completed
from bot.streaming.protocol import DeliveryError, Footer, MessageGone, MessageRef, RateLimited, ReplyLimits
from bot.types import Source, Usage

CallKind = Literal["post", "edit"]


class FakeClock:
    """Virtual monotonic time for tests (see the module docstring); one per event loop at a time."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._driver: asyncio.Task[None] | None = None

    def monotonic(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        woken: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), woken))
        if self._driver is None or self._driver.done():
            self._driver = loop.create_task(self._drive())
        await woken

    async def _drive(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(0)
            while self._sleepers and self._sleepers[0][2].done():
                heapq.heappop(self._sleepers)  # its sleeper was cancelled
            if not self._sleepers:
                return  # the next sleep starts a new driver
            # The loop's queue of ready callbacks (a CPython asyncio detail) is empty exactly when every other
            # task waits for something: only then may time move on.
            if loop._ready:  # type: ignore[attr-defined]
                continue
            self._now = max(self._now, self._sleepers[0][0])
            while self._sleepers and self._sleepers[0][0] <= self._now:
                woken = heapq.heappop(self._sleepers)[2]
                if not woken.done():
                    woken.set_result(None)


class WindowLimit:
    """A platform rate limit: at most ``calls`` calls in any ``per`` seconds; the next one gets a 429.

    One instance may be shared by several streams, like a Slack workspace's ``chat.update`` limit.
    """

    def __init__(self, clock: FakeClock, calls: int, per: float) -> None:
        self._clock = clock
        self.calls = calls
        self.per = per
        self.rejected = 0
        self._times: list[float] = []

    def check(self) -> None:
        now = self._clock.monotonic()
        self._times = [t for t in self._times if t > now - self.per + 1e-6]  # tolerance for float time
        if len(self._times) >= self.calls:
            self.rejected += 1
            raise RateLimited(self._times[0] + self.per - now)
        self._times.append(now)


@dataclass(frozen=True)
class Call:
    """One call the stream received; ``error`` is what it answered with, if it failed."""

    kind: CallKind
    ref: MessageRef
    text: str
    footer: Footer | None
    at: float
    error: DeliveryError | None = None


@dataclass
class _Fault:
    error: DeliveryError
    kind: CallKind
    times: int
    when: Callable[[str, Footer | None], bool]


@dataclass
class RecordingStream:
    """A ``ReplyStream`` that records what a user would see (see the module docstring).

    ``problems`` lists every breach of the ReplyStream contract seen (a text over the limit, an empty text,
    two calls of one reply under way at once); tests assert it stays empty.
    """

    clock: FakeClock
    max_chars: int = 4000
    edit_interval: float = 1.0
    latency: float = 0.0
    edit_limit: WindowLimit | None = None
    post_limit: WindowLimit | None = None
    calls: list[Call] = field(default_factory=list)
    messages: dict[MessageRef, tuple[str, Footer | None]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    _faults: list[_Fault] = field(default_factory=list)
    _gone: set[MessageRef] = field(default_factory=set)
    _busy: int = 0
    _posted: int = 0

    @property
    def limits(self) -> ReplyLimits:
        return ReplyLimits(self.max_chars, self.edit_interval)

    async def post(self, text: str, footer: Footer | None = None) -> MessageRef:
        ref = f"m{self._posted + 1}"
        await self._call("post", ref, text, footer)
        return ref

    async def edit(self, ref: MessageRef, text: str, footer: Footer | None = None) -> None:
        if ref not in self.messages:
            self.problems.append(f"edit of unknown message {ref}")
        await self._call("edit", ref, text, footer)

    def fail(
        self,
        error: DeliveryError,
        *,
        kind: CallKind = "edit",
        times: int = 1,
        when: Callable[[str, Footer | None], bool] = lambda text, footer: True,
    ) -> None:
        """Answer the next ``times`` calls of ``kind`` whose text and footer match ``when`` with ``error``."""
        self._faults.append(_Fault(error, kind, times, when))

    def delete(self, ref: MessageRef) -> None:
        """Someone deleted the message: from now on editing it answers ``MessageGone``."""
        self._gone.add(ref)

    def texts(self) -> list[str]:
        """The current text of every message, in the order they were posted (deleted ones left out)."""
        return [text for ref, (text, _) in self.messages.items() if ref not in self._gone]

    def footers(self) -> list[Footer | None]:
        return [footer for ref, (_, footer) in self.messages.items() if ref not in self._gone]

    def edits(self, ref: MessageRef | None = None) -> list[Call]:
        """The successful edits, of one message or of all."""
        return [c for c in self.calls if c.kind == "edit" and c.error is None and ref in (None, c.ref)]

    async def _call(self, kind: CallKind, ref: MessageRef, text: str, footer: Footer | None) -> None:
        now = self.clock.monotonic()
        if len(text) > self.max_chars or not text.strip():
            self.problems.append(f"{kind} of {ref} with a text of {len(text)} characters")
        if self._busy:
            self.problems.append(f"{kind} of {ref} while another call of this reply was under way")
        try:
            self._refuse(kind, ref, text, footer)
        except DeliveryError as error:
            self.calls.append(Call(kind, ref, text, footer, now, error))
            raise
        # The platform acts on the request at once; ``latency`` is how long its answer takes to come back,
        # so a caller that gives up waiting has still posted or edited the message.
        self.calls.append(Call(kind, ref, text, footer, now))
        self.messages[ref] = (text, footer)
        self._posted += kind == "post"
        self._busy += 1
        try:
            await self.clock.sleep(self.latency)
        finally:
            self._busy -= 1

    def _refuse(self, kind: CallKind, ref: MessageRef, text: str, footer: Footer | None) -> None:
        for fault in self._faults:
            if fault.times > 0 and fault.kind == kind and fault.when(text, footer):
                fault.times -= 1
                raise fault.error
        if kind == "edit" and ref in self._gone:
            raise MessageGone(f"message {ref} was deleted")
        limit = self.edit_limit if kind == "edit" else self.post_limit
        if limit is not None:
            limit.check()


async def scripted(clock: FakeClock, *steps: float | AgentEvent) -> AsyncIterator[AgentEvent]:
    """The agent's events in order; a number among them is a pause of that many seconds."""
    for step in steps:
        if isinstance(step, float | int):
            await clock.sleep(step)
        else:
            yield step


def completed(text: str, *sources: Source, note: str | None = None) -> Completed:
    return Completed(text=text, sources=sources, usage=Usage(), stop_reason="end_turn", note=note)
