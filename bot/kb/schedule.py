"""The configured knowledge sources of a running bot, and when they sync (docs/architecture.md §6).

- At start, folder sources are synced (reading local files is cheap and needs no token), so the default
  ``KB_PATH`` folder is searchable on a fresh machine; then the local index catches up with the store.
- In ``supportbot serve``, each source with ``sync_every`` is synced once per interval by one instance
  (a claim per source and interval, ``bot.coordination.sync_claims``: Redis when ``REDIS_URL`` is set),
  and the index follows the store's changes every few seconds (``bot.kb.follow``), whichever instance
  synced.
- ``supportbot kb sync`` and ``/support kb reload`` sync on demand.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.coordination.sync_claims import SyncClaims
from bot.kb.follow import FOLLOW_EVERY_SECONDS, KnowledgeFollower
from bot.kb.sources.base import KnowledgeSource, Progress
from bot.kb.sources.kinds import KnowledgeConfig, SourceConfigs
from bot.kb.sync import SyncSummary, sync_source
from bot.store import KnowledgeStore

log = logging.getLogger(__name__)

#: The kinds read from this machine's disk, synced at every start.
LOCAL_KINDS = frozenset({"folder"})


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
        """At start: sync the local (folder) sources, then catch the index up with the store."""
        local = [item for item in self.sources if item.config.kind in LOCAL_KINDS]
        summaries = [await sync_source(item.source, self.store) for item in local]
        await self.follower.catch_up()
        return summaries

    async def run(self, follow_every: float = FOLLOW_EVERY_SECONDS) -> None:
        """``serve``'s loops until cancelled: the index following the store, and each source with
        ``sync_every`` synced once per interval by one instance."""
        scheduled = [item for item in self.sources if item.config.sync_every is not None]
        async with asyncio.TaskGroup() as group:
            group.create_task(self.follower.run(follow_every))
            for item in scheduled:
                group.create_task(self._every(item))

    async def _every(self, item: ConfiguredSource) -> None:
        every = item.config.sync_every
        assert every is not None  # only scheduled sources get here
        while True:
            interval = int(time.time() // every)
            try:
                if await self._claims.claim(f"{item.name}:{interval}", every):
                    await sync_source(item.source, self.store)
                    await self.follower.catch_up()
            except Exception as exc:  # the store out of reach: the next interval tries again
                log.warning("knowledge sync: %s could not be synced (%s)", item.name, type(exc).__name__)
            await asyncio.sleep(max(0.0, (interval + 1) * every - time.time()))


__all__ = ["LOCAL_KINDS", "ConfiguredSource", "KnowledgeSync", "UnknownSource", "open_sources"]
