"""Keeping this process's search index current from the store's article changes (docs/architecture.md §6).

The store holds every source's articles and numbers each change (``KnowledgeStore.article_changes``); the
local index (``KnowledgeBase``) records the number it has applied through (``seq``). Following is
applying the changes after that number, in bounded batches, each batch in one index transaction; in
``supportbot serve`` it runs every few seconds, so that an article synced on any instance is searchable on
every instance within seconds.

The store forgets removals after a while (``bot.kb.schedule.REMOVALS_KEPT``); an index that has not
followed it for that long is told to start again (``ChangeBatch.restart``), and is emptied and filled anew
from the store, so that no article removed meanwhile stays searchable. So is an index that has applied
more changes than the store has made (``ChangeBatch.ahead``): it followed another database, or this one
before it was restored from an older backup, and may hold articles the store no longer has.
"""

from __future__ import annotations

import asyncio
import logging

from bot.kb.index import KnowledgeBase, UnreadableIndex
from bot.store import KnowledgeStore

log = logging.getLogger(__name__)

#: Changes read from the store and applied to the index at once.
BATCH = 500
#: Seconds between looks at the store in ``supportbot serve``.
FOLLOW_EVERY_SECONDS = 2.0


class KnowledgeFollower:
    """Applies the store's article changes to one local index."""

    def __init__(self, kb: KnowledgeBase, store: KnowledgeStore, *, batch: int = BATCH) -> None:
        if batch < 1:
            raise ValueError(f"batch must be >= 1, not {batch}")
        self._kb = kb
        self._store = store
        self._batch = batch
        self._fed = False

    @property
    def kb(self) -> KnowledgeBase:
        return self._kb

    async def rebuild(self) -> int:
        """Empty the index and apply every article in the store again; return how many."""
        await asyncio.to_thread(self._kb.clear)
        self._fed = False
        return await self.catch_up()

    async def catch_up(self) -> int:
        """Apply every change the index has not seen yet; return how many were applied.

        The first call marks the index as fed from the store even when there is nothing to apply, so
        that it never falls back to indexing a folder by itself.
        """
        seq = await asyncio.to_thread(lambda: self._kb.seq)
        applied = 0
        while True:
            batch = await self._store.article_changes(seq, self._batch)
            if batch.restart:
                why = (
                    "past the store's newest change: it followed another database, or the store was "
                    "restored from an older backup"
                    if batch.ahead
                    else "older than the removals the store keeps"
                )
                log.warning(
                    "knowledge base: the index is at change %d, %s; filling it anew from the store", seq, why
                )
                await asyncio.to_thread(self._kb.clear)
                seq = 0
                continue
            if not batch.changes and self._fed:
                return applied
            await self._kb.aapply(batch.changes, seq=batch.seq)
            self._fed = True
            applied += len(batch.changes)
            seq = batch.seq
            if len(batch.changes) < self._batch:
                if applied:
                    log.info("knowledge base: applied %d article changes (now at %d)", applied, seq)
                return applied

    async def run(self, every: float = FOLLOW_EVERY_SECONDS) -> None:
        """Catch up every ``every`` seconds until cancelled; a failed look is tried again, and logged as a
        warning when it fails anew or differently (the same failure again only at debug level)."""
        failing: str | None = None
        while True:
            try:
                await self.catch_up()
            except Exception as exc:  # the store or the index file briefly out of reach
                # An unreadable index names its file; other errors only their kind (they may quote a URL).
                reason = str(exc) if isinstance(exc, UnreadableIndex) else type(exc).__name__
                level = logging.DEBUG if reason == failing else logging.WARNING
                log.log(
                    level, "knowledge base: could not apply the store's changes (%s); trying again", reason
                )
                failing = reason
            else:
                if failing is not None:
                    log.info("knowledge base: applying the store's changes again")
                failing = None
            await asyncio.sleep(every)


__all__ = ["BATCH", "FOLLOW_EVERY_SECONDS", "KnowledgeFollower"]
