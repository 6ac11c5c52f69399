"""One reply per thread across instances: ``RedisThreadLocks`` on a real Redis.

Two ``RedisThreadLocks`` on separate connections stand for two instances. The lock's key is
``{prefix}lock:{thread key}``; a test that plays a crashed instance writes that key itself.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.coordination.locks_redis import RedisThreadLocks
from bot.coordination.redis_client import SharedRedis

THREAD = "slack:T1:C1:1714564800.000100"
OTHER = "slack:T1:C1:1714564899.000200"


async def redis_get(shared: SharedRedis, key: str) -> bytes | None:
    value = await shared.client.get(key)
    assert value is None or isinstance(value, bytes)
    return value


async def test_one_holder_at_a_time_across_instances(two_instances: tuple[SharedRedis, SharedRedis]) -> None:
    a, b = (RedisThreadLocks(shared) for shared in two_instances)
    inside: dict[str, int] = {THREAD: 0, OTHER: 0}
    most: dict[str, int] = {THREAD: 0, OTHER: 0}
    order: list[int] = []

    async def reply(locks: RedisThreadLocks, key: str, n: int) -> None:
        async with locks.hold(key):
            inside[key] += 1
            most[key] = max(most[key], inside[key])
            await asyncio.sleep(0.01)
            if key == THREAD:
                order.append(n)
            inside[key] -= 1

    await asyncio.gather(
        *(reply(a if n % 2 else b, THREAD, n) for n in range(12)),
        *(reply(b, OTHER, n) for n in range(3)),
    )
    assert most == {THREAD: 1, OTHER: 1}
    assert sorted(order) == list(range(12))
    assert await redis_get(two_instances[0], two_instances[0].key("lock", THREAD)) is None  # released


async def test_messages_on_one_instance_keep_their_order(shared: SharedRedis) -> None:
    locks = RedisThreadLocks(shared)
    order: list[int] = []

    async def reply(n: int) -> None:
        async with locks.hold(THREAD):
            order.append(n)
            await asyncio.sleep(0.005)

    tasks = []
    for n in range(6):
        tasks.append(asyncio.create_task(reply(n)))
        await asyncio.sleep(0.002)  # arrive in this order
    await asyncio.gather(*tasks)
    assert order == list(range(6))
    assert len(locks) == 0


class Holder:
    """Holds a lock in a task of its own until told to let go."""

    def __init__(self, locks: RedisThreadLocks, key: str = THREAD) -> None:
        self.entered = asyncio.Event()
        self._release = asyncio.Event()
        self.task = asyncio.create_task(self._hold(locks, key))

    async def _hold(self, locks: RedisThreadLocks, key: str) -> None:
        async with locks.hold(key):
            self.entered.set()
            await self._release.wait()

    async def let_go(self) -> None:
        self._release.set()
        await asyncio.wait_for(self.task, 5)


async def test_the_lock_of_a_holder_that_died_expires(two_instances: tuple[SharedRedis, SharedRedis]) -> None:
    crashed, alive = two_instances
    key = alive.key("lock", THREAD)
    # An instance took the lock and died: nobody renews it, nobody releases it.
    await crashed.client.set(key, "dead-instance-token", px=400)
    holder = Holder(RedisThreadLocks(alive))
    await asyncio.sleep(0.15)
    assert not holder.entered.is_set()  # still the dead instance's
    await asyncio.wait_for(holder.entered.wait(), 5)  # taken once it expired
    assert await redis_get(alive, key) not in (None, b"dead-instance-token")
    await holder.let_go()
    assert await redis_get(alive, key) is None


async def test_a_held_lock_is_renewed_beyond_its_ttl(two_instances: tuple[SharedRedis, SharedRedis]) -> None:
    a, b = RedisThreadLocks(two_instances[0], ttl=0.3), RedisThreadLocks(two_instances[1], ttl=0.3)
    first = Holder(a)
    await first.entered.wait()
    second = Holder(b)
    await asyncio.sleep(1.0)  # more than three TTLs
    assert not second.entered.is_set()
    await first.let_go()
    await asyncio.wait_for(second.entered.wait(), 5)
    await second.let_go()


async def test_release_never_deletes_a_lock_another_instance_took_since(shared: SharedRedis) -> None:
    locks = RedisThreadLocks(shared)
    key = shared.key("lock", THREAD)
    async with locks.hold(THREAD):
        # Our lock expired during a long pause and another instance took it.
        await shared.client.set(key, "other-instance-token", px=5000)
    assert await redis_get(shared, key) == b"other-instance-token"


async def test_a_cancelled_waiter_takes_nothing(shared: SharedRedis) -> None:
    locks = RedisThreadLocks(shared)
    key = shared.key("lock", THREAD)
    async with locks.hold(THREAD):
        waiter = Holder(locks)
        await asyncio.sleep(0.05)
        waiter.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter.task
    assert await redis_get(shared, key) is None
    async with asyncio.timeout(5), locks.hold(THREAD):  # free for the next one
        pass
    assert len(locks) == 0


async def test_cancelled_holders_always_release(shared: SharedRedis) -> None:
    locks = RedisThreadLocks(shared)
    for delay in range(10):

        async def hold() -> None:
            async with locks.hold(THREAD):
                await asyncio.sleep(1)

        task = asyncio.create_task(hold())
        for _ in range(delay):
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        async with asyncio.timeout(5), locks.hold(THREAD):
            pass
    await asyncio.sleep(0.05)  # a SET that was in flight when its caller was cancelled is released too
    assert await redis_get(shared, shared.key("lock", THREAD)) is None


async def test_without_redis_the_thread_is_still_serialised_in_the_instance(
    dead_redis: SharedRedis, caplog: pytest.LogCaptureFixture
) -> None:
    locks = RedisThreadLocks(dead_redis)
    inside = most = 0

    async def reply() -> None:
        nonlocal inside, most
        async with locks.hold(THREAD):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.01)
            inside -= 1

    with caplog.at_level(logging.WARNING, logger="bot.coordination.locks_redis"):
        await asyncio.wait_for(asyncio.gather(*(reply() for _ in range(4))), 20)
    assert most == 1
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1  # warned once
    assert "serialising within this instance" in caplog.records[0].message
