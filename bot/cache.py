"""A small in-process cache with expiry, for what the front ends look up on their platforms (users,
members, groups, the files shared in a thread)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    """A small dict whose entries expire after ``ttl`` seconds; the oldest go first when it is full.

    With ``weigh`` (say, ``len`` of bytes), the entries' weights together also stay within ``max_weight``:
    the oldest go first to make room, and a value heavier than ``max_weight`` is not kept."""

    def __init__(
        self,
        ttl: float,
        max_size: int,
        clock: Callable[[], float] = time.monotonic,
        *,
        weigh: Callable[[V], int] | None = None,
        max_weight: int = 0,
    ) -> None:
        self._ttl = ttl
        self._max_size = max_size
        self._clock = clock
        self._weigh = weigh
        self._max_weight = max_weight
        self._weight = 0
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self._clock():
            self._drop(key)
            return None
        return entry[1]

    def put(self, key: K, value: V) -> None:
        self._drop(key)
        weight = self._weigh(value) if self._weigh is not None else 0
        if weight > self._max_weight:
            return
        while self._entries and (
            len(self._entries) >= self._max_size or self._weight + weight > self._max_weight
        ):
            self._drop(next(iter(self._entries)))
        self._entries[key] = (self._clock() + self._ttl, value)
        self._weight += weight

    def _drop(self, key: K) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None and self._weigh is not None:
            self._weight -= self._weigh(entry[1])
