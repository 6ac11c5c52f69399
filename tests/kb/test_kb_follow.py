"""Several instances sharing one PostgreSQL store (bot/kb/follow.py, bot/kb/schedule.py): an article synced
by one instance is found by another's search within seconds, an edit replaces the old text and a removal
leaves no hit; with Redis, one instance fetches a source per interval."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.coordination.redis_client import SharedRedis
from bot.coordination.sync_claims import LocalSyncClaims, SyncClaims
from bot.coordination.sync_claims_redis import RedisSyncClaims
from bot.kb.follow import KnowledgeFollower
from bot.kb.index import KnowledgeBase
from bot.kb.schedule import ConfiguredSource, KnowledgeSync
from bot.kb.sources.base import Fetched, Progress, SourceArticle
from bot.kb.sources.config import FolderSourceConfig
from bot.store.open import open_store


def write(folder: Path, name: str, title: str, body: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(f"---\ntitle: {title}\nvisibility: public\n---\n{body}\n", encoding="utf-8")


@dataclass
class Instance:
    knowledge: KnowledgeSync
    kb: KnowledgeBase

    def titles(self, query: str) -> list[str]:
        return [hit.title for hit in self.kb.search(query, include_internal=False, limit=5)]


Start = Callable[..., Awaitable[Instance]]


@pytest.fixture
async def start_instance(pg_schema_url: str, tmp_path: Path) -> AsyncIterator[Start]:
    """Starts an instance: its own store pool and index file, the shared database, the folder source."""
    async with AsyncExitStack() as stack:
        count = 0

        async def start(sources: tuple[ConfiguredSource, ...], claims: SyncClaims | None = None) -> Instance:
            nonlocal count
            count += 1
            store = await open_store(pg_schema_url)
            stack.push_async_callback(store.close)
            kb = KnowledgeBase(tmp_path / f"index-{count}.sqlite3")
            stack.callback(kb.close)
            knowledge = KnowledgeSync(
                sources, store, KnowledgeFollower(kb, store), claims or LocalSyncClaims()
            )
            return Instance(knowledge, kb)

        yield start


def folder(tmp_path: Path, sync_every: float | None = None) -> tuple[ConfiguredSource, ...]:
    config = FolderSourceConfig(name="help-center", kind="folder", path=Path("docs"), sync_every=sync_every)
    return (ConfiguredSource(config, config.open(tmp_path)),)


async def eventually(check: Callable[[], bool], within: float = 5.0) -> float:
    """Seconds until ``check()`` held; fails after ``within``."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > within:
            raise AssertionError(f"not within {within} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_an_article_synced_on_one_instance_is_found_on_the_other(
    tmp_path: Path, start_instance: Start
) -> None:
    docs = tmp_path / "docs"
    write(docs, "returns.md", "Returning an order", "Send the parcel back within 30 days for a refund.")
    write(docs, "gift-cards.md", "Gift cards", "Gift cards never expire and work online.")
    one = await start_instance(folder(tmp_path))
    two = await start_instance(folder(tmp_path))
    await one.knowledge.start()
    follower = asyncio.create_task(two.knowledge.run(follow_every=0.2))
    try:
        await eventually(lambda: two.titles("gift card expire") == ["Gift cards"])

        write(docs, "customs.md", "Customs fees", "Orders to Germany may owe customs duties on arrival.")
        write(docs, "returns.md", "Returning an order", "Send the parcel back within 60 days for a refund.")
        (docs / "gift-cards.md").unlink()
        [summary] = await one.knowledge.sync()
        assert (summary.added, summary.updated, summary.removed) == (1, 1, 1)

        await eventually(lambda: two.titles("customs duties Germany") == ["Customs fees"])
        await eventually(lambda: "Gift cards" not in two.titles("gift card expire"))
        hits = two.kb.search("how many days to send back", include_internal=False)
        assert "60 days" in hits[0].snippet and "30 days" not in hits[0].snippet
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)


class CountingSource:
    """A source that counts its fetches (which instance fetched), around a real folder source."""

    def __init__(self, inner: ConfiguredSource, fetches: list[str], who: str) -> None:
        self._inner = inner.source
        self._fetches = fetches
        self._who = who
        self.name = inner.name

    async def fetch(self, previous: Mapping[str, SourceArticle], progress: Progress) -> Fetched:
        self._fetches.append(self._who)
        return await self._inner.fetch(previous, progress)


async def test_with_redis_one_instance_fetches_a_source_per_interval(
    tmp_path: Path, start_instance: Start, redis_url: str, redis_prefix: str
) -> None:
    write(tmp_path / "docs", "returns.md", "Returning an order", "Within 30 days.")
    [configured] = folder(tmp_path, sync_every=1.0)
    fetches: list[str] = []
    clients: list[SharedRedis] = []
    runs: list[asyncio.Task[None]] = []
    for who in ("one", "two", "three"):
        clients.append(await SharedRedis.connect(redis_url, redis_prefix))
        source = ConfiguredSource(configured.config, CountingSource(configured, fetches, who))
        instance = await start_instance((source,), RedisSyncClaims(clients[-1]))
        runs.append(asyncio.create_task(instance.knowledge.run(follow_every=0.2)))
    started = time.time()
    await asyncio.sleep(3.5)
    intervals = int(time.time()) - int(started) + 1  # the one-second intervals the run touched
    for task in runs:
        task.cancel()
    await asyncio.gather(*runs, return_exceptions=True)
    for client in clients:
        await client.close()
    # One fetch per interval, whichever instance claimed it: three instances, not three times as many.
    assert 3 <= len(fetches) <= intervals
