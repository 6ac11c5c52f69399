"""`supportbot kb …`: the knowledge base by hand (docs/architecture.md §6).

- ``kb sync [--source NAME]``: fetch the sources (or the one named) into the store, a progress bar on a
  terminal, one summary line per source; exit status 1 when a source failed (its last good articles stay),
  2 for a name no source has.
- ``kb index [--force]``: sync the folder sources and bring this machine's search index up to date with
  the store (``--force``: rebuild it from the store; an index past the store's newest change, or one that
  followed another database, is rebuilt without it, with a warning that says why).
- ``kb search QUERY``: search as a given principal (the folder sources synced first, as at start).

A ``KB_INDEX_PATH`` file that is not an SQLite database, or a damaged one, stops ``kb index`` and
``kb search`` with exit status 2 and one line naming it (``bot.kb.index.UnreadableIndex``); it is kept.

Kept out of ``bot.run.cli`` so the other commands import none of it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING

from bot.errors import ConfigError
from bot.run.kb_search import add_search_arguments, run_search

if TYPE_CHECKING:
    from bot.kb.schedule import KnowledgeSync
    from bot.kb.sources.base import Progress
    from bot.settings import Settings


def add_kb_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    principal_arg: Callable[[argparse.ArgumentParser], None],
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """The ``kb`` group and its subcommands; returns the group's subparsers, for more subcommands."""
    kb = commands.add_parser("kb", help="the knowledge base: its sources, the local index, search")
    kb_commands = kb.add_subparsers(dest="kb_command", required=True, metavar="KB_COMMAND")
    sync = kb_commands.add_parser("sync", help="fetch the knowledge sources into the store now")
    sync.add_argument(
        "--source", metavar="NAME", default=None, help="only this source (its name in bot.toml)"
    )
    index = kb_commands.add_parser(
        "index", help="bring this machine's search index up to date with the store"
    )
    index.add_argument("--force", action="store_true", help="rebuild it from the store")
    search = kb_commands.add_parser("search", help="search the articles as a given principal")
    add_search_arguments(search)
    principal_arg(search)
    return kb_commands


@asynccontextmanager
async def open_knowledge(settings: Settings) -> AsyncIterator[KnowledgeSync]:
    """The configured sources, the store and this machine's index, without the rest of the app (an
    operator's command fetches at once: no sync claims)."""
    from bot.config import load_bot_config
    from bot.coordination.sync_claims import LocalSyncClaims
    from bot.kb.follow import KnowledgeFollower
    from bot.kb.index import KnowledgeBase
    from bot.kb.schedule import KnowledgeSync, open_sources
    from bot.store.open import open_store

    config = load_bot_config(settings.bot_config_path)
    if not config.kb.sources and not settings.kb_path.is_dir():
        raise ConfigError(f"KB_PATH: {settings.kb_path} is not a folder of Markdown articles")
    sources = open_sources(config.kb, settings.kb_path, settings.bot_config_path.parent)
    store = await open_store(settings.database_url)
    kb = KnowledgeBase(settings.kb_index_path)
    try:
        yield KnowledgeSync(sources, store, KnowledgeFollower(kb, store), LocalSyncClaims())
    finally:
        kb.close()
        await store.close()


async def run_kb_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.kb.schedule import UnknownSource

    async with open_knowledge(settings) as knowledge:
        if args.kb_command == "sync":
            try:
                knowledge.select(args.source)
            except UnknownSource as exc:
                raise ConfigError(f"--source: {exc}") from None
            with _progress_bars() as progress_for:
                summaries = await knowledge.sync(args.source, progress_for)
            for summary in summaries:
                print(_clean(summary.line()))
            return 1 if any(summary.failed for summary in summaries) else 0
        if args.kb_command == "index":
            for summary in await knowledge.sync_local():  # the folder sources, as at start
                print(_clean(summary.line()))
            if args.force:  # never read before it is emptied: an index missing a table is rebuilt too
                applied = await knowledge.follower.rebuild()
                print(f"index rebuilt from the store: {applied} article(s)")
            else:
                await knowledge.follower.catch_up()
            return 0
        await knowledge.start()  # the folder sources synced, as the bot does when it starts
        return await run_search(args, knowledge.follower.kb)


def _clean(text: str) -> str:
    """Text from sources the bot did not write, without terminal control sequences."""
    from integrations.console.terminal import clean

    return clean(text)


@contextmanager
def _progress_bars() -> Iterator[Callable[[str], Progress]]:
    """One progress bar per source on a terminal (rich); nothing when the output is a file or a pipe."""
    if not sys.stdout.isatty():
        yield lambda name: lambda done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), transient=True
    ) as bars:

        def progress_for(name: str) -> Callable[[int, int | None], None]:
            task = bars.add_task(name, total=None)

            def update(done: int, total: int | None) -> None:
                bars.update(task, completed=done, total=total)

            return update

        yield progress_for


__all__ = ["add_kb_commands", "open_knowledge", "run_kb_command"]
