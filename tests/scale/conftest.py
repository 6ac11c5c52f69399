"""Fixtures for the scale-out tests: Redis connections as two instances would hold them.

``two_instances`` gives two ``SharedRedis`` (separate connection pools, one key prefix, as two processes of
one deployment have); ``dead_redis`` one that points at a port where nothing listens.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis
from fakes.slack import FakeSlack

from bot.coordination.redis_client import SharedRedis


@pytest.fixture
async def two_instances(redis_url: str, redis_prefix: str) -> AsyncIterator[tuple[SharedRedis, SharedRedis]]:
    first = await SharedRedis.connect(redis_url, redis_prefix)
    second = await SharedRedis.connect(redis_url, redis_prefix)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


@pytest.fixture
async def shared(two_instances: tuple[SharedRedis, SharedRedis]) -> SharedRedis:
    return two_instances[0]


@pytest.fixture
async def dead_redis() -> AsyncIterator[SharedRedis]:
    """A client of a Redis that is not there (every command fails at once with a connection error)."""
    client = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    shared = SharedRedis(client, "supportbot-test-dead:")
    try:
        yield shared
    finally:
        await shared.close()


@pytest.fixture
async def wall_clock_slack() -> AsyncIterator[FakeSlack]:
    """A fake Slack whose message ``ts`` follow the wall clock, as Slack's do (the bot dates its own turns
    by the wall clock, so the history sorts as it happened)."""
    async with FakeSlack(ts_start=None) as fake:
        yield fake
