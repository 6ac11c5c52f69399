"""Per-key sliding-window limits (``bot.coordination.ratelimit.RateLimiter``), in process and shared through
Redis, and event dedup with Redis in front of the store (``bot.coordination.dedup_redis``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.coordination.budget_redis import RedisBudgets
from bot.coordination.dedup import StoreDedup
from bot.coordination.dedup_redis import RedisDedup
from bot.coordination.locks import LocalThreadLocks
from bot.coordination.locks_redis import RedisThreadLocks
from bot.coordination.open import local_coordination, open_coordination
from bot.coordination.ratelimit import LocalRateLimiter, RateLimiter
from bot.coordination.ratelimit_redis import RedisRateLimiter
from bot.coordination.redis_client import SharedRedis
from bot.errors import ConfigError
from bot.settings import Settings
from bot.store import Store
from bot.store.open import open_store
from bot.streaming.factory import LocalBudgets

# ---------------------------------------------------------------------------------------------------------
# Rate limiters: the same behaviour in process and in Redis


@pytest.fixture(params=["local", "redis"])
def make_limiter(request: pytest.FixtureRequest) -> Callable[[], RateLimiter]:
    """Makes limiters that share their counts (for Redis: one per instance, on one prefix)."""
    if request.param == "local":
        limiter = LocalRateLimiter()
        return lambda: limiter
    first, second = request.getfixturevalue("two_instances")
    made = iter([RedisRateLimiter(first), RedisRateLimiter(second)] * 10)
    return lambda: next(made)


async def test_hits_within_the_limit_pass_then_the_wait_is_told(
    make_limiter: Callable[[], RateLimiter],
) -> None:
    limiter = make_limiter()
    assert [await limiter.hit("slack:U1", 3, 0.6) for _ in range(3)] == [None, None, None]
    wait = await limiter.hit("slack:U1", 3, 0.6)
    assert wait is not None and 0 < wait <= 0.6
    assert await limiter.hit("slack:U2", 3, 0.6) is None  # keys are independent
    await asyncio.sleep(wait + 0.05)
    assert await limiter.hit("slack:U1", 3, 0.6) is None  # the oldest hit left the window


async def test_refused_hits_are_not_counted(make_limiter: Callable[[], RateLimiter]) -> None:
    limiter = make_limiter()
    assert await limiter.hit("k", 1, 0.4) is None
    waits = [await limiter.hit("k", 1, 0.4) for _ in range(5)]
    assert all(w is not None for w in waits)
    await asyncio.sleep(0.45)
    assert await limiter.hit("k", 1, 0.4) is None  # the refused tries did not extend the lock-out


async def test_instances_count_together(make_limiter: Callable[[], RateLimiter]) -> None:
    a, b = make_limiter(), make_limiter()
    results = await asyncio.gather(*((a if n % 2 else b).hit("slack:U7", 4, 5.0) for n in range(10)))
    assert sum(1 for r in results if r is None) == 4


@pytest.mark.parametrize(("limit", "window"), [(0, 1.0), (1, 0.0), (1, -1.0)])
async def test_bad_limits_are_refused(
    make_limiter: Callable[[], RateLimiter], limit: int, window: float
) -> None:
    with pytest.raises(ValueError, match="limit"):
        await make_limiter().hit("k", limit, window)


async def test_without_redis_the_limits_count_in_the_instance(
    dead_redis: SharedRedis, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = RedisRateLimiter(dead_redis)
    with caplog.at_level(logging.WARNING, logger="bot.coordination.ratelimit_redis"):
        assert [await limiter.hit("k", 2, 5.0) for _ in range(3)][:2] == [None, None]
        assert await limiter.hit("k", 2, 5.0) is not None
    assert "counting per instance" in caplog.text


# ---------------------------------------------------------------------------------------------------------
# Dedup


class CountingStore:
    """Just enough of a store for dedup: counts claims, may fail them."""

    def __init__(self, inner: Store, *, fail: int = 0) -> None:
        self.inner = inner
        self.claims = 0
        self.fail = fail

    async def claim_event(self, event_id: str) -> bool:
        self.claims += 1
        if self.fail:
            self.fail -= 1
            raise OSError("database went away")
        return await self.inner.claim_event(event_id)


@pytest.fixture
async def sqlite_stores(tmp_path: Path) -> AsyncIterator[Callable[[str], Awaitable[Store]]]:
    opened: list[Store] = []

    async def open_(name: str) -> Store:
        store = await open_store(f"sqlite:///{tmp_path / name}")
        opened.append(store)
        return store

    yield open_
    for store in opened:
        await store.close()


async def test_a_retry_on_another_instance_is_turned_away_by_redis_first(
    two_instances: tuple[SharedRedis, SharedRedis], sqlite_stores: Callable[[str], Awaitable[Store]]
) -> None:
    store = CountingStore(await sqlite_stores("shared.db"))
    a, b = (RedisDedup(shared, store) for shared in two_instances)  # type: ignore[arg-type]
    results = await asyncio.gather(*((a if n % 2 else b).claim("slack:C1:1.0001") for n in range(10)))
    assert results.count(True) == 1
    assert store.claims == 1  # the nine repeats never reached the database


async def test_instances_with_stores_of_their_own_still_answer_once(
    two_instances: tuple[SharedRedis, SharedRedis], sqlite_stores: Callable[[str], Awaitable[Store]]
) -> None:
    a = RedisDedup(two_instances[0], await sqlite_stores("a.db"))
    b = RedisDedup(two_instances[1], await sqlite_stores("b.db"))
    assert [await a.claim("Ev1"), await b.claim("Ev1"), await b.claim("Ev2"), await a.claim("Ev2")] == [
        True,
        False,
        True,
        False,
    ]


async def test_the_store_decides_when_redis_forgot(
    shared: SharedRedis, sqlite_stores: Callable[[str], Awaitable[Store]]
) -> None:
    dedup = RedisDedup(shared, await sqlite_stores("s.db"))
    assert await dedup.claim("Ev1") is True
    await shared.delete(shared.key("event", "Ev1"))  # evicted, or Redis restarted
    assert await dedup.claim("Ev1") is False


async def test_a_claim_the_store_could_not_record_can_be_retried(
    shared: SharedRedis, sqlite_stores: Callable[[str], Awaitable[Store]]
) -> None:
    store = CountingStore(await sqlite_stores("s.db"), fail=1)
    dedup = RedisDedup(shared, store)  # type: ignore[arg-type]
    with pytest.raises(OSError, match="went away"):
        await dedup.claim("Ev1")
    assert await dedup.claim("Ev1") is True  # Slack's retry is answered, not turned away
    assert await dedup.claim("Ev1") is False


async def test_without_redis_the_store_decides(
    dead_redis: SharedRedis, sqlite_stores: Callable[[str], Awaitable[Store]]
) -> None:
    dedup = RedisDedup(dead_redis, await sqlite_stores("s.db"))
    assert [await dedup.claim("Ev1"), await dedup.claim("Ev1")] == [True, False]
    with pytest.raises(ValueError, match="event_id"):
        await dedup.claim("")


# ---------------------------------------------------------------------------------------------------------
# The choice in the composition root


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def test_without_redis_url_everything_is_in_process(
    sqlite_stores: Callable[[str], Awaitable[Store]],
) -> None:
    store = await sqlite_stores("s.db")
    coordination = await open_coordination(settings(), store)
    assert isinstance(coordination.dedup, StoreDedup) and isinstance(coordination.locks, LocalThreadLocks)
    assert isinstance(coordination.budgets, LocalBudgets)
    assert isinstance(coordination.rate_limiter, LocalRateLimiter)
    assert coordination.shared is False and local_coordination(store).shared is False
    await coordination.close()


async def test_with_redis_url_everything_is_shared_under_the_prefix(
    redis_url: str, redis_prefix: str, sqlite_stores: Callable[[str], Awaitable[Store]]
) -> None:
    store = await sqlite_stores("s.db")
    coordination = await open_coordination(settings(redis_url=redis_url, redis_prefix=redis_prefix), store)
    try:
        assert isinstance(coordination.dedup, RedisDedup) and isinstance(coordination.locks, RedisThreadLocks)
        assert isinstance(coordination.budgets, RedisBudgets)
        assert isinstance(coordination.rate_limiter, RedisRateLimiter)
        assert coordination.shared is True
        assert await coordination.dedup.claim("Ev-prefixed") is True
        check = await SharedRedis.connect(redis_url, redis_prefix)
        assert await check.client.exists(f"{redis_prefix}event:Ev-prefixed") == 1
        await check.close()
    finally:
        await coordination.close()


async def test_an_unreachable_redis_is_one_line_naming_redis_url(
    sqlite_stores: Callable[[str], Awaitable[Store]],
) -> None:
    store = await sqlite_stores("s.db")
    with pytest.raises(ConfigError) as info:
        await open_coordination(settings(redis_url="redis://:hunter2@127.0.0.1:1/3"), store)
    message = str(info.value)
    assert message.startswith("REDIS_URL: cannot reach Redis at 127.0.0.1:1/3: ")
    assert "hunter2" not in message and "\n" not in message
