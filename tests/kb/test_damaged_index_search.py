"""An index damaged while the bot runs (tools/kb.py, bot/kb/index.py): ``search_kb`` answers as when no
article is relevant, and logs one line naming the file, rather than failing the turn; the index itself
raises ``UnreadableIndex``, which a command turns into exit status 2 (tests/kb/test_kb_index_cli.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

import pytest

from bot.agent.toolbox import ToolContext
from bot.kb.follow import KnowledgeFollower
from bot.kb.index import KnowledgeBase, UnreadableIndex
from bot.kb.sources.base import ArticleChange, SourceArticle
from bot.store.open import open_store
from bot.types import Principal, Role, ThreadRef
from tools.kb import NOTHING_FOUND, SearchKb, SearchKbInput

CUSTOMER = Principal("console", "c1", "Ann", frozenset({Role.CUSTOMER}))


def twenty_articles(index: Path) -> KnowledgeBase:
    """An index of twenty articles about kayak rental."""
    kb = KnowledgeBase(index)
    articles = [
        SourceArticle(
            f"a{n}", f"Kayak rental {n}", f"https://help.example/{n}", "Kayaks cost 40 a day. " * 50, "public"
        )
        for n in range(20)
    ]
    kb.apply([ArticleChange("help", item.key, item) for item in articles], seq=20)
    return kb


def cut_in_half(kb: KnowledgeBase) -> None:
    """The index file cut to half its size (the disk filled up, or a copy was cut short), after its
    connections are gone, as in a process that has not read it for a while."""
    kb.close()
    data = kb.index_path.read_bytes()
    kb.index_path.write_bytes(data[: len(data) // 2])


async def test_search_kb_finds_nothing_in_a_damaged_index_and_logs_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    index = tmp_path / "kb.sqlite3"
    kb = twenty_articles(index)
    tool = SearchKb(kb)
    assert await tool.hits("kayak rental", CUSTOMER)
    cut_in_half(kb)

    with pytest.raises(UnreadableIndex, match="is a damaged SQLite database; delete it to rebuild"):
        await tool.hits("kayak rental", CUSTOMER)
    store = await open_store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        ctx = ToolContext(
            CUSTOMER, ThreadRef("console", "local", "terminal", "t"), store, time.monotonic() + 30
        )
        with caplog.at_level(logging.ERROR, logger="tools.kb"):
            result = await tool.run(SearchKbInput(query="kayak rental"), ctx)
    finally:
        await store.close()

    assert (result.text, result.outcome) == (NOTHING_FOUND, "not_found")
    assert [record.getMessage() for record in caplog.records] == [
        f"search_kb: KB_INDEX_PATH: {index} is a damaged SQLite database; delete it to rebuild the "
        "knowledge-base index"
    ]
    assert index.exists()


async def test_a_follower_that_cannot_apply_changes_says_why_once_not_every_round(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    index = tmp_path / "kb.sqlite3"
    kb = twenty_articles(index)
    cut_in_half(kb)
    store = await open_store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with caplog.at_level(logging.DEBUG, logger="bot.kb.follow"):
            following = asyncio.create_task(KnowledgeFollower(kb, store).run(every=0.01))
            await asyncio.sleep(0.3)
            following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await following
    finally:
        await store.close()
        kb.close()
    rounds = [r for r in caplog.records if "could not apply the store's changes" in r.getMessage()]
    assert len(rounds) > 3
    assert [r.levelno for r in rounds] == [logging.WARNING] + [logging.DEBUG] * (len(rounds) - 1)
    assert f"KB_INDEX_PATH: {index} is a damaged SQLite database" in rounds[0].getMessage()
