"""An index damaged while the bot runs (tools/kb.py, bot/kb/index.py): ``search_kb`` answers as when no
article is relevant, and logs one line naming the file, rather than failing the turn; the index itself
raises ``UnreadableIndex``, which a command turns into exit status 2 (tests/kb/test_kb_index_cli.py)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from bot.agent.toolbox import ToolContext
from bot.kb.index import KnowledgeBase, UnreadableIndex
from bot.kb.sources.base import ArticleChange, SourceArticle
from bot.store.open import open_store
from bot.types import Principal, Role, ThreadRef
from tools.kb import NOTHING_FOUND, SearchKb, SearchKbInput

CUSTOMER = Principal("console", "c1", "Ann", frozenset({Role.CUSTOMER}))


async def test_search_kb_finds_nothing_in_a_damaged_index_and_logs_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    index = tmp_path / "kb.sqlite3"
    kb = KnowledgeBase(index)
    articles = [
        SourceArticle(
            f"a{n}", f"Kayak rental {n}", f"https://help.example/{n}", "Kayaks cost 40 a day. " * 50, "public"
        )
        for n in range(20)
    ]
    kb.apply([ArticleChange("help", item.key, item) for item in articles], seq=20)
    tool = SearchKb(kb)
    assert await tool.hits("kayak rental", CUSTOMER)
    kb.close()  # its connections gone, as in a process that has not searched for a while
    data = index.read_bytes()
    index.write_bytes(data[: len(data) // 2])  # the disk filled up, or a copy was cut short

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
