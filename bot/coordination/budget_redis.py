"""Rate budgets counted in Redis, shared by every instance (docs/architecture.md §5, §8).

``RedisWindowBudget`` is ``WindowBudget`` (``bot.streaming.budget``) with its count kept in Redis: at most
``limit`` permits in any ``window`` seconds across all instances, for limits a platform counts per
workspace such as Slack's ``chat.update``. The rules are the same:

- FINAL and FIRST permits are granted while fewer than ``limit`` were granted in the window;
- MIDDLE permits only while fewer than ``limit - reserve`` were, and, once a quarter of those were granted
  in the window, no closer together than ``window / (limit - reserve)`` (the last MIDDLE grant of any
  instance counts), so streaming edits spread over the window and ``reserve`` permits stay free for first
  and final texts;
- MIDDLE permits also only while the grants plus the replies streaming on any instance
  (``holding_final``) are fewer than ``limit``, so every reply's final text keeps its permit;
- a grant counts for ``window + margin`` seconds; ``pause(seconds)`` (a 429's ``Retry-After``) stops every
  instance's grants until then.

One Lua script decides a grant atomically on a sorted set of grant times (the sliding window), a key with
the last MIDDLE grant and a key with the pause deadline, all timed by Redis's clock. Within one instance
the waiters queue by priority, then arrival, and a single dispatcher asks Redis for the best waiter's
permit, sleeping for as long as the script says it must wait (or until a better waiter arrives). Between
instances priority holds through the caps above: FINAL/FIRST can use the reserve, MIDDLE cannot.

A caller cancelled while waiting takes nothing; one cancelled after its grant gives it back (the grant is
removed from the window). While Redis cannot be reached, each waiter falls back to an in-process
``WindowBudget`` with the same numbers, with a warning: answers go on, counted per instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import math
import uuid
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from bot.coordination.redis_client import RedisError, SharedRedis, Warner
from bot.streaming.budget import UNSPACED_SHARE, Budget, Priority, WindowBudget

log = logging.getLogger(__name__)

POLL_MAX = 1.0
"""Longest sleep between two looks at Redis while waiting (another instance may give a permit back)."""

HOLD_MAX = 900.0
"""Seconds a reply's hold on a final permit lasts at most: longer than any answer may take, so that the
holds of an instance that crashed expire."""

_FALLBACK = ""
"""The grant of a waiter that must use the in-process fallback (Redis failed)."""

# KEYS: grants (sorted set: member = grant id, score = ms), last MIDDLE grant (ms), paused until (ms),
# holds (sorted set: member = hold id, score = expiry ms).
# ARGV: period ms, cap, spacing ms, is MIDDLE (1/0), grant id, limit, grants in the window before MIDDLE
# permits are spaced.
# Returns {1, 0} when granted, {0, ms to wait} otherwise (a MIDDLE waiter blocked by holds is told to look
# again after POLL_MAX; a released hold wakes this instance's waiters sooner).
ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local period = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local spacing = tonumber(ARGV[3])
local middle = ARGV[4] == '1'
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
local wait = 0
local paused = tonumber(redis.call('GET', KEYS[3]) or '0')
if paused > now then wait = paused - now end
local count = redis.call('ZCARD', KEYS[1])
if count >= cap then
    local entry = redis.call('ZRANGE', KEYS[1], count - cap, count - cap, 'WITHSCORES')
    local free_at = tonumber(entry[2]) + period - now
    if free_at > wait then wait = free_at end
end
if middle then
    redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
    local hold_cap = tonumber(ARGV[6]) - redis.call('ZCARD', KEYS[4])
    if hold_cap <= 0 then
        if 1000 > wait then wait = 1000 end
    elseif count >= hold_cap then
        local entry = redis.call('ZRANGE', KEYS[1], count - hold_cap, count - hold_cap, 'WITHSCORES')
        local free_at = tonumber(entry[2]) + period - now
        if free_at > wait then wait = free_at end
    end
    local last = redis.call('GET', KEYS[2])
    if last and count >= tonumber(ARGV[7]) then
        local next_middle = tonumber(last) + spacing - now
        if next_middle > wait then wait = next_middle end
    end
end
if wait > 0 then return {0, math.ceil(wait)} end
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('PEXPIRE', KEYS[1], period + 1000)
if middle then redis.call('SET', KEYS[2], now, 'PX', math.ceil(spacing) + 1000) end
return {1, 0}
"""

# KEYS: holds. ARGV: hold id, ms it lasts at most (a crashed instance's holds expire).
HOLD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 1000)
return 0
"""

# KEYS: paused until (ms). ARGV: pause ms.
PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local deadline = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if deadline > current then redis.call('SET', KEYS[1], deadline, 'PX', tonumber(ARGV[1]) + 1000) end
return 0
"""


class RedisWindowBudget:
    """``WindowBudget`` counted in Redis (see the module docstring). Used from one event loop."""

    def __init__(
        self,
        shared: SharedRedis,
        name: str,
        limit: int,
        window: float = 60.0,
        *,
        reserve: int = 0,
        margin: float = 0.0,
        poll_max: float = POLL_MAX,
    ) -> None:
        # Same checks and the same numbers as the fallback.
        self._fallback = WindowBudget(limit, window, reserve=reserve, margin=margin)
        self._shared = shared
        self._name = name
        # A hash tag ({name}) keeps the three keys in one slot for Redis Cluster.
        base = shared.key("budget", "{" + name + "}")
        self._keys = (f"{base}:grants", f"{base}:last-middle", f"{base}:paused", f"{base}:holds")
        self._limit = limit
        self._middle_limit = limit - reserve
        self._period_ms = max(1, math.ceil((window + margin) * 1000))
        self._spacing_ms = window * 1000 / self._middle_limit
        self._poll_max = poll_max
        self._waiters: list[tuple[Priority, int, asyncio.Future[str]]] = []
        self._order = itertools.count()
        self._wakeup = asyncio.Event()
        self._dispatcher: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._warner = Warner(log)

    async def acquire(self, priority: Priority) -> None:
        granted: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), granted))
        self._wakeup.set()
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._dispatch())
        try:
            grant = await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled() and granted.result() != _FALLBACK:
                self._spawn(self._give_back(granted.result()))
            raise
        if grant == _FALLBACK:
            await self._fallback.acquire(priority)

    async def pause(self, seconds: float) -> None:
        if seconds <= 0:
            return
        try:
            await self._shared.run_script(PAUSE, [self._keys[2]], [math.ceil(seconds * 1000)])
        except RedisError as exc:
            self._warn(exc)
            await self._fallback.pause(seconds)
        self._wakeup.set()

    @asynccontextmanager
    async def holding_final(self) -> AsyncIterator[None]:
        hold_id = uuid.uuid4().hex
        try:
            await self._shared.run_script(HOLD, [self._keys[3]], [hold_id, math.ceil(HOLD_MAX * 1000)])
        except RedisError as exc:
            self._warn(exc)
            async with self._fallback.holding_final():
                yield
            return
        try:
            yield
        finally:
            try:
                await self._shared.zrem(self._keys[3], hold_id)
            except RedisError as exc:
                self._warn(exc)  # the hold expires on its own
            self._wakeup.set()

    async def _dispatch(self) -> None:
        """Serve the waiters, best first, until none is left."""
        while self._waiters:
            entry = self._waiters[0]
            priority, _, granted = entry
            if granted.done():  # its caller was cancelled while waiting
                heapq.heappop(self._waiters)
                continue
            self._wakeup.clear()
            grant_id = uuid.uuid4().hex
            middle = priority is Priority.MIDDLE
            try:
                ok, wait_ms = await self._shared.run_script(
                    ACQUIRE,
                    self._keys,
                    [
                        self._period_ms,
                        self._middle_limit if middle else self._limit,
                        self._spacing_ms,
                        int(middle),
                        grant_id,
                        self._limit,
                        self._middle_limit // UNSPACED_SHARE,
                    ],
                )
            except RedisError as exc:
                self._warn(exc)
                self._forget(entry)
                if not granted.done():
                    granted.set_result(_FALLBACK)
                continue
            if ok:
                # A better waiter may have arrived meanwhile: this grant is still the one asked for.
                self._forget(entry)
                if granted.done():  # cancelled while Redis granted it: give it back
                    await self._give_back(grant_id)
                else:
                    granted.set_result(grant_id)
                continue
            delay = min(max(int(wait_ms), 1) / 1000, self._poll_max)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), delay)

    def _forget(self, entry: tuple[Priority, int, asyncio.Future[str]]) -> None:
        """Take ``entry`` out of the waiters, wherever it is in the heap now."""
        if self._waiters and self._waiters[0] is entry:
            heapq.heappop(self._waiters)
            return
        self._waiters.remove(entry)
        heapq.heapify(self._waiters)

    async def _give_back(self, grant_id: str) -> None:
        try:
            await self._shared.zrem(self._keys[0], grant_id)
        except RedisError as exc:
            self._warn(exc)
        self._wakeup.set()

    def _warn(self, exc: Exception) -> None:
        self._warner.warn(
            "budget", "Redis unreachable for rate budget %s (%s); counting in this instance", self._name, exc
        )

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


class RedisBudgets:
    """``BudgetFactory`` whose budgets are counted in Redis and shared by every instance."""

    def __init__(self, shared: SharedRedis) -> None:
        self._shared = shared

    def window(
        self, name: str, limit: int, window: float, *, reserve: int = 0, margin: float = 0.0
    ) -> Budget:
        return RedisWindowBudget(self._shared, name, limit, window, reserve=reserve, margin=margin)

    def rate(self, name: str, rate: float, burst: int = 1) -> Budget:
        """``burst`` permits per ``burst / rate`` seconds: the same average rate and the same burst."""
        if rate <= 0 or burst < 1:
            raise ValueError(f"a budget needs rate > 0 and burst >= 1, not rate={rate}, burst={burst}")
        return RedisWindowBudget(self._shared, name, burst, burst / rate)
