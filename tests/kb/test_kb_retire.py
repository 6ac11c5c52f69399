"""What the store keeps of knowledge no longer wanted (bot/kb/schedule.py ``KnowledgeSync.tidy``,
bot/kb/follow.py), on SQLite and PostgreSQL: a source taken out of bot.toml stops being found after the next
start (published KB drafts stay), and an index that has not followed the store for longer than the store
keeps removals is filled anew, without the articles removed meanwhile; so is, at start, an index past the
store's newest change (it followed another database, or the store was restored from an older backup), one
that followed another database whatever its change number (the store's identity tells), and one of an
older build that recorded no store."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.coordination.sync_claims import LocalSyncClaims
from bot.kb.follow import KnowledgeFollower
from bot.kb.index import KnowledgeBase
from bot.kb.schedule import REMOVALS_KEPT, RETIRE_AFTER, ConfiguredSource, KnowledgeSync
from bot.kb.sources.base import ArticleChange, SourceArticle
from bot.kb.sources.config import FolderSourceConfig
from bot.kb.sources.kinds import DRAFTS_SOURCE
from bot.store.open import open_store
from tests.kb.test_kb_follow import Instance  # an instance's sync and index, as there
from tests.store.conftest import another_store_url as another_store_url
from tests.store.conftest import open_store_at
from tests.store.conftest import store_url as store_url  # both backends, as the store's own tests

ROOT = Path(__file__).resolve().parents[2]
DRAFT = SourceArticle(
    key="draft-1",
    title="Crushed box",
    url="https://help.example/drafts/1",
    body="A crushed box is replaced free of charge: take a photo of it.",
    visibility="public",
)


def write(folder: Path, name: str, title: str, body: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(f"---\ntitle: {title}\nvisibility: public\n---\n{body}\n", encoding="utf-8")


def help_and_partner(tmp_path: Path) -> None:
    write(tmp_path / "help", "returns.md", "Returning an order", "Send the parcel back within 30 days.")
    write(tmp_path / "partner", "rental.md", "Renting a kayak", "Kayak rental costs 40 euros a day.")
    write(tmp_path / "partner", "deposit.md", "Kayak deposit", "The kayak deposit is refunded on return.")


INSURANCE = SourceArticle(
    "insurance", "Kayak insurance", "https://partner.example/insurance", "Insure your kayak.", "public"
)


def index_of_insurance(path: Path, *, seq: int) -> None:
    """An index file holding one partner article, at change number ``seq`` of whatever store it followed."""
    index = KnowledgeBase(path)
    index.apply([ArticleChange("partner", "insurance", INSURANCE)], seq=seq)
    index.close()


def folders(tmp_path: Path, *names: str) -> tuple[ConfiguredSource, ...]:
    """Folder sources, each named as its folder under ``tmp_path``: what a bot.toml names."""
    configs = [FolderSourceConfig(name=name, kind="folder", path=Path(name)) for name in names]
    return tuple(ConfiguredSource(config, config.open(tmp_path)) for config in configs)


class Clock:
    """Every instance's store reads this clock; the test moves it on."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


Start = Callable[[tuple[ConfiguredSource, ...], str], Awaitable[Instance]]


@pytest.fixture
async def instance(store_url: str, tmp_path: Path) -> AsyncIterator[tuple[Clock, Start]]:
    """Starts an instance: its bot.toml's sources, its own index file (by name: the same name is the
    same machine after a restart) and its own handle on the shared store, on the test's clock."""
    clock = Clock()
    async with AsyncExitStack() as stack:

        async def start(sources: tuple[ConfiguredSource, ...], index: str) -> Instance:
            store = await open_store_at(store_url, clock)
            stack.push_async_callback(store.close)
            kb = KnowledgeBase(tmp_path / f"{index}.sqlite3")
            stack.callback(kb.close)
            return Instance(
                KnowledgeSync(sources, store, KnowledgeFollower(kb, store), LocalSyncClaims()), kb
            )

        yield clock, start


async def test_a_source_taken_out_of_bot_toml_is_not_found_after_the_next_start_and_drafts_stay(
    tmp_path: Path, instance: tuple[Clock, Start], caplog: pytest.LogCaptureFixture
) -> None:
    clock, start = instance
    help_and_partner(tmp_path)
    before = await start(folders(tmp_path, "help", "partner"), "one")
    await before.knowledge.start()
    await before.knowledge.store.replace_articles(DRAFTS_SOURCE, [DRAFT], skipped=0)  # a published draft
    await before.knowledge.follower.catch_up()
    assert before.titles("kayak rental deposit")[:2] == ["Renting a kayak", "Kayak deposit"]

    # Restarted without the partner's folder in bot.toml, past the time another instance could still
    # be syncing it; a second instance with the same bot.toml only follows.
    clock.now += RETIRE_AFTER + timedelta(minutes=1)
    after = await start(folders(tmp_path, "help"), "one")
    other = await start(folders(tmp_path, "help"), "two")
    await other.knowledge.follower.catch_up()
    with caplog.at_level(logging.INFO, logger="bot.kb.schedule"):
        await after.knowledge.start()
        await other.knowledge.start()  # finds nothing left to retire
    await other.knowledge.follower.catch_up()

    for each in (after, other):
        assert each.titles("kayak rental deposit") == []
        assert each.titles("return the parcel")[:1] == ["Returning an order"]
        assert each.titles("crushed box photo")[:1] == ["Crushed box"]
    retired = [
        record.getMessage() for record in caplog.records if "no longer configured" in record.getMessage()
    ]
    assert retired == ["knowledge sync: partner is no longer configured: its 2 article(s) were removed"]
    statuses = await after.knowledge.store.source_statuses()
    assert [status.source for status in statuses] == [DRAFTS_SOURCE, "help"]


async def test_a_source_another_instance_synced_lately_is_kept(
    tmp_path: Path, instance: tuple[Clock, Start]
) -> None:
    """Two bot.toml files side by side (a rolling deploy): the instance without the partner's folder does
    not retire what the one with it has just synced."""
    clock, start = instance
    help_and_partner(tmp_path)
    newer = await start(folders(tmp_path, "help", "partner"), "one")
    older = await start(folders(tmp_path, "help"), "two")
    await newer.knowledge.start()
    clock.now += RETIRE_AFTER / 2
    await older.knowledge.start()
    assert older.titles("kayak rental deposit")[:2] == ["Renting a kayak", "Kayak deposit"]


async def test_an_index_behind_the_removals_the_store_keeps_is_filled_anew_without_them(
    tmp_path: Path, instance: tuple[Clock, Start]
) -> None:
    clock, start = instance
    help_and_partner(tmp_path)
    busy = await start(folders(tmp_path, "help", "partner"), "one")
    away = await start(folders(tmp_path, "help", "partner"), "two")
    await busy.knowledge.start()
    await away.knowledge.start()  # then stops following for longer than the store keeps removals
    assert away.titles("kayak deposit refunded")[0] == "Kayak deposit"

    (tmp_path / "partner" / "deposit.md").unlink()
    await busy.knowledge.sync()
    clock.now += timedelta(days=1)
    write(tmp_path / "help", "customs.md", "Customs fees", "Orders to Germany may owe customs duties.")
    await busy.knowledge.sync()
    clock.now += REMOVALS_KEPT
    await busy.knowledge.tidy()  # the deposit's removal is forgotten; the customs article is not

    assert await away.knowledge.follower.catch_up() > 0
    assert "Kayak deposit" not in away.titles("kayak deposit refunded")
    assert away.titles("customs duties Germany") == ["Customs fees"]
    assert away.titles("kayak rental") == ["Renting a kayak"]
    assert await away.knowledge.follower.catch_up() == 0  # caught up: not filled anew at every look


async def test_an_index_past_the_stores_newest_change_is_filled_anew_at_start(
    tmp_path: Path, instance: tuple[Clock, Start], caplog: pytest.LogCaptureFixture
) -> None:
    """Its own change number says it is up to date; the store's says it cannot be: it may hold articles
    this store never had or no longer has."""
    _, start = instance
    help_and_partner(tmp_path)
    index_of_insurance(tmp_path / "restored.sqlite3", seq=50)  # the store makes 3 changes
    machine = await start(folders(tmp_path, "help", "partner"), "restored")

    with caplog.at_level(logging.WARNING, logger="bot.kb.follow"):
        await machine.knowledge.start()

    assert [record.getMessage() for record in caplog.records] == [
        "knowledge base: the index is at change 50, past the store's newest change: it followed another "
        "database, or the store was restored from an older backup; filling it anew from the store"
    ]
    assert "Kayak insurance" not in machine.titles("kayak insurance")
    assert machine.titles("kayak rental")[:1] == ["Renting a kayak"]
    assert await machine.knowledge.follower.catch_up() == 0  # caught up: not filled anew at every look


async def test_an_index_of_another_database_is_filled_anew_at_start_and_kept_after(
    tmp_path: Path,
    instance: tuple[Clock, Start],
    another_store_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A copied data folder: its index followed another database through change 3, and this store makes 3
    changes too, so the change number alone looks current."""
    _, start = instance
    help_and_partner(tmp_path)
    other = await open_store(another_store_url)
    try:
        extras = [replace(INSURANCE, key=f"insurance-{n}") for n in (2, 3)]
        await other.replace_articles("partner", [INSURANCE, *extras], skipped=0)
        copied = KnowledgeBase(tmp_path / "copied.sqlite3")
        assert await KnowledgeFollower(copied, other).catch_up() == 3
        copied.close()
        other_id = (await other.article_changes(0, 1)).store_id
    finally:
        await other.close()
    machine = await start(folders(tmp_path, "help", "partner"), "copied")
    this_id = (await machine.knowledge.store.article_changes(0, 1)).store_id

    with caplog.at_level(logging.WARNING, logger="bot.kb.follow"):
        await machine.knowledge.start()
        assert [record.getMessage() for record in caplog.records] == [
            f"knowledge base: the index followed another database (store {other_id}, not this store "
            f"{this_id}); filling it anew from the store"
        ]
        assert "Kayak insurance" not in machine.titles("kayak insurance")
        assert machine.titles("kayak rental")[:1] == ["Renting a kayak"]

        caplog.clear()
        restarted = await start(folders(tmp_path, "help", "partner"), "copied")
        await restarted.knowledge.start()
        assert await restarted.knowledge.follower.catch_up() == 0
        assert caplog.records == []  # the same store: nothing filled anew
        assert restarted.titles("kayak rental")[:1] == ["Renting a kayak"]


async def test_an_index_that_records_no_store_is_filled_anew_once(
    tmp_path: Path, instance: tuple[Clock, Start], caplog: pytest.LogCaptureFixture
) -> None:
    """An index of a build from before stores had an identity, at a change number this store has
    passed: it may be another database's, so it is filled anew once, and records this store then."""
    _, start = instance
    help_and_partner(tmp_path)
    index_of_insurance(tmp_path / "older.sqlite3", seq=2)  # the store makes 3 changes
    machine = await start(folders(tmp_path, "help", "partner"), "older")

    with caplog.at_level(logging.WARNING, logger="bot.kb.follow"):
        await machine.knowledge.start()
        await machine.knowledge.follower.catch_up()

    assert [record.getMessage() for record in caplog.records] == [
        "knowledge base: the index is at change 2 and does not record which database it followed; "
        "filling it anew from the store"
    ]
    assert "Kayak insurance" not in machine.titles("kayak insurance")
    assert machine.titles("kayak deposit refunded")[:1] == ["Kayak deposit"]


async def test_kb_search_no_longer_finds_a_source_taken_out_of_bot_toml(
    tmp_path: Path, store_url: str
) -> None:
    """``supportbot kb search`` syncs and tidies as the bot does at start: the partner's article, synced
    an hour ago by a bot.toml that named it, is not found with a bot.toml that does not."""
    help_and_partner(tmp_path)
    store = await open_store_at(store_url, lambda: datetime.now(UTC) - timedelta(hours=1))
    try:
        rental = SourceArticle(
            "rental",
            "Renting a kayak",
            "https://partner.example/rental",
            "Kayak rental is 40 a day.",
            "public",
        )
        await store.replace_articles("partner", [rental], skipped=0)
    finally:
        await store.close()
    (tmp_path / "bot.toml").write_text('[[kb.sources]]\nname = "help"\nkind = "folder"\npath = "help"\n')
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "BOT_CONFIG_PATH": str(tmp_path / "bot.toml"),
        "KB_INDEX_PATH": str(tmp_path / "index" / "kb.sqlite3"),
        "DATABASE_URL": store_url,
    }

    async def search(query: str) -> list[tuple[str, str]]:
        command = [sys.executable, "-m", "bot", "kb", "search", "--json", *query.split()]
        result = await asyncio.to_thread(
            subprocess.run, command, cwd=tmp_path, env=env, capture_output=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        return [(hit["source"], hit["title"]) for hit in json.loads(result.stdout)]

    assert await search("kayak rental") == []
    assert await search("return the parcel") == [("help", "Returning an order")]
