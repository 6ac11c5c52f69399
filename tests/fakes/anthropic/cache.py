"""The prompt cache model: what a request reads from and writes to the cache."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .wire import JSON

# --------------------------------------------------------------------------------------------------------
# Prompt caching


@dataclass(frozen=True)
class CacheUse:
    """Estimated tokens of one request read from and written to the prompt cache."""

    read: int = 0
    created: int = 0


class PromptCache:
    """The API's prompt cache, modelled closely enough for usage figures to be honest.

    A request is a sequence of blocks in prefix order: tools, then system blocks, then each message's
    content blocks (a block's identity includes its message's role and position; ``cache_control`` is left
    out of it). A block with ``cache_control`` is a breakpoint: its prefix is written to the cache (if it
    is at least ``min_tokens`` long) and kept for ``ttl`` seconds from its last use. A request reads the
    longest cached prefix that ends at one of its breakpoints or at most ``lookback`` blocks before one;
    tokens from there to its last cacheable breakpoint are written; the rest is plain input. Caches are per
    model. Tokens are estimated as the block's JSON length / 4, like the rest of the fake's usage.
    """

    def __init__(
        self,
        *,
        min_tokens: int = 1024,
        ttl: float = 300.0,
        lookback: int = 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.min_tokens = min_tokens
        self.ttl = ttl
        self.lookback = lookback
        self._clock = clock
        self._expiry: dict[str, float] = {}

    def clear(self) -> None:
        self._expiry.clear()

    def __len__(self) -> int:
        now = self._clock()
        return sum(1 for expiry in self._expiry.values() if expiry > now)

    def use(self, body: Any) -> CacheUse:
        """Account for one request: what it reads and writes; records its breakpoints."""
        if not isinstance(body, dict):
            return CacheUse()
        blocks = _prefix_blocks(body)
        if not blocks:
            return CacheUse()
        now = self._clock()
        digest = hashlib.sha256(str(body.get("model")).encode())
        hashes: list[str] = []
        totals: list[int] = []
        total = 0
        for identity, tokens, _ in blocks:
            digest.update(identity.encode())
            hashes.append(digest.copy().hexdigest())
            total += tokens
            totals.append(total)
        breakpoints = [i for i, (_, _, marked) in enumerate(blocks) if marked]
        if body.get("cache_control") is not None and (not breakpoints or breakpoints[-1] != len(blocks) - 1):
            breakpoints.append(len(blocks) - 1)  # automatic caching: the last block
        if not breakpoints:
            return CacheUse()
        hit = -1
        for point in breakpoints:
            for i in range(point, max(-1, point - self.lookback - 1), -1):
                if i <= hit:
                    break
                if self._expiry.get(hashes[i], 0.0) > now:
                    hit = i
                    break
        read = totals[hit] if hit >= 0 else 0
        if hit >= 0:
            self._expiry[hashes[hit]] = now + self.ttl
        cacheable = [p for p in breakpoints if totals[p] >= self.min_tokens]
        for point in cacheable:
            self._expiry[hashes[point]] = now + self.ttl
        written = max(0, totals[cacheable[-1]] - read) if cacheable else 0
        return CacheUse(read=read, created=written)


def _prefix_blocks(body: JSON) -> list[tuple[str, int, bool]]:
    """(identity, estimated tokens, has cache_control) of each block in prefix order."""
    out: list[tuple[str, int, bool]] = []

    def add(kind: str, block: Any) -> None:
        marked = isinstance(block, dict) and block.get("cache_control") is not None
        bare = {k: v for k, v in block.items() if k != "cache_control"} if isinstance(block, dict) else block
        text = json.dumps(bare, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        out.append((f"{kind}|{text}", max(1, len(text) // 4), marked))

    for tool in body.get("tools") or ():
        add("tool", tool)
    system = body.get("system")
    if isinstance(system, str) and system:
        add("system", {"type": "text", "text": system})
    elif isinstance(system, list):
        for block in system:
            add("system", block)
    for index, message in enumerate(body.get("messages") or ()):
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        role = message.get("role")
        if isinstance(content, str):
            add(f"{index}:{role}", {"type": "text", "text": content})
        elif isinstance(content, list):
            for block in content:
                add(f"{index}:{role}", block)
    return out
