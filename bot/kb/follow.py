"""Keeping this process's search index current from the store's article changes (docs/architecture.md §6).

The store holds every source's articles and numbers each change (``KnowledgeStore.article_changes``); the
local index (``KnowledgeBase``) records the number it has applied through (``seq``) and the identity of the
store it applied them from (``ChangeBatch.store_id``). Following is applying the changes after that number,
in bounded batches, each batch in one index transaction; in ``supportbot serve`` it runs every few seconds,
so that an article synced on any instance is searchable on every instance within seconds.

An index is emptied and filled anew from the store, with one warning saying why, when what it holds may not
be the store's: when it followed another database (its recorded identity is another store's: a copied data
folder, a changed ``DATABASE_URL``), or has applied changes without recording a store (an index from before
stores had an identity); when the store forgot removals it has not applied yet (``ChangeBatch.restart``:
removals are kept for ``bot.kb.schedule.REMOVALS_KEPT``), so that no article removed meanwhile stays
searchable; and when it has applied more changes than the store has made (``ChangeBatch.ahead``: another
database, or this one before it was restored from an older backup).
"""

from __future__ import annotations

import asyncio
import logging

from bot.kb.index import KnowledgeBase, UnreadableIndex
from bot.store import KnowledgeStore
from bot.store.records import ChangeBatch

log = logging.getLogger(__name__)

#: Changes read from the store and applied to the index at once.
BATCH = 500
#: Seconds between looks at the store in ``supportbot serve``.
FOLLOW_EVERY_SECONDS = 2.0


def _why_fill_anew(batch: ChangeBatch, seq: int, followed: str | None) -> str | None:
    """Why an index at change ``seq`` that followed the store ``followed`` may hold what this store does
    not have, given the store's answer ``batch`` (and so must be filled anew); None when it need not be."""
    if followed is not None and followed != batch.store_id:
        return f"the index followed another database (store {followed}, not this store {batch.store_id})"
    if batch.ahead:
        return (
            f"the index is at change {seq}, past the store's newest change: it followed another database, "
            "or the store was restored from an older backup"
        )
    if batch.restart:
        return f"the index is at change {seq}, older than the removals the store keeps"
    if followed is None and seq > 0:
        return f"the index is at change {seq} and does not record which database it followed"
    return None


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
        that it never falls back to indexing a folder by itself; an index that records no store yet
        records this one then, whatever it applies.
        """
        seq, followed = await asyncio.to_thread(self._kb.followed)
        applied = 0
        while True:
            batch = await self._store.article_changes(seq, self._batch)
            why = _why_fill_anew(batch, seq, followed)
            if why is not None:
                log.warning("knowledge base: %s; filling it anew from the store", why)
                await asyncio.to_thread(self._kb.clear)
                seq, followed = 0, None
                continue
            if not batch.changes and self._fed and followed is not None:
                return applied
            await self._kb.aapply(batch.changes, seq=batch.seq, store_id=batch.store_id)
            self._fed = True
            followed = batch.store_id
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
