"""`supportbot kb index [--force]` as an operator runs it on a machine that follows the store
(bot/run/kb_cli.py, bot/kb/follow.py): without ``--force`` the index is caught up from the change it says it
has applied, unless it says more than the store has made (another database's index, or a store restored
from an older backup), or it followed another database whatever its change number (the index records the
store's identity): then it is filled anew, and says why; with ``--force``, an index that is stale,
missing or missing a table is filled anew from the store, and ``supportbot kb search`` then finds the
store's articles. A file that is not an SQLite database, or a damaged one (cut short, a page overwritten),
is refused with one line and exit status 2 by ``kb index``, ``kb search`` and the bot's start, and kept."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from bot.kb.index import KnowledgeBase
from bot.kb.sources.base import ArticleChange, SourceArticle
from bot.store.open import open_store
from tests.store.conftest import another_store_url as another_store_url
from tests.store.conftest import store_url as store_url  # both backends, as the store's own tests

ROOT = Path(__file__).resolve().parents[2]
# This machine's bot.toml: a folder of its own, and a website that the instance that fetches it syncs.
BOT_TOML = """\
[[kb.sources]]
name = "help"
kind = "folder"
path = "help"

[[kb.sources]]
name = "website"
kind = "website"
url = "https://help.example.com/sitemap.xml"
"""
WEBSITE = [
    SourceArticle(
        "rental",
        "Renting a kayak",
        "https://help.example.com/rental",
        "Kayak rental costs 40 euros a day.",
        "public",
    ),
    SourceArticle(
        "customs",
        "Customs fees",
        "https://help.example.com/customs",
        "Orders to Germany may owe customs duties.",
        "public",
    ),
]
SYNCED_HELP = "help: 1 articles; 1 added, 0 updated, 0 removed, 0 skipped"
UNCHANGED_HELP = "help: 1 articles; 0 added, 0 updated, 0 removed, 0 skipped"
REBUILT = "index rebuilt from the store: 3 article(s)"  # help's article and the website's two
AHEAD = (
    "knowledge base: the index is at change 50, past the store's newest change: it followed another "
    "database, or the store was restored from an older backup; filling it anew from the store"
)


class Machine:
    """One machine's ``supportbot``: its bot.toml, its index file and the store it follows."""

    def __init__(self, tmp_path: Path, database_url: str) -> None:
        help_folder = tmp_path / "help"
        help_folder.mkdir()
        (help_folder / "returns.md").write_text(
            "---\ntitle: Returning an order\nvisibility: public\n---\nSend the parcel back within 30 days.\n",
            encoding="utf-8",
        )
        (tmp_path / "bot.toml").write_text(BOT_TOML, encoding="utf-8")
        self.cwd = tmp_path
        self.logged = ""  # what the last `kb index` logged (its stderr)
        self.index = tmp_path / "index" / "kb.sqlite3"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "BOT_CONFIG_PATH": str(tmp_path / "bot.toml"),
            "KB_INDEX_PATH": str(self.index),
            "DATABASE_URL": database_url,
        }

    async def supportbot(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "bot", *args]
        return await asyncio.to_thread(
            subprocess.run, command, cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=120
        )

    async def kb_index(self, *args: str) -> list[str]:
        """``supportbot kb index ARGS``: what it printed, line by line (it must succeed)."""
        result = await self.supportbot("kb", "index", *args)
        assert result.returncode == 0, result.stderr
        self.logged = result.stderr
        return result.stdout.splitlines()

    async def titles(self, query: str) -> list[str]:
        """The titles ``supportbot kb search --json QUERY`` finds."""
        result = await self.supportbot("kb", "search", "--json", *query.split())
        assert result.returncode == 0, result.stderr
        return [hit["title"] for hit in json.loads(result.stdout)]


async def website_synced(database_url: str) -> None:
    """The store holds the website's articles, as the instance that fetches it left them."""
    store = await open_store(database_url)
    try:
        await store.replace_articles("website", WEBSITE, skipped=0)
    finally:
        await store.close()


def index_left_from_another_store(path: Path) -> None:
    """An index that followed another store (DATABASE_URL named another database, or the store was
    restored from an older backup): by its own count it has applied more changes than this store has."""
    old = SourceArticle(
        "insurance", "Kayak insurance", "https://help.example.com/insurance", "Insure your kayak.", "public"
    )
    kb = KnowledgeBase(path)
    try:
        kb.apply([ArticleChange("website", "insurance", old)], seq=50)
    finally:
        kb.close()


#: Another database's website: the store the machine is pointed at next.
OTHER_WEBSITE = [
    SourceArticle(
        "insurance",
        "Kayak insurance",
        "https://help.example.com/insurance",
        "Insure your kayak against theft and damage.",
        "public",
    ),
    SourceArticle(
        "paddles",
        "Choosing a paddle",
        "https://help.example.com/paddles",
        "A paddle should be as long as you are tall, plus a hand.",
        "public",
    ),
    SourceArticle(
        "storage",
        "Storing a kayak in winter",
        "https://help.example.com/storage",
        "Store the kayak upside down, out of the sun and frost.",
        "public",
    ),
]
OTHER_DATABASE = "knowledge base: the index followed another database"
REFILLED = "filling it anew from the store"


@pytest.mark.parametrize("articles", [2, 3], ids=["as many changes", "more changes"])
async def test_an_index_of_another_database_is_filled_anew_from_this_one(
    tmp_path: Path, store_url: str, another_store_url: str, articles: int
) -> None:
    """A copied data folder, or DATABASE_URL changed to another database: the index's change number
    (3 here) would look current, or in the middle of this store's changes; the store's identity tells."""
    machine = Machine(tmp_path, store_url)
    await website_synced(store_url)
    assert await machine.kb_index() == [SYNCED_HELP]  # a new index: filled, nothing to say
    assert REFILLED not in machine.logged, machine.logged
    assert await machine.kb_index() == [UNCHANGED_HELP]  # a restart on the same store: nothing to do
    assert REFILLED not in machine.logged, machine.logged
    assert (await machine.titles("kayak rental"))[:1] == ["Renting a kayak"]

    store = await open_store(another_store_url)
    try:
        await store.replace_articles("website", OTHER_WEBSITE[:articles], skipped=0)
    finally:
        await store.close()
    machine.env["DATABASE_URL"] = another_store_url  # with help's article: 3 or 4 changes, the index's 3

    assert await machine.kb_index() == [SYNCED_HELP]
    warnings = [line for line in machine.logged.splitlines() if REFILLED in line]
    assert len(warnings) == 1, machine.logged
    assert OTHER_DATABASE in warnings[0]
    assert (await machine.titles("kayak insurance theft"))[:1] == ["Kayak insurance"]
    assert (await machine.titles("paddle length"))[:1] == ["Choosing a paddle"]
    assert (await machine.titles("return the parcel"))[:1] == ["Returning an order"]
    assert "Renting a kayak" not in await machine.titles("kayak rental")
    assert "Customs fees" not in await machine.titles("customs duties Germany")

    assert await machine.kb_index() == [UNCHANGED_HELP]  # it follows this store now
    assert REFILLED not in machine.logged, machine.logged


async def test_an_index_ahead_of_the_store_is_filled_anew_and_force_rebuilds_it(
    tmp_path: Path, store_url: str
) -> None:
    machine = Machine(tmp_path, store_url)
    await website_synced(store_url)
    index_left_from_another_store(machine.index)

    # Without --force: it is at change 50, the store has made 3: it is filled anew, and says so.
    assert await machine.kb_index() == [SYNCED_HELP]
    assert machine.logged.count(AHEAD) == 1, machine.logged
    assert (await machine.titles("kayak rental"))[:1] == ["Renting a kayak"]
    assert "Kayak insurance" not in await machine.titles("kayak insurance")

    assert await machine.kb_index("--force") == [UNCHANGED_HELP, REBUILT]
    assert (await machine.titles("kayak rental"))[:1] == ["Renting a kayak"]
    assert "Kayak insurance" not in await machine.titles("kayak insurance")
    assert (await machine.titles("return the parcel"))[:1] == ["Returning an order"]

    # Up to date now: again without --force, no rebuild, and the store's articles are still found.
    assert await machine.kb_index() == [UNCHANGED_HELP]
    assert AHEAD not in machine.logged
    assert (await machine.titles("customs duties Germany"))[:1] == ["Customs fees"]


def missing(path: Path) -> None:
    """No index on this machine yet (a new one, or its file deleted)."""


def damaged(path: Path) -> None:
    """An index whose sections table is gone (a file edited by hand, or a copy cut short)."""
    index_left_from_another_store(path)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("DROP TABLE kb_sections")
        conn.commit()


@pytest.mark.parametrize("spoil", [missing, damaged])
async def test_force_rebuilds_a_missing_or_damaged_index(
    tmp_path: Path, spoil: Callable[[Path], None]
) -> None:
    database_url = f"sqlite:///{tmp_path / 'store.db'}"
    machine = Machine(tmp_path, database_url)
    await website_synced(database_url)
    spoil(machine.index)

    assert await machine.kb_index("--force") == [SYNCED_HELP, REBUILT]
    assert (await machine.titles("kayak rental"))[:1] == ["Renting a kayak"]
    assert "Kayak insurance" not in await machine.titles("kayak insurance")


async def test_force_refuses_a_file_that_is_not_an_index_and_leaves_it(tmp_path: Path) -> None:
    """KB_INDEX_PATH may name someone else's file by mistake: it is named, never deleted."""
    machine = Machine(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    machine.index.parent.mkdir()
    machine.index.write_text("my notes, not an index\n", encoding="utf-8")

    result = await machine.supportbot("kb", "index", "--force")

    assert result.returncode == 2
    assert result.stdout.splitlines() == [SYNCED_HELP]  # into the store, before the index is opened
    assert f"KB_INDEX_PATH: {machine.index} is not an SQLite database; delete it to rebuild" in result.stderr
    assert machine.index.read_text(encoding="utf-8") == "my notes, not an index\n"


def cut_short(path: Path) -> None:
    """The index cut to half its size (a disk that filled up, a copy stopped half way)."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def page_overwritten(path: Path) -> None:
    """A page in the middle of the index overwritten with other bytes (a bad disk block)."""
    data = path.read_bytes()
    page_size = int.from_bytes(data[16:18], "big")  # the SQLite header's page size
    start = len(data) // page_size // 2 * page_size
    path.write_bytes(data[:start] + b"\x5a" * page_size + data[start + page_size :])


KB_INDEX_FORCE = ("kb", "index", "--force")
KB_SEARCH = ("kb", "search", "return", "the", "parcel")


@pytest.mark.parametrize(
    ("spoil", "command"),
    [
        (cut_short, ("kb", "index")),
        (cut_short, KB_INDEX_FORCE),
        (cut_short, KB_SEARCH),
        (cut_short, ("serve",)),  # the bot's start
        (page_overwritten, KB_INDEX_FORCE),
        (page_overwritten, KB_SEARCH),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else value.__name__,
)
async def test_a_damaged_index_is_refused_in_one_line_and_kept(
    tmp_path: Path, spoil: Callable[[Path], None], command: tuple[str, ...]
) -> None:
    """Refused as a file that is not an index is: the operator deletes it to rebuild it (or looks into
    what damaged it first); nothing deletes it for them."""
    machine = Machine(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    await website_synced(f"sqlite:///{tmp_path / 'store.db'}")
    await machine.kb_index()  # a real index of the store's articles, then damaged
    spoil(machine.index)

    result = await machine.supportbot(*command)

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    refusal = [line for line in result.stderr.splitlines() if line.startswith("supportbot: ")]
    assert refusal == [
        f"supportbot: KB_INDEX_PATH: {machine.index} is a damaged SQLite database; delete it to rebuild "
        "the knowledge-base index"
    ], result.stderr
    assert machine.index.exists()  # kept (a start may have recorded its change number in it first)
