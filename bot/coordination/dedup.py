"""Dedup of inbound platform events (docs/architecture.md §4 step 4): each delivery id is answered once.

The store's ``claim_event`` is the authority: it is atomic within one database, so instances that share a
PostgreSQL store (or processes that share one SQLite file) answer an event exactly once between them.
``bot.coordination.dedup_redis.RedisDedup`` puts a Redis claim in front of it when ``REDIS_URL`` is set.
"""

from __future__ import annotations

from typing import Protocol

from bot.store import EventClaims


class EventDedup(Protocol):
    async def claim(self, event_id: str) -> bool:
        """True for the first delivery of ``event_id`` (anywhere), False for every repeat."""
        ...


class StoreDedup:
    """Dedup by the store alone."""

    def __init__(self, store: EventClaims) -> None:
        self._store = store

    async def claim(self, event_id: str) -> bool:
        return await self._store.claim_event(event_id)
