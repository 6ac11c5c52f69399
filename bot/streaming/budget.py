"""Shared rate budgets for the posts and edits of many replies on one platform bucket
(docs/architecture.md §5).

One budget covers what the platform limits together: Slack's ``chat.update`` for a whole workspace, a
Discord channel's message route. Every reply streaming in that bucket asks the same budget for a permit
before each call, so that together they stay under the limit instead of running into 429s. Permits go to
the waiting callers by priority (a reply's final text first, then first texts, then middle edits) and in
arrival order within a priority, which shares the budget fairly between replies.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from enum import IntEnum
from typing import Generic, Protocol, TypeVar, runtime_checkable

from bot.streaming.clock import Clock, SystemClock

_EPSILON = 1e-9  # tolerance of the token arithmetic, so float error never leaves a permit just short


UNSPACED_SHARE = 4
"""MIDDLE permits are spaced over the window once ``1 / UNSPACED_SHARE`` of their share was granted in it."""


class Priority(IntEnum):
    """Who is served first when several callers wait; lower values first."""

    FINAL = 0
    FIRST = 1
    MIDDLE = 2


class Budget(Protocol):
    """A rate budget shared by the replies of one platform bucket.

    A budget whose permits count over a window (``WindowBudget``) also keeps a permit for each streaming
    reply's final text (``KeepsFinals``), so that when the window cannot cover every reply, streaming edits
    give way first and no reply waits for the next window to show its final text.
    """

    async def acquire(self, priority: Priority) -> None:
        """Wait until a call may be made, then take the permit for it."""
        ...

    async def pause(self, seconds: float) -> None:
        """Grant no permit for ``seconds`` (the platform answered 429 with this ``Retry-After``)."""
        ...


@runtime_checkable
class KeepsFinals(Protocol):
    """A budget that keeps a permit for the final text of each reply streaming on it."""

    def holding_final(self) -> AbstractAsyncContextManager[None]:
        """While held (a reply's whole rendering), one permit of the window stays free for its final text:
        MIDDLE permits are granted only while the grants in the window plus the replies holding stay
        under the limit."""
        ...


class EditBudget:
    """An in-process token bucket: ``rate`` permits a second on average, at most ``burst`` at once.

    Used from one event loop. A caller cancelled while it waits takes no permit; one cancelled after its
    permit was granted but before it ran gives the permit back.
    """

    def __init__(self, rate: float, burst: int = 1, *, clock: Clock | None = None) -> None:
        _check(rate, burst)
        self._rate = rate
        self._burst = burst
        self._clock: Clock = clock or SystemClock()
        self._tokens = float(burst)
        self._updated = self._clock.monotonic()
        self._paused_until = self._updated
        self._waiters: list[tuple[Priority, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._timer: asyncio.Task[None] | None = None

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def burst(self) -> int:
        return self._burst

    async def acquire(self, priority: Priority) -> None:
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), granted))
        self._dispatch()
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                # Granted, but the caller went away before using it: give the permit to the next waiter.
                self._tokens = min(float(self._burst), self._tokens + 1.0)
                self._dispatch()
            raise

    async def pause(self, seconds: float) -> None:
        self._refill()
        self._paused_until = max(self._paused_until, self._clock.monotonic() + seconds)
        self._tokens = 0.0
        self._dispatch()

    def update(self, *, rate: float | None = None, burst: int | None = None) -> None:
        """Retune from what the platform reports (e.g. Discord's ``X-RateLimit-*`` headers)."""
        new_rate = self._rate if rate is None else rate
        new_burst = self._burst if burst is None else burst
        _check(new_rate, new_burst)
        self._refill()
        self._rate, self._burst = new_rate, new_burst
        self._tokens = min(self._tokens, float(new_burst))
        if self._timer is not None:
            self._timer.cancel()  # it may be waiting for a permit that now comes sooner
            self._timer = None
        self._dispatch()

    def _refill(self) -> None:
        """Add the permits earned since the last look; none are earned while paused."""
        now = self._clock.monotonic()
        earning_since = max(self._updated, self._paused_until)
        if now > earning_since:
            self._tokens = min(float(self._burst), self._tokens + (now - earning_since) * self._rate)
        self._updated = max(self._updated, now)

    def _dispatch(self) -> None:
        """Grant what can be granted now, best waiter first, and set a timer for the rest."""
        self._refill()
        paused = self._clock.monotonic() < self._paused_until
        while self._waiters:
            granted = self._waiters[0][2]
            if granted.done():  # its caller was cancelled while waiting
                heapq.heappop(self._waiters)
                continue
            if paused or self._tokens < 1.0 - _EPSILON:
                break
            heapq.heappop(self._waiters)
            self._tokens -= 1.0
            granted.set_result(None)
        if self._waiters and self._timer is None:
            self._timer = asyncio.create_task(self._wake_after(self._next_permit_in()))
        elif not self._waiters and self._timer is not None:
            self._timer.cancel()  # nobody left to wake
            self._timer = None

    def _next_permit_in(self) -> float:
        now = self._clock.monotonic()
        resume = max(now, self._paused_until)
        return resume - now + max(0.0, 1.0 - self._tokens) / self._rate

    async def _wake_after(self, delay: float) -> None:
        await self._clock.sleep(delay)
        self._timer = None
        self._dispatch()


class WindowBudget:
    """At most ``limit`` permits in any ``window`` seconds, for limits a platform counts per minute.

    Slack counts ``chat.update`` calls per workspace per minute. A token bucket that stays under such a
    limit allows only a small burst, so replies that start together would wait up to a minute for their
    first text. This budget lets the whole window be used at once, by priority:

    - FINAL and FIRST permits are granted whenever fewer than ``limit`` were granted in the window;
    - MIDDLE permits only while fewer than ``limit - reserve`` were, and, once a quarter of those were
      granted in the window, no closer together than ``window / (limit - reserve)``: a reply streaming
      alone grows at its own pace (an edit a second), many replies spread their streaming edits over the
      window instead of spending it in a burst, and ``reserve`` permits stay free for the first and final
      texts of replies that start or end meanwhile;
    - and only while the grants plus the replies streaming (``holding_final``) are fewer than ``limit``:
      each reply's final text has its permit waiting, and when the window cannot cover them all, the
      streaming edits are the ones left out.

    Within a priority, permits go in arrival order. A permit counts for ``window + margin`` seconds, since
    the platform counts a call when it arrives, a little after its permit. Used from one event loop; a
    caller cancelled while it waits takes no permit, one cancelled after its grant gives the permit back.
    """

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        *,
        reserve: int = 0,
        margin: float = 0.0,
        clock: Clock | None = None,
    ) -> None:
        if limit < 1 or window <= 0 or margin < 0 or not 0 <= reserve < limit:
            raise ValueError(
                "a window budget needs limit >= 1, window > 0, margin >= 0 and 0 <= reserve < limit, not "
                f"limit={limit}, window={window}, reserve={reserve}, margin={margin}"
            )
        self._limit = limit
        self._middle_limit = limit - reserve
        self._period = window + margin
        self._spacing = window / self._middle_limit
        self._unspaced = self._middle_limit // UNSPACED_SHARE
        self._clock: Clock = clock or SystemClock()
        self._granted: deque[float] = deque()  # grant times still counted, oldest first
        self._holding = 0  # replies streaming, each keeping a permit for its final text
        self._last_middle = -math.inf
        self._paused_until = -math.inf
        self._waiters: list[tuple[Priority, int, asyncio.Future[float]]] = []
        self._order = itertools.count()
        self._timer: asyncio.Task[None] | None = None
        self._timer_at = math.inf

    async def acquire(self, priority: Priority) -> None:
        granted: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), granted))
        self._dispatch()
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled() and granted.result() in self._granted:
                # Granted, but the caller went away before using it: the permit goes back.
                self._granted.remove(granted.result())
            self._dispatch()
            raise

    async def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock.monotonic() + seconds)
        self._dispatch()

    @asynccontextmanager
    async def holding_final(self) -> AsyncIterator[None]:
        self._holding += 1
        try:
            yield
        finally:
            self._holding -= 1
            self._dispatch()  # a MIDDLE waiter may fit now

    def _wait(self, priority: Priority, now: float) -> float:
        """Seconds until a permit of ``priority`` may be granted (0 when it may be granted now); infinite
        for a MIDDLE permit while the replies holding finals fill the window (a release wakes it)."""
        cap = self._limit
        if priority is Priority.MIDDLE:
            cap = min(self._middle_limit, self._limit - self._holding)
            if cap <= 0:
                return math.inf
        waits = [self._paused_until - now]
        if len(self._granted) >= cap:
            # The count falls below the cap when this grant leaves the window.
            waits.append(self._granted[len(self._granted) - cap] + self._period - now)
        if priority is Priority.MIDDLE and len(self._granted) >= self._unspaced:
            waits.append(self._last_middle + self._spacing - now)
        return max(0.0, *waits)

    def _dispatch(self) -> None:
        """Grant what can be granted now, best waiter first, and set a timer for the rest."""
        now = self._clock.monotonic()
        while self._granted and self._granted[0] + self._period <= now + _EPSILON:
            self._granted.popleft()
        wait = math.inf
        while self._waiters:
            priority, _, granted = self._waiters[0]
            if granted.done():  # its caller was cancelled while waiting
                heapq.heappop(self._waiters)
                continue
            wait = self._wait(priority, now)
            if wait > _EPSILON:
                break
            heapq.heappop(self._waiters)
            self._granted.append(now)
            if priority is Priority.MIDDLE:
                self._last_middle = now
            granted.set_result(now)
            wait = math.inf
        wake_at = now + wait
        if self._timer is not None and (not self._waiters or wake_at < self._timer_at - _EPSILON):
            self._timer.cancel()  # nobody left to wake, or somebody to wake sooner
            self._timer = None
        if self._waiters and self._timer is None and math.isfinite(wake_at):
            self._timer_at = wake_at
            self._timer = asyncio.create_task(self._wake_after(wait))

    async def _wake_after(self, delay: float) -> None:
        await self._clock.sleep(delay)
        self._timer = None
        self._dispatch()


def _check(rate: float, burst: int) -> None:
    if rate <= 0 or burst < 1:
        raise ValueError(f"a budget needs rate > 0 and burst >= 1, not rate={rate}, burst={burst}")


B = TypeVar("B", bound=Budget)


class BudgetRegistry(Generic[B]):
    """Budgets by bucket key (a Slack workspace, a Discord channel), each made by ``factory`` on first use.

    With ``max_size``, the budgets used least recently are forgotten beyond that many (Discord makes a
    channel of every thread, so a long-running bot sees many buckets; a forgotten one starts afresh).
    """

    def __init__(self, factory: Callable[[str], B], *, max_size: int | None = None) -> None:
        if max_size is not None and max_size < 1:
            raise ValueError(f"max_size must be at least 1, not {max_size}")
        self._factory = factory
        self._max_size = max_size
        self._budgets: dict[str, B] = {}

    def get(self, key: str) -> B:
        budget = self._budgets.pop(key, None)
        if budget is None:
            budget = self._factory(key)
            if self._max_size is not None:
                while len(self._budgets) >= self._max_size:
                    del self._budgets[next(iter(self._budgets))]
        self._budgets[key] = budget  # last: the most recently used
        return budget

    def __len__(self) -> int:
        return len(self._budgets)
