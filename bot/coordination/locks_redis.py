"""One reply in flight per thread across instances (docs/architecture.md §4 step 4), on Redis.

``RedisThreadLocks.hold(key)``:

- first the in-process lock of the key (``LocalThreadLocks``): messages of one thread that reach the same
  instance queue in arrival order, and only the head of that queue contends for the Redis lock;
- then the Redis lock: ``SET {prefix}lock:{key} <token> NX PX ttl``, where the token is random per hold.
  While the key is taken, the holder polls with exponential backoff (``poll_min`` doubling to
  ``poll_max``, jittered), so a lock freed on another instance is taken within about ``poll_max``;
- while held, a renewal task extends the TTL every ``ttl / 3`` seconds, but only if the key still holds
  our token (a Lua compare-and-pexpire). A holder that dies (crash, SIGKILL, network partition) stops
  renewing and its lock expires after at most ``ttl``: the thread is never locked for good;
- on exit, a Lua compare-and-delete releases the key only if it still holds our token, so a holder whose
  lock expired (a long pause) never releases a lock another instance has taken since.

Cancellation is safe at every point: a cancelled waiter takes nothing, and a ``SET`` that succeeded while
its caller was being cancelled is released at once. While Redis cannot be reached, ``hold`` logs a
warning and goes on with the in-process lock only (the thread is still serialised within this instance).
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from bot.coordination.locks import LocalThreadLocks
from bot.coordination.redis_client import RedisError, SharedRedis, Warner

log = logging.getLogger(__name__)

DEFAULT_TTL = 30.0
POLL_MIN = 0.005
POLL_MAX = 0.1

RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisThreadLocks:
    """``ThreadLocks`` shared by every instance on one Redis (see the module docstring)."""

    def __init__(
        self,
        shared: SharedRedis,
        *,
        ttl: float = DEFAULT_TTL,
        poll_min: float = POLL_MIN,
        poll_max: float = POLL_MAX,
    ) -> None:
        if ttl <= 0 or not 0 < poll_min <= poll_max:
            raise ValueError(f"need ttl > 0 and 0 < poll_min <= poll_max, not {ttl}, {poll_min}, {poll_max}")
        self._shared = shared
        self._ttl_ms = max(1, int(ttl * 1000))
        self._poll_min = poll_min
        self._poll_max = poll_max
        self._local = LocalThreadLocks()
        self._background: set[asyncio.Task[None]] = set()
        self._warner = Warner(log)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        async with self._local.hold(key):
            redis_key = self._shared.key("lock", key)
            token = uuid.uuid4().hex
            held = await self._acquire(redis_key, token)
            renewal = asyncio.create_task(self._renew(redis_key, token)) if held else None
            try:
                yield
            finally:
                if renewal is not None:
                    renewal.cancel()
                    await asyncio.gather(renewal, return_exceptions=True)
                if held:
                    # Shielded: a holder cancelled on its way out still lets go of the lock.
                    await asyncio.shield(self._release(redis_key, token))

    def __len__(self) -> int:
        """Threads held or waited for in this process."""
        return len(self._local)

    async def _acquire(self, redis_key: str, token: str) -> bool:
        """Wait for the Redis lock; True once held, False when Redis cannot be reached (local lock only)."""
        delay = self._poll_min
        while True:
            attempt = asyncio.ensure_future(self._shared.set_nx(redis_key, token, ttl_ms=self._ttl_ms))
            try:
                taken = await asyncio.shield(attempt)
            except asyncio.CancelledError:
                self._spawn(self._release_if_taken(attempt, redis_key, token))
                raise
            except RedisError as exc:
                self._warner.warn(
                    "lock", "Redis unreachable for thread locks (%s); serialising within this instance", exc
                )
                return False
            if taken:
                return True
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, self._poll_max)

    async def _renew(self, redis_key: str, token: str) -> None:
        interval = self._ttl_ms / 3000
        while True:
            await asyncio.sleep(interval)
            try:
                renewed = await self._shared.run_script(RENEW, [redis_key], [token, self._ttl_ms])
            except RedisError as exc:
                self._warner.warn("renew", "could not renew a thread lock in Redis (%s); retrying", exc)
                continue
            if not renewed:
                log.warning(
                    "lost the Redis lock %s (it expired while held); another reply may start", redis_key
                )
                return

    async def _release(self, redis_key: str, token: str) -> None:
        try:
            await self._shared.run_script(RELEASE, [redis_key], [token])
        except RedisError as exc:
            self._warner.warn("release", "could not release a thread lock in Redis (%s); it will expire", exc)

    async def _release_if_taken(self, attempt: asyncio.Future[bool], redis_key: str, token: str) -> None:
        try:
            taken = await attempt
        except (RedisError, asyncio.CancelledError):
            return
        if taken:
            await self._release(redis_key, token)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
