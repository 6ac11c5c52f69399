"""Two instances delivering the helpdesk outbox of one PostgreSQL store, with their locks in one Redis:
however their passes overlap, the receiver gets each escalation once (``bot.handoff.outbox``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from fakes.helpdesk import FakeReceiver

from bot.coordination.locks_redis import RedisThreadLocks
from bot.coordination.redis_client import SharedRedis
from bot.handoff.config import HandoffConfig
from bot.handoff.outbox import Helpdesk
from bot.handoff.targets import WebhookTarget
from bot.store import Store
from bot.store.open import open_store
from bot.types import Principal, Role, ThreadRef

SECRET = "whsec-two-instances-0123"


@pytest.fixture
async def receiver() -> AsyncIterator[FakeReceiver]:
    async with FakeReceiver() as fake:
        yield fake


async def test_two_instances_deliver_each_escalation_once(
    receiver: FakeReceiver, pg_schema_url: str, redis_url: str, redis_prefix: str
) -> None:
    config = HandoffConfig(targets=("webhook",), webhook_url=receiver.url)
    stores: list[Store] = []
    shared: list[SharedRedis] = []
    helpdesks: list[Helpdesk] = []
    try:
        for _ in range(2):
            store = await open_store(pg_schema_url)
            stores.append(store)
            redis = await SharedRedis.connect(redis_url, redis_prefix)
            shared.append(redis)
            target = WebhookTarget(receiver.url, SECRET)
            helpdesks.append(Helpdesk(store, config, {"webhook": target}, RedisThreadLocks(redis)))
        asker = Principal("slack", "U0ANN", "ann", frozenset({Role.CUSTOMER}))
        opened = []
        for n in range(6):
            ref = ThreadRef("slack", "T1", "C1", f"{1000 + n}.000100")
            escalation = await stores[n % 2].open_escalation(ref, asker.user_id, f"question {n}")
            assert escalation is not None
            await helpdesks[n % 2].enqueue(escalation, asker, None)
            opened.append(escalation.id)

        async with aiohttp.ClientSession() as session:
            delivered = await asyncio.gather(*(helpdesk.deliver_due(session) for helpdesk in helpdesks * 3))

        assert sum(delivered) == 6
        assert sorted(received.json()["escalation_id"] for received in receiver.requests) == opened
    finally:
        for store in stores:
            await store.close()
        for redis in shared:
            await redis.close()
