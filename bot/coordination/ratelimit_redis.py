"""The ``RateLimiter`` of ``bot.coordination.ratelimit`` counted in Redis, shared by every instance.

One sorted set per key holds the times of the hits in the window (Redis's clock, in microseconds); one Lua
script drops the hits that left the window, then either records the new hit (fewer than ``limit`` remain)
or returns how long until the oldest hit that keeps the key at its limit leaves. A refused hit is not
recorded, as in ``LocalRateLimiter``, so someone who keeps trying is not locked out for longer. The set
expires with its window, so idle keys cost nothing. While Redis cannot be reached, an in-process limiter
counts instead (per instance), with a warning.
"""

from __future__ import annotations

import logging
import math
import uuid

from bot.coordination.ratelimit import LocalRateLimiter
from bot.coordination.redis_client import RedisError, SharedRedis, Warner

log = logging.getLogger(__name__)

# KEYS: the hits (sorted set, score = µs). ARGV: limit, window µs, hit id.
# Returns -1 when the hit is recorded, else the µs until a hit would be allowed.
HIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count >= limit then
    local entry = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
    return math.max(1, tonumber(entry[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
return -1
"""


class RedisRateLimiter:
    """A sliding-window ``RateLimiter`` shared by every instance on one Redis."""

    def __init__(self, shared: SharedRedis) -> None:
        self._shared = shared
        self._fallback = LocalRateLimiter()
        self._warner = Warner(log)

    async def hit(self, key: str, limit: int, window_seconds: float) -> float | None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("limit must be >= 1 and window_seconds > 0")
        window_us = max(1, math.ceil(window_seconds * 1_000_000))
        try:
            wait_us = await self._shared.run_script(
                HIT, [self._shared.key("rate", key)], [limit, window_us, uuid.uuid4().hex]
            )
        except RedisError as exc:
            self._warner.warn("rate", "Redis unreachable for rate limits (%s); counting per instance", exc)
            return await self._fallback.hit(key, limit, window_seconds)
        return None if int(wait_us) < 0 else int(wait_us) / 1_000_000
