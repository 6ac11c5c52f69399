"""The Redis connection that several instances share state through (docs/architecture.md §8): dedup, thread
locks,
rate budgets, limits.

Used when ``REDIS_URL`` is set (``bot.coordination.open`` picks the Redis pieces or the in-process ones).
Every key starts with the deployment's ``REDIS_PREFIX``, so several deployments (and tests) share one
Redis without meeting. The Lua scripts read Redis's own clock (``TIME``), so instances whose clocks
drift still agree on windows; they need Redis 5 or newer.

Each piece degrades to its in-process equivalent, with a warning, while Redis cannot be reached: answering
matters more than perfect cross-instance coordination, and the store still deduplicates events.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Sequence
from typing import Any, cast
from urllib.parse import urlsplit

import redis.asyncio as redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "supportbot:"
SOCKET_TIMEOUT = 5.0
WARN_EVERY = 60.0
"""Seconds between two warnings about the same Redis problem (a dead Redis must not flood the log)."""


class RedisUnavailable(RuntimeError):
    """Redis cannot be reached or refused us; the message is one line for the operator, without secrets."""


def describe_redis_url(url: str) -> str:
    """``host:port/db`` (or the socket path) of a Redis URL, for messages: never the password."""
    try:
        parts = urlsplit(url)
        if parts.scheme == "unix":
            return parts.path or "(socket)"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(unparsable URL)"
    database = parts.path.lstrip("/") or "0"
    return f"{parts.hostname or 'localhost'}{port}/{database}"


class Warner:
    """Logs a warning at most once per ``every`` seconds per topic."""

    def __init__(self, logger: logging.Logger, every: float = WARN_EVERY) -> None:
        self._logger = logger
        self._every = every
        self._last: dict[str, float] = {}

    def warn(self, topic: str, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._last.get(topic, -self._every) >= self._every:
            self._last[topic] = now
            self._logger.warning(message, *args)


class SharedRedis:
    """One Redis client (with its connection pool) and this deployment's key prefix.

    A thin typed layer over redis-py's asyncio client: the few commands the shared pieces use, with the
    types redis-py leaves open. Build it with :meth:`connect`.
    """

    def __init__(self, client: redis.Redis, prefix: str = DEFAULT_PREFIX) -> None:
        self.client = client
        self.prefix = prefix
        self._scripts: dict[str, Any] = {}

    @classmethod
    async def connect(cls, url: str, prefix: str = DEFAULT_PREFIX) -> SharedRedis:
        """Connect to ``url`` and check that Redis answers; ``RedisUnavailable`` otherwise."""
        where = describe_redis_url(url)
        try:
            client = redis.Redis.from_url(
                url,
                socket_connect_timeout=SOCKET_TIMEOUT,
                socket_timeout=SOCKET_TIMEOUT,
                health_check_interval=30,
            )
        except ValueError as exc:
            raise RedisUnavailable(f"cannot use the Redis URL ({where}): {exc}") from None
        shared = cls(client, prefix)
        try:
            await shared.ping()
        except (RedisError, OSError) as exc:
            await shared.close()
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise RedisUnavailable(f"cannot reach Redis at {where}: {reason}") from exc
        return shared

    def key(self, *parts: str) -> str:
        """``prefix`` + the parts joined by ``:``."""
        return self.prefix + ":".join(parts)

    async def ping(self) -> None:
        await cast(Awaitable[Any], self.client.ping())

    async def set_nx(self, key: str, value: str, *, ttl_ms: int) -> bool:
        """``SET key value NX PX ttl_ms``: True when the key was set (it did not exist)."""
        result = await cast(Awaitable[Any], self.client.set(key, value, nx=True, px=ttl_ms))
        return bool(result)

    async def delete(self, *keys: str) -> int:
        return int(await cast(Awaitable[Any], self.client.delete(*keys)))

    async def zrem(self, key: str, member: str) -> int:
        return int(await cast(Awaitable[Any], self.client.zrem(key, member)))

    async def run_script(self, lua: str, keys: Sequence[str], args: Sequence[str | int | float]) -> Any:
        """Run ``lua`` (by its SHA, loading it once) with ``keys`` and ``args``."""
        script = self._scripts.get(lua)
        if script is None:
            script = self._scripts[lua] = self.client.register_script(lua)
        return await script(keys=list(keys), args=list(args))

    async def close(self) -> None:
        await self.client.aclose()


__all__ = [
    "DEFAULT_PREFIX",
    "RedisError",
    "RedisUnavailable",
    "SharedRedis",
    "Warner",
    "describe_redis_url",
]
