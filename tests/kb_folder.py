"""A folder of articles read and indexed as a running bot does it, without the store in between: the folder
source reads it as the ``KB_PATH`` folder (source ``help-center``), and its articles are applied to the
index as the follower applies the store's changes (``KnowledgeBase.apply``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.kb.index import KnowledgeBase
from bot.kb.sources.base import ArticleChange, Fetched
from bot.kb.sources.config import FolderSourceConfig
from bot.kb.sources.folder import FolderSource
from bot.kb.sources.kinds import DEFAULT_SOURCE_NAME


async def aread_folder(folder: Path) -> Fetched:
    """The articles of ``folder`` and what was skipped, as the folder source reads ``KB_PATH``."""
    config = FolderSourceConfig(name=DEFAULT_SOURCE_NAME, kind="folder", path=folder)
    return await FolderSource(config, folder).fetch({}, lambda done, total: None)


async def aindex_folder(kb: KnowledgeBase, folder: Path) -> Fetched:
    """Read ``folder`` (:func:`aread_folder`) and apply its articles to ``kb``; what was read."""
    fetched = await aread_folder(folder)
    changes = [ArticleChange(DEFAULT_SOURCE_NAME, article.key, article) for article in fetched.articles]
    await kb.aapply(changes, seq=0)  # no store: no change number applied through
    return fetched


def read_folder(folder: Path) -> Fetched:
    """:func:`aread_folder`, outside an event loop."""
    return asyncio.run(aread_folder(folder))


def index_folder(kb: KnowledgeBase, folder: Path) -> Fetched:
    """:func:`aindex_folder`, outside an event loop."""
    return asyncio.run(aindex_folder(kb, folder))
