"""Rate limits shared by the front ends: a sliding window of hits per key (docs/architecture.md §8).

``RateLimiter.hit(key, limit, window_seconds)`` records one hit for ``key`` if fewer than ``limit`` hits
fall in the last ``window_seconds`` and returns None; otherwise it records nothing and returns the seconds
until the oldest hit in the window leaves it (when a new hit would be allowed).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Protocol


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window_seconds: float) -> float | None:
        """Count a hit on ``key``; None if allowed, else the seconds until one would be allowed."""
        ...


class LocalRateLimiter:
    """In-process sliding windows (one process; use a shared limiter when several instances serve)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}

    async def hit(self, key: str, limit: int, window_seconds: float) -> float | None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("limit must be >= 1 and window_seconds > 0")
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - window_seconds:
            hits.popleft()
        if len(hits) >= limit:
            return max(0.0, hits[-limit] + window_seconds - now)
        hits.append(now)
        self._prune(now, window_seconds)
        return None

    def _prune(self, now: float, window_seconds: float) -> None:
        """Forget keys whose hits all left the window, so idle users cost no memory."""
        if len(self._hits) < 1024:
            return
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - window_seconds]:
            del self._hits[key]
