"""Which instance fetches a knowledge source in an interval (docs/architecture.md §6 and §8).

``serve`` syncs a source every ``sync_every`` seconds on every instance's clock; the intervals are
numbered from the epoch, so all instances agree on them, and each instance claims ``(source, interval)``
before fetching: the first claim wins and the others skip that interval. In-process (one instance) a
claim lives in a dict until it expires; ``sync_claims_redis`` shares them through Redis.
"""

from __future__ import annotations

import time
from typing import Protocol


class SyncClaims(Protocol):
    async def claim(self, key: str, ttl: float) -> bool:
        """True for the first claim of ``key`` while an earlier one is younger than ``ttl`` seconds."""
        ...


class LocalSyncClaims:
    """Claims of this process; expired ones are dropped as new ones are made (one per source at most)."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    async def claim(self, key: str, ttl: float) -> bool:
        now = time.monotonic()
        self._until = {held: until for held, until in self._until.items() if until > now}
        if key in self._until:
            return False
        self._until[key] = now + ttl
        return True


__all__ = ["LocalSyncClaims", "SyncClaims"]
