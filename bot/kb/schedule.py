"""The configured knowledge sources of a running bot, and when they sync (docs/architecture.md §6).

- At start, folder sources are synced (reading local files is cheap and needs no token), so the default
  ``KB_PATH`` folder is searchable on a fresh machine; then the local index catches up with the store.
- In ``supportbot serve``, each source with ``sync_every`` is synced once per interval by one instance
  (a claim per source and interval, ``bot.coordination.sync_claims``: Redis when ``REDIS_URL`` is set),
  and the index follows the store's changes every few seconds (``bot.kb.follow``), whichever instance
  synced.
- ``supportbot kb sync`` and ``/support kb reload`` sync on demand.
- At start, and in ``serve`` once per :data:`TIDY_EVERY_SECONDS` by one instance, the store is tidied
  (:meth:`KnowledgeSync.tidy`): the sources bot.toml no longer names are retired (their articles removed,
  as any removal, so that every index drops them), and the rows of removals older than
  :data:`REMOVALS_KEPT` are forgotten.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

from bot.coordination.sync_claims import SyncClaims
from bot.kb.follow import FOLLOW_EVERY_SECONDS, KnowledgeFollower
from bot.kb.sources.base import KnowledgeSource, Progress
from bot.kb.sources.kinds import DRAFTS_SOURCE, KnowledgeConfig, SourceConfigs
from bot.kb.sync import SyncSummary, sync_source
from bot.store import KnowledgeStore

log = logging.getLogger(__name__)

#: The kinds read from this machine's disk, synced at every start.
LOCAL_KINDS = frozenset({"folder"})
RETIRE_AFTER = timedelta(minutes=15)
"""A source this instance's bot.toml does not name is retired once no instance has tried to sync it for
this long (see :meth:`KnowledgeSync.tidy`): longer than a rolling deploy, in which instances of the old
and the new bot.toml run side by side."""
REMOVALS_KEPT = timedelta(days=30)
"""How long the store keeps the row of a removed article, from which followers learn of the removal; an
index that has not followed the store for longer is filled anew from it (``bot.kb.follow``)."""
TIDY_EVERY_SECONDS = 300.0
"""Seconds between the store's tidying passes in ``supportbot serve`` (one instance per interval)."""
#: The claim of a tidying pass, apart from every source's (a source's name has no space).
TIDY_CLAIM = "kb tidy"


class UnknownSource(LookupError):
    """A source name that no ``[[kb.sources]]`` table has; the message names the ones there are."""


@dataclass(frozen=True)
class ConfiguredSource:
    config: SourceConfigs
    source: KnowledgeSource

    @property
    def name(self) -> str:
        return self.config.name


def open_sources(config: KnowledgeConfig, kb_path: Path, base_dir: Path) -> tuple[ConfiguredSource, ...]:
    """The configured sources (or the ``KB_PATH`` folder), relative paths against ``base_dir`` (the folder
    of config/bot.toml)."""
    return tuple(ConfiguredSource(item, item.open(base_dir)) for item in config.configured(kb_path))


def _quiet(name: str) -> Progress:
    return lambda done, total: None


class KnowledgeSync:
    """Syncs the configured sources into the store and keeps the local index following it."""

    def __init__(
        self,
        sources: Sequence[ConfiguredSource],
        store: KnowledgeStore,
        follower: KnowledgeFollower,
        claims: SyncClaims,
    ) -> None:
        self.sources = tuple(sources)
        self.store = store
        self.follower = follower
        self._claims = claims

    def select(self, name: str | None = None) -> tuple[ConfiguredSource, ...]:
        """Every source, or the one named; :class:`UnknownSource` for a name no source has."""
        if name is None:
            return self.sources
        chosen = tuple(item for item in self.sources if item.name == name)
        if not chosen:
            names = ", ".join(item.name for item in self.sources)
            raise UnknownSource(f"no knowledge source is named {name!r} (the sources: {names})")
        return chosen

    async def sync(
        self, name: str | None = None, progress_for: Callable[[str], Progress] = _quiet
    ) -> list[SyncSummary]:
        """Sync every source (or the one named) now, then bring the local index up to date."""
        chosen = self.select(name)
        summaries = [await sync_source(item.source, self.store, progress_for(item.name)) for item in chosen]
        await self.follower.catch_up()
        return summaries

    async def start(self) -> list[SyncSummary]:
        """At start: sync the local (folder) sources, tidy the store, then catch the index up with it."""
        summaries = await self.sync_local()
        await self.follower.catch_up()
        return summaries

    async def sync_local(self) -> list[SyncSummary]:
        """Sync the local (folder) sources and tidy the store: a start before the index catches up."""
        local = [item for item in self.sources if item.config.kind in LOCAL_KINDS]
        summaries = [await sync_source(item.source, self.store) for item in local]
        await self.tidy()
        return summaries

    async def tidy(self) -> None:
        """Retire the sources this instance's bot.toml does not name, and forget old removals.

        A retired source's articles are removed in the store (each removal numbered, as a sync's), so
        that every instance's index drops them; one line is logged per source. The published KB drafts'
        source is never retired, nor is anything while this instance has no configured source: a
        ``KnowledgeSync`` exists only once bot.toml has loaded and every source opened (a bot.toml that
        fails to load stops the start), and the list is never empty then.

        Several instances: each tidies at start, and in ``serve`` one per interval (a claim, in Redis
        when ``REDIS_URL`` is set). The store retires a source in one transaction that takes turns with
        the syncs and forgets the source's sync record with its articles, so a second pass finds nothing
        left: a source is retired, and logged, once. Instances may run different bot.toml files for a
        while (a rolling deploy); then a source is retired only when no instance has tried to sync it
        for :data:`RETIRE_AFTER` too: an instance whose bot.toml names it keeps it by syncing it, so an
        instance with the old file does not retire a source the new one added and synced, and a source
        the new file dropped goes once the old instances stop syncing it. The cost: a dropped source's
        articles stay searchable until :data:`RETIRE_AFTER` after its last sync (and the next pass),
        and a source only synced by hand that an instance without it in its bot.toml finds idle is
        retired: its next sync (``supportbot kb sync``) brings it back whole.
        """
        configured = {item.name for item in self.sources}
        if configured:
            retired = await self.store.retire_sources(configured | {DRAFTS_SOURCE}, RETIRE_AFTER)
            for source, articles in retired.items():
                log.info(
                    "knowledge sync: %s is no longer configured: its %d article(s) were removed",
                    source,
                    articles,
                    extra={"kb_source": source, "articles_removed": articles},
                )
        await self.store.forget_removals(REMOVALS_KEPT)

    async def run(self, follow_every: float = FOLLOW_EVERY_SECONDS) -> None:
        """``serve``'s loops until cancelled: the index following the store, each source with
        ``sync_every`` synced once per interval by one instance, and the store tidied likewise."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self.follower.run(follow_every))
            for item in self.sources:
                if item.config.sync_every is not None:
                    sync = partial(sync_source, item.source, self.store)
                    group.create_task(self._every(item.name, item.config.sync_every, sync))
            group.create_task(self._every(TIDY_CLAIM, TIDY_EVERY_SECONDS, self.tidy))

    async def _every(self, name: str, every: float, work: Callable[[], Awaitable[object]]) -> None:
        """``work`` then the index caught up, once per interval of ``every`` seconds by the instance that
        claims it."""
        while True:
            interval = int(time.time() // every)
            try:
                if await self._claims.claim(f"{name}:{interval}", every):
                    await work()
                    await self.follower.catch_up()
            except Exception as exc:  # the store out of reach: the next interval tries again
                log.warning("knowledge sync: %s could not run (%s)", name, type(exc).__name__)
            await asyncio.sleep(max(0.0, (interval + 1) * every - time.time()))


__all__ = [
    "LOCAL_KINDS",
    "REMOVALS_KEPT",
    "RETIRE_AFTER",
    "TIDY_EVERY_SECONDS",
    "ConfiguredSource",
    "KnowledgeSync",
    "UnknownSource",
    "open_sources",
]
