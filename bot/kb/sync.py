"""Syncing knowledge sources into the store (docs/architecture.md §6).

A sync fetches one source whole (handing it the articles the store holds, so that it can ask its server
"changed since?"), writes the difference to the store in one transaction and says what changed. The store
is the truth every instance shares; each instance's search index follows its changes (``bot.kb.follow``).
A source that fails keeps its last good articles: nothing is written but the failure and why, and the
summary says so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.kb.sources.base import KnowledgeSource, Progress, Skipped, SourceError
from bot.store import KnowledgeStore

log = logging.getLogger(__name__)

#: The longest one source's fetch may take before it counts as failed.
FETCH_TIMEOUT_SECONDS = 3600.0
#: Skipped items named in a summary line; the rest are counted.
SKIPPED_SHOWN = 3


def _quiet(done: int, total: int | None) -> None:
    del done, total


@dataclass(frozen=True)
class SyncSummary:
    """What one source's sync did."""

    source: str
    articles: int
    """Live articles the source holds in the store after the sync (its last good ones if it failed)."""
    added: int = 0
    updated: int = 0
    removed: int = 0
    skipped: tuple[Skipped, ...] = ()
    error: str | None = None
    """Why the sync failed; None when it succeeded."""

    @property
    def failed(self) -> bool:
        return self.error is not None

    def fields(self) -> dict[str, object]:
        """The counts as log fields (``extra=``), for JSON logs."""
        return {
            "kb_source": self.source,
            "articles": self.articles,
            "articles_added": self.added,
            "articles_updated": self.updated,
            "articles_removed": self.removed,
            "articles_skipped": len(self.skipped),
            "failed": self.failed,
        }

    def line(self) -> str:
        """One line for a person: the counts, the first skipped items and why, or the failure."""
        if self.error is not None:
            kept = f"kept its {self.articles} articles from the last good sync"
            return f"{self.source}: FAILED ({self.error}); {kept}"
        line = (
            f"{self.source}: {self.articles} articles; {self.added} added, {self.updated} updated, "
            f"{self.removed} removed, {len(self.skipped)} skipped"
        )
        if self.skipped:
            shown = "; ".join(f"{item.key}: {item.reason}" for item in self.skipped[:SKIPPED_SHOWN])
            more = len(self.skipped) - SKIPPED_SHOWN
            line += f" ({shown}{f'; and {more} more' if more > 0 else ''})"
        return line


async def sync_source(
    source: KnowledgeSource,
    store: KnowledgeStore,
    progress: Progress = _quiet,
    *,
    fetch_timeout: float = FETCH_TIMEOUT_SECONDS,
) -> SyncSummary:
    """Fetch ``source`` and make the store hold what it holds now; never raises for the source's failure."""
    previous = await store.source_articles(source.name)
    try:
        async with asyncio.timeout(fetch_timeout):
            fetched = await source.fetch(previous, progress)
    except SourceError as exc:
        error = str(exc) or type(exc).__name__
    except TimeoutError:
        error = f"the fetch took longer than {fetch_timeout:g} s"
    except Exception as exc:  # a fault in a source's code: logged in full, kept short for the summary
        log.exception("knowledge sync: source %s failed unexpectedly", source.name)
        error = f"unexpected {type(exc).__name__} (see the log)"
    else:
        diff = await store.replace_articles(source.name, fetched.articles, len(fetched.skipped))
        summary = SyncSummary(
            source.name,
            len({article.key for article in fetched.articles}),
            len(diff.added),
            len(diff.updated),
            len(diff.removed),
            fetched.skipped,
        )
        log.info("knowledge sync: %s", summary.line(), extra=summary.fields())
        return summary
    await store.record_sync_failure(source.name, error)
    summary = SyncSummary(source.name, len(previous), error=error)
    log.warning("knowledge sync: %s", summary.line(), extra=summary.fields())
    return summary


async def sync_sources(
    sources: Sequence[KnowledgeSource],
    store: KnowledgeStore,
    progress_for: Callable[[str], Progress] = lambda name: _quiet,
) -> list[SyncSummary]:
    """Sync each of ``sources`` in turn; one's failure does not stop the others."""
    return [await sync_source(source, store, progress_for(source.name)) for source in sources]


__all__ = ["FETCH_TIMEOUT_SECONDS", "SyncSummary", "sync_source", "sync_sources"]
