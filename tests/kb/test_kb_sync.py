"""Syncing a source into the store (bot/kb/sync.py), with a real folder source and a real SQLite store:
what a re-sync adds, updates and removes, what is skipped and why, and a failing source keeping its last
good articles."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.kb.sources.base import Skipped
from bot.kb.sources.config import FolderSourceConfig
from bot.kb.sync import SyncSummary, sync_source, sync_sources
from bot.store import Store
from bot.store.open import open_store


def write(folder: Path, name: str, title: str, body: str, visibility: str = "public") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = f"---\ntitle: {title}\nvisibility: {visibility}\n---\n{body}\n"
    (folder / name).write_text(text, encoding="utf-8")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(f"sqlite:///{tmp_path / 'store.db'}")
    yield opened
    await opened.close()


async def test_resync_adds_updates_removes_and_says_what_it_skipped(tmp_path: Path, store: Store) -> None:
    docs = tmp_path / "docs"
    write(docs, "returns.md", "Returns", "Send it back within 30 days.")
    write(docs, "shipping.md", "Shipping", "We ship in two days.")
    (docs / "broken.md").write_text("---\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    source = FolderSourceConfig(name="help-center", kind="folder", path=docs).open(tmp_path)

    seen: list[tuple[int, int | None]] = []
    first = await sync_source(source, store, lambda done, total: seen.append((done, total)))
    assert (first.articles, first.added, first.updated, first.removed) == (2, 2, 0, 0)
    assert [item.key for item in first.skipped] == ["broken.md"]
    assert first.line().startswith(
        "help-center: 2 articles; 2 added, 0 updated, 0 removed, 1 skipped (broken.md: "
    )
    assert seen[-1] == (3, 3)

    write(docs, "returns.md", "Returns", "Send it back within 60 days.")
    (docs / "shipping.md").unlink()
    second = await sync_source(source, store)
    assert (second.articles, second.added, second.updated, second.removed) == (1, 0, 1, 1)
    held = await store.source_articles("help-center")
    assert list(held) == ["returns.md"]
    assert "60 days" in held["returns.md"].body

    again = await sync_source(source, store)
    assert (again.added, again.updated, again.removed) == (0, 0, 0)


async def test_a_failing_source_keeps_its_last_good_articles_and_says_why(
    tmp_path: Path, store: Store
) -> None:
    docs = tmp_path / "docs"
    write(docs, "returns.md", "Returns", "Send it back within 30 days.")
    source = FolderSourceConfig(name="help-center", kind="folder", path=docs).open(tmp_path)
    await sync_source(source, store)

    shutil.rmtree(docs)
    failed = await sync_source(source, store)
    assert failed.failed
    assert failed.articles == 1
    assert "does not exist" in (failed.error or "")
    assert failed.line().startswith("help-center: FAILED (")
    assert failed.line().endswith("kept its 1 articles from the last good sync")
    assert list(await store.source_articles("help-center")) == ["returns.md"]
    [status] = await store.source_statuses()
    assert status.last_error == failed.error
    assert status.last_success_at is not None and status.last_success_at < status.last_attempt_at


async def test_one_failing_source_does_not_stop_the_others(tmp_path: Path, store: Store) -> None:
    write(tmp_path / "ours", "returns.md", "Returns", "Within 30 days.")
    ours = FolderSourceConfig(name="ours", kind="folder", path=Path("ours")).open(tmp_path)
    gone = FolderSourceConfig(name="gone", kind="folder", path=Path("missing")).open(tmp_path)
    summaries = await sync_sources([gone, ours], store)
    assert [(summary.source, summary.failed) for summary in summaries] == [("gone", True), ("ours", False)]
    assert list(await store.source_articles("ours")) == ["returns.md"]


def test_a_summary_line_names_the_first_skipped_items_and_counts_the_rest() -> None:
    summary = SyncSummary("site", 3, 1, 0, 0, tuple(Skipped(f"p{n}", "draft") for n in range(5)))
    assert summary.line() == (
        "site: 3 articles; 1 added, 0 updated, 0 removed, 5 skipped"
        " (p0: draft; p1: draft; p2: draft; and 2 more)"
    )
