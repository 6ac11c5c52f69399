"""The knowledge sources' articles on every store backend (``conftest.BACKENDS``): replacing a source's
articles says what changed, every change (removals too) is numbered once, and followers read them back (one
past the newest change is told to start again), with the identity of the store they come from (one per
database, made once, kept); a source no instance syncs any more is retired, and old removals are
forgotten."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.kb.sources.base import ArticleChange, SourceArticle
from bot.store import Store
from bot.store.knowledge import MAX_CHANGES
from bot.store.migrations import postgres as postgres_migrations
from bot.store.migrations import sqlite as sqlite_migrations
from bot.store.open import open_store, parse_sqlite_url, url_scheme
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SQLiteStore
from tests.store.conftest import OpenStore, open_store_at


def art(key: str, body: str = "", *, validator: str | None = None) -> SourceArticle:
    return SourceArticle(
        key=key,
        title=f"About {key}",
        url=f"https://help.example/{key}",
        body=body or f"All about {key}.",
        visibility="public",
        tags=("a", "b"),
        locale="en",
        validator=validator,
    )


async def test_replace_says_what_changed_and_numbers_each_change(store: Store) -> None:
    first = await store.replace_articles("help", [art("returns"), art("shipping"), art("refunds")], skipped=1)
    assert (sorted(first.added), first.updated, first.removed, first.seq) == (
        ["refunds", "returns", "shipping"],
        (),
        (),
        3,
    )

    edited = art("returns", "Returns are free for 60 days.")
    second = await store.replace_articles("help", [edited, art("shipping", validator='"v2"')], skipped=0)
    assert (second.added, second.updated, second.removed) == ((), ("returns",), ("refunds",))
    assert second.seq == 5  # a new validator alone is no change a reader sees

    held = await store.source_articles("help")
    assert held == {"returns": edited, "shipping": art("shipping", validator='"v2"')}

    batch = await store.article_changes(3, limit=100)
    assert batch.seq == 5
    assert batch.changes == (
        ArticleChange("help", "returns", edited),
        ArticleChange("help", "refunds", None),
    )


async def test_an_unchanged_resync_changes_nothing(store: Store) -> None:
    articles = [art("returns"), art("shipping")]
    await store.replace_articles("help", articles, skipped=0)
    again = await store.replace_articles("help", articles, skipped=0)
    assert (again.added, again.updated, again.removed, again.seq) == ((), (), (), 2)
    assert (await store.article_changes(2, limit=10)).changes == ()


async def test_a_follower_past_the_newest_change_starts_again(store: Store) -> None:
    """It followed another database, or this one before it was restored from an older backup."""
    await store.replace_articles("help", [art("returns"), art("shipping")], skipped=0)  # 1, 2
    assert (await store.article_changes(2, limit=10)).restart is False  # caught up
    ahead = await store.article_changes(3, limit=10)
    assert (ahead.changes, ahead.seq, ahead.restart, ahead.ahead) == ((), 3, True, True)
    assert (await store.article_changes(0, limit=10)).ahead is False


STORE_IDENTITY = 16  # the migration that gives each database its identity


async def open_before_identity(url: str) -> Store:
    """The store at ``url`` with its schema brought only to the version before :data:`STORE_IDENTITY`:
    a database of an older build."""
    if url_scheme(url) == "sqlite":
        older = [m for m in sqlite_migrations.MIGRATIONS if m.version < STORE_IDENTITY]
        return await SQLiteStore.open(Path(parse_sqlite_url(url).path), migrations=older)
    older = [m for m in postgres_migrations.MIGRATIONS if m.version < STORE_IDENTITY]
    return await PostgresStore.open(url, migrations=older)


async def store_id(url: str) -> str:
    """The identity the store at ``url`` gives followers, read by a handle of its own (a restart)."""
    store = await open_store(url)
    try:
        batches = [await store.article_changes(after, limit=10) for after in (0, 1, 99)]  # 99: ahead
    finally:
        await store.close()
    [identity] = {batch.store_id for batch in batches}
    return identity


async def test_each_database_has_an_identity_made_once_and_its_own(
    store_url: str, another_store_url: str
) -> None:
    """A database of an older build gets one when migrated, and keeps it; another database has another,
    so that an index built from one is told apart from the other's (bot/kb/follow.py)."""
    older = await open_before_identity(store_url)
    try:
        await older.replace_articles("help", [art("returns")], skipped=0)
    finally:
        await older.close()

    migrated = await store_id(store_url)
    assert uuid.UUID(migrated).version == 4
    assert str(uuid.UUID(migrated)) == migrated  # the usual spelling: lower case, with hyphens
    assert await store_id(store_url) == migrated  # reopened: the same
    another = await store_id(another_store_url)
    assert uuid.UUID(another).version == 4
    assert another != migrated


async def test_a_removed_article_comes_back_and_a_repeated_key_keeps_the_first(store: Store) -> None:
    await store.replace_articles("help", [art("returns")], skipped=0)
    await store.replace_articles("help", [], skipped=0)
    back = await store.replace_articles(
        "help", [art("returns", "first"), art("returns", "second")], skipped=0
    )
    assert back.added == ("returns",)
    assert (await store.source_articles("help"))["returns"].body == "first"


async def test_sources_are_kept_apart_and_changes_come_in_bounded_batches(store: Store) -> None:
    await store.replace_articles("help", [art(f"h{n}") for n in range(5)], skipped=0)
    await store.replace_articles("partner", [art("p1")], skipped=0)
    await store.replace_articles("help", [], skipped=0)
    assert set(await store.source_articles("partner")) == {"p1"}
    assert await store.source_articles("help") == {}

    seen: list[ArticleChange] = []
    seq = 0
    while True:
        batch = await store.article_changes(seq, limit=2)
        if not batch.changes:
            break
        assert len(batch.changes) <= 2
        seen.extend(batch.changes)
        seq = batch.seq
    # Each article's newest state once: p1 as it is, the help articles as removed.
    assert seen == [ArticleChange("partner", "p1", art("p1"))] + [
        ArticleChange("help", f"h{n}", None) for n in range(5)
    ]
    assert seq == 11
    with pytest.raises(ValueError, match="limit"):
        await store.article_changes(0, limit=0)
    assert MAX_CHANGES >= 100


async def test_status_records_the_last_success_and_a_failure_keeps_the_articles(store: Store) -> None:
    await store.replace_articles("help", [art("returns"), art("shipping")], skipped=2)
    [ok] = await store.source_statuses()
    assert (ok.source, ok.last_error, ok.articles, ok.added, ok.skipped) == ("help", None, 2, 2, 2)
    assert ok.last_success_at == ok.last_attempt_at

    await store.record_sync_failure("help", "https://help.example/sitemap.xml: HTTP 503\nService Unavailable")
    [failed] = await store.source_statuses()
    assert failed.last_error == "https://help.example/sitemap.xml: HTTP 503 Service Unavailable"
    assert failed.last_success_at == ok.last_success_at
    assert failed.last_attempt_at >= ok.last_attempt_at
    assert failed.articles == 2
    assert set(await store.source_articles("help")) == {"returns", "shipping"}

    await store.record_sync_failure("new-source", "cannot reach the server")
    statuses = {status.source: status for status in await store.source_statuses()}
    assert statuses["new-source"].last_success_at is None
    assert statuses["new-source"].articles == 0

    await store.replace_articles("help", [art("returns")], skipped=0)
    statuses = {status.source: status for status in await store.source_statuses()}
    assert (statuses["help"].last_error, statuses["help"].removed, statuses["help"].articles) == (None, 1, 1)


async def test_text_the_database_may_refuse_is_kept(store: Store) -> None:
    odd = replace(art("odd"), title="Nul\x00 title", body="A body with a NUL\x00 and ünïcödé 🚚")
    await store.replace_articles("help", [odd], skipped=0)
    kept = (await store.source_articles("help"))["odd"]
    assert kept.body.startswith("A body with a NUL") and kept.body.endswith("ünïcödé 🚚")


async def test_concurrent_syncs_number_changes_in_commit_order(open_another: OpenStore) -> None:
    """Two instances syncing at once: every change has its own number, and a follower that read up to a
    number never misses a change numbered below it."""
    one, two = await open_another(), await open_another()
    await asyncio.gather(
        *(
            handle.replace_articles(f"s{n}", [art(f"k{n}-{i}") for i in range(20)], skipped=0)
            for n, handle in enumerate([one, two, one, two])
        )
    )
    batch = await one.article_changes(0, limit=1000)
    assert len(batch.changes) == 80
    assert batch.seq == 80
    assert len({(change.source, change.key) for change in batch.changes}) == 80


class Clock:
    """The store's clock, moved on by the test."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def clock_and_store(store_url: str) -> AsyncIterator[tuple[Clock, Store]]:
    clock = Clock()
    store = await open_store_at(store_url, clock)
    yield clock, store
    await store.close()


async def test_a_source_no_one_syncs_any_more_is_retired_once_and_its_removals_numbered(
    clock_and_store: tuple[Clock, Store],
) -> None:
    clock, store = clock_and_store
    await store.replace_articles("help", [art("returns")], skipped=0)
    await store.replace_articles("old-partner", [art("rental"), art("deposit")], skipped=0)
    await store.replace_articles("drafts", [art("draft-1")], skipped=0)
    await store.record_sync_failure("never-worked", "cannot reach the server")
    keep = {"help", "drafts"}

    clock.now += timedelta(minutes=10)  # another instance may still have it in its bot.toml: kept
    assert await store.retire_sources(keep, idle_for=timedelta(minutes=15)) == {}
    assert set(await store.source_articles("old-partner")) == {"rental", "deposit"}

    clock.now += timedelta(minutes=10)
    retired = await store.retire_sources(keep, idle_for=timedelta(minutes=15))
    assert retired == {"old-partner": 2, "never-worked": 0}
    assert await store.source_articles("old-partner") == {}
    assert set(await store.source_articles("help")) == {"returns"}
    assert set(await store.source_articles("drafts")) == {"draft-1"}
    assert [status.source for status in await store.source_statuses()] == ["drafts", "help"]
    # The removals are changes like a sync's: a follower after number 4 learns of both.
    batch = await store.article_changes(4, limit=10)
    assert sorted(batch.changes, key=lambda change: change.key) == [
        ArticleChange("old-partner", "deposit", None),
        ArticleChange("old-partner", "rental", None),
    ]
    assert batch.seq == 6

    assert await store.retire_sources(keep, idle_for=timedelta(minutes=15)) == {}  # once
    # Synced again (its source is back in a bot.toml): its articles come back.
    back = await store.replace_articles("old-partner", [art("rental")], skipped=0)
    assert back.added == ("rental",)


async def test_old_removals_are_forgotten_and_a_follower_behind_them_starts_again(
    clock_and_store: tuple[Clock, Store],
) -> None:
    clock, store = clock_and_store
    await store.replace_articles("help", [art("returns"), art("shipping"), art("refunds")], skipped=0)
    follower_seq = (await store.article_changes(0, limit=10)).seq  # a follower that then stops: 3
    await store.replace_articles("help", [art("returns")], skipped=0)  # 4, 5: two removals
    clock.now += timedelta(days=10)
    await store.replace_articles("help", [art("returns"), art("customs")], skipped=0)  # 6

    assert await store.forget_removals(timedelta(days=30)) == 0
    clock.now += timedelta(days=21)
    assert await store.forget_removals(timedelta(days=30)) == 2

    behind = await store.article_changes(follower_seq, limit=10)
    assert (behind.changes, behind.restart) == ((), True)
    again = await store.article_changes(0, limit=10)
    assert again.changes == (
        ArticleChange("help", "returns", art("returns")),
        ArticleChange("help", "customs", art("customs")),
    )
    assert (again.seq, again.restart) == (6, False)
    assert (await store.article_changes(5, limit=10)).changes == (
        ArticleChange("help", "customs", art("customs")),
    )

    # The newest change a forgotten removal: a follower from 0 ends past it, and does not start again.
    await store.replace_articles("help", [], skipped=0)  # 7, 8
    clock.now += timedelta(days=31)
    assert await store.forget_removals(timedelta(days=30)) == 2
    empty = await store.article_changes(0, limit=10)
    assert (empty.changes, empty.seq, empty.restart) == ((), 8, False)
    assert (await store.article_changes(8, limit=10)).restart is False
    assert (await store.article_changes(6, limit=10)).restart is True
