"""Event dedup with a Redis claim in front of the store's (see ``bot.coordination.dedup``).

``claim(event_id)``:

1. ``SET {prefix}event:{id} NX EX ttl`` in Redis. Only one delivery of an id, on any instance, gets past
   this line while the key lives: a retry that lands on another instance a few milliseconds later is
   turned away here, without a database round trip and before the first delivery's store write is done.
2. The winner then claims the id in the store, which stays the authority: durable beyond the TTL and
   atomic on its own. A Redis key lost to a restart or eviction therefore never lets an event through
   twice when the instances share the store, and instances that share only Redis (each with its own
   SQLite) still answer each event once within the TTL.

If the store claim fails with an error, the Redis key is deleted again so that Slack's next retry is not
turned away for an event that was never recorded. While Redis cannot be reached the store decides alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from bot.coordination.redis_client import RedisError, SharedRedis, Warner
from bot.store import EventClaims

log = logging.getLogger(__name__)

DEFAULT_TTL = timedelta(hours=24)
"""How long Redis remembers an id; Slack retries within about five minutes, and the store remembers longer."""


class RedisDedup:
    def __init__(self, shared: SharedRedis, store: EventClaims, *, ttl: timedelta = DEFAULT_TTL) -> None:
        if ttl <= timedelta(0):
            raise ValueError(f"ttl must be positive, not {ttl}")
        self._shared = shared
        self._store = store
        self._ttl_ms = int(ttl.total_seconds() * 1000)
        self._warner = Warner(log)

    async def claim(self, event_id: str) -> bool:
        if not event_id:
            raise ValueError("event_id must not be empty")
        key = self._shared.key("event", event_id)
        try:
            first = await self._shared.set_nx(key, "1", ttl_ms=self._ttl_ms)
        except RedisError as exc:
            self._warner.warn("dedup", "Redis unreachable for event dedup (%s); the store decides alone", exc)
            return await self._store.claim_event(event_id)
        if not first:
            return False
        try:
            return await self._store.claim_event(event_id)
        except BaseException:
            # Not recorded: let a redelivery try again. Shielded, so a cancellation cannot skip it.
            with contextlib.suppress(RedisError):
                await asyncio.shield(self._shared.delete(key))
            raise
