"""What instances must agree on: event dedup, one reply per thread, rate budgets and per-user limits.

``open_coordination`` picks the implementations from the settings (docs/architecture.md §8):

| piece | ``REDIS_URL`` unset (one instance) | ``REDIS_URL`` set (several instances) |
|---|---|---|
| dedup | the store's ``claim_event`` | a Redis ``SET NX`` claim, then the store's |
| thread locks | ``LocalThreadLocks`` | ``RedisThreadLocks`` (renewed while held, expire if the holder dies) |
| platform budgets | ``WindowBudget``/``EditBudget`` per process | ``RedisWindowBudget`` shared by all |
| per-user limits | ``LocalRateLimiter`` | ``RedisRateLimiter`` |
| knowledge-source syncs | ``LocalSyncClaims`` | ``RedisSyncClaims`` (one instance per source and interval) |

The Redis implementations (``*_redis.py`` beside the in-process ones, and ``redis_client.py``) are
imported only when ``REDIS_URL`` is set, so the embedded defaults need no Redis client installed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.coordination.dedup import EventDedup, StoreDedup
from bot.coordination.locks import LocalThreadLocks, ThreadLocks
from bot.coordination.ratelimit import LocalRateLimiter, RateLimiter
from bot.coordination.sync_claims import LocalSyncClaims, SyncClaims
from bot.errors import ConfigError
from bot.settings import Settings
from bot.store import EventClaims
from bot.streaming.factory import BudgetFactory, LocalBudgets


async def _nothing() -> None:
    return None


@dataclass
class Coordination:
    """The pieces, and how to let go of what they hold (the Redis connection pool)."""

    dedup: EventDedup
    locks: ThreadLocks = field(default_factory=LocalThreadLocks)
    budgets: BudgetFactory = field(default_factory=LocalBudgets)
    rate_limiter: RateLimiter = field(default_factory=LocalRateLimiter)
    sync_claims: SyncClaims = field(default_factory=LocalSyncClaims)
    shared: bool = False
    """True when the pieces are shared through Redis."""
    _close: Callable[[], Awaitable[None]] = _nothing

    async def close(self) -> None:
        await self._close()


def local_coordination(store: EventClaims) -> Coordination:
    """In-process pieces, for one instance."""
    return Coordination(dedup=StoreDedup(store))


async def open_coordination(settings: Settings, store: EventClaims) -> Coordination:
    """Redis-backed pieces when ``REDIS_URL`` is set, else in-process ones.

    ``ConfigError`` (exit status 2, one line naming ``REDIS_URL``) when the redis package is missing or Redis
    cannot be reached at start; later outages degrade to the in-process pieces with a warning.
    """
    if settings.redis_url is None:
        return local_coordination(store)
    try:
        from bot.coordination.budget_redis import RedisBudgets
        from bot.coordination.dedup_redis import RedisDedup
        from bot.coordination.locks_redis import RedisThreadLocks
        from bot.coordination.ratelimit_redis import RedisRateLimiter
        from bot.coordination.redis_client import RedisUnavailable, SharedRedis
        from bot.coordination.sync_claims_redis import RedisSyncClaims
    except ImportError as exc:
        if exc.name is None or not exc.name.startswith("redis"):
            raise
        raise ConfigError(
            "REDIS_URL: set, but the Redis client is not installed: pip install 'supportbot[redis]'"
        ) from None
    try:
        shared = await SharedRedis.connect(settings.redis_url.get_secret_value(), settings.redis_prefix)
    except RedisUnavailable as exc:
        raise ConfigError(f"REDIS_URL: {exc}") from None
    return Coordination(
        dedup=RedisDedup(shared, store),
        locks=RedisThreadLocks(shared),
        budgets=RedisBudgets(shared),
        rate_limiter=RedisRateLimiter(shared),
        sync_claims=RedisSyncClaims(shared),
        shared=True,
        _close=shared.close,
    )
