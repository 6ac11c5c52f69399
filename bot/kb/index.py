"""The local search index of the knowledge articles, in SQLite (FTS5 and vectors; docs/architecture.md §6).

Articles reach it one way: the store's article changes (every source's, in the store's change order,
``seq``), applied by :meth:`KnowledgeBase.apply` as :mod:`bot.kb.follow` reads them. Each article is split
into sections (:mod:`bot.kb.sections`) written to its own SQLite file (:mod:`bot.kb.layout`) and ranked by
:mod:`bot.kb.search`. ``kb_meta`` rows keep the store's change number applied through and the store's
identity (``ChangeBatch.store_id``), so that an index built from another database is told apart.

Applying and searching are synchronous and CPU-bound; async callers use :meth:`KnowledgeBase.aapply` and
:meth:`KnowledgeBase.asearch`, which run them in a worker thread. Searches run side by side on
connections of their own.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import ConfigError
from bot.kb.fusion import Relevance
from bot.kb.hits import KbHit
from bot.kb.layout import DROP, SCHEMA, SCHEMA_VERSION, SectionWriter
from bot.kb.sources.base import ArticleChange

if TYPE_CHECKING:
    from bot.kb.embeddings import Embedder
    from bot.kb.search import Searcher
    from bot.kb.vectors import VectorWriter

logger = logging.getLogger(__name__)

#: Idle read connections kept for the next searches (more are opened while searches overlap).
MAX_IDLE_READERS = 4


class UnreadableIndex(ConfigError):
    """The index file is not an SQLite database, or is damaged: every use of the index stops with this
    one line naming the file (exit status 2 in a command, and a start refused), and the file is kept."""


def _shared_embedder() -> Embedder | None:
    """The process's embedding model (:func:`bot.kb.embeddings.shared_embedder`), imported only when
    something is embedded or searched."""
    from bot.kb.embeddings import shared_embedder

    return shared_embedder()


def _vector_writer(conn: sqlite3.Connection, embedder: Embedder) -> VectorWriter:
    from bot.kb.vectors import VectorWriter

    return VectorWriter(conn, embedder)


class KnowledgeBase:
    """A searchable index of knowledge articles, kept in the SQLite file ``index_path``.

    Articles arrive as the changes of the store's articles (:meth:`apply`: every source, in the store's
    change order, ``seq``). Each article is split into sections (:mod:`bot.kb.sections`); a search ranks
    sections (:mod:`bot.kb.search`).

    Safe to share between threads: each search borrows a read connection of its own (the lock is held
    only to take one from the idle list or give it back, and around cached counts, never across a
    query), so one slow search never queues the others; each write goes through its own connection in
    a single transaction, so searches keep seeing the previous index (WAL) until it is committed.
    """

    def __init__(
        self,
        index_path: Path,
        *,
        embedder: Callable[[], Embedder | None] = _shared_embedder,
    ) -> None:
        self.index_path = index_path
        self._embedder = embedder  # None from it: the model cannot load, search is lexical
        self._lock = threading.Lock()  # guards the idle connections and the search's caches
        self._idle: list[sqlite3.Connection] = []
        self._searcher: Searcher | None = None  # made at the first search (it needs numpy)

    @property
    def _search(self) -> Searcher:
        """The searcher of this index, made on first use: a process that only feeds the index (or
        marks it current) never imports numpy or loads the model."""
        if self._searcher is None:
            from bot.kb.search import Searcher

            with self._lock:
                if self._searcher is None:
                    self._searcher = Searcher(self._reading, self._lock, self._embedder)
        return self._searcher

    # -- the store's changes --------------------------------------------------------------------------

    @property
    def seq(self) -> int:
        """The store's change sequence number this index has applied through; 0 for a new index."""
        return self.followed()[0]

    def followed(self) -> tuple[int, str | None]:
        """The change number this index has applied through (as :attr:`seq`) and the identity of the store
        it applied them from (None for a new index, or one that never recorded it), read together."""
        meta = self._read_meta()
        if meta is None or meta.get("schema_version") != str(SCHEMA_VERSION):
            return 0, None
        return int(meta.get("seq", "0")), meta.get("store_id")

    def apply(self, changes: Iterable[ArticleChange], *, seq: int, store_id: str | None = None) -> None:
        """Index the changed articles only (a ``None`` article is removed) and record ``seq``, and
        ``store_id`` as the store they came from when it is given.

        One transaction: a reader sees all of it or none of it. An index file of an older layout is
        emptied first (its ``seq`` reads 0, so the caller replays the store from the start).
        """

        changes = list(changes)
        meta = {"seq": str(seq)} if store_id is None else {"seq": str(seq), "store_id": store_id}

        def write(conn: sqlite3.Connection, writer: SectionWriter) -> dict[str, str]:
            for change in changes:
                writer.remove(change.source, change.key)
                if change.article is not None:
                    writer.add(change.source, change.article)
            return meta

        self._transaction(write, fresh=False, embeds=any(c.article is not None for c in changes))

    async def aapply(
        self, changes: Iterable[ArticleChange], *, seq: int, store_id: str | None = None
    ) -> None:
        await asyncio.to_thread(self.apply, changes, seq=seq, store_id=store_id)

    def clear(self) -> None:
        """Empty the index and set its ``seq`` back to 0, forgetting the store it followed, so that a
        store is applied from its start."""
        self._transaction(lambda conn, writer: {"seq": "0"}, fresh=True)

    # -- the file -------------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        """A connection to the index file; :class:`UnreadableIndex` if that file is not an SQLite database
        or is damaged."""
        self.index_path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.index_path, check_same_thread=False, isolation_level=None)
        try:
            with self._readable():
                conn.execute("PRAGMA busy_timeout=5000")
                conn.execute("PRAGMA journal_mode=WAL")
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def _readable(self) -> Iterator[None]:
        """SQLite's "not a database" and "malformed" errors inside, as :class:`UnreadableIndex` naming the
        file. The file is not deleted automatically: the path may point at someone else's file by
        mistake, and a damaged one may be wanted to find out what damaged it."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            code = getattr(exc, "sqlite_errorcode", 0) & 0xFF  # the primary code of an extended one
            if code == sqlite3.SQLITE_NOTADB:
                problem = "is not an SQLite database"
                remedy = "delete it to rebuild the knowledge-base index, or choose another path"
            elif code == sqlite3.SQLITE_CORRUPT:
                raise self._damaged() from None  # SQLite's words vary with what it read
            else:
                raise
            raise UnreadableIndex(f"KB_INDEX_PATH: {self.index_path} {problem}; {remedy}") from None

    def _damaged(self) -> UnreadableIndex:
        return UnreadableIndex(
            f"KB_INDEX_PATH: {self.index_path} is a damaged SQLite database; "
            "delete it to rebuild the knowledge-base index"
        )

    def check(self) -> None:
        """Read every page of the index file (SQLite's quick check): :class:`UnreadableIndex` if any
        cannot be, so that ``supportbot doctor`` finds a damaged file before a search does."""
        with self._reading() as conn:
            problems = conn.execute("PRAGMA quick_check(1)").fetchall()
        if problems != [("ok",)]:
            raise self._damaged()

    def _read_meta(self) -> dict[str, str] | None:
        """The ``kb_meta`` table, or None when there is no index yet."""
        if not self.index_path.exists():
            return None
        try:
            with self._reading() as conn:
                return dict(conn.execute("SELECT key, value FROM kb_meta").fetchall())
        except sqlite3.OperationalError:  # no index tables yet
            return None

    @staticmethod
    def _schema_current(conn: sqlite3.Connection) -> bool:
        try:
            row = conn.execute("SELECT value FROM kb_meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.OperationalError:
            return False
        return row is not None and row[0] == str(SCHEMA_VERSION)

    @staticmethod
    def _create(conn: sqlite3.Connection, *, embedding: str) -> None:
        """Drop whatever index the file holds and create empty tables of the current layout; its
        sections get vectors of the ``embedding`` model (none if it is "")."""
        for statement in (DROP + SCHEMA).split(";"):
            if statement.strip():
                conn.execute(statement)
        meta = {"schema_version": str(SCHEMA_VERSION), "seq": "0", "embedding": embedding}
        conn.executemany("INSERT INTO kb_meta (key, value) VALUES (?, ?)", meta.items())

    def _transaction(
        self,
        write: Callable[[sqlite3.Connection, SectionWriter], dict[str, str]],
        *,
        fresh: bool,
        embeds: bool = True,
    ) -> None:
        """Run ``write`` in one write transaction on a current layout (emptied first when ``fresh`` or
        when the file holds an older layout), then record its meta, the section count, the embedding
        model and a new generation; the in-memory vectors follow this process's own changes.

        ``embeds`` False: ``write`` adds no section, so the embedding model is not loaded for it (a
        process that only marks its index current, or removes articles, never loads it) unless the
        layout is created anew and must name its model."""
        embedder = None
        conn = self._connect()
        with closing(conn), self._readable():
            conn.execute("BEGIN IMMEDIATE")
            try:
                create = fresh or not self._schema_current(conn)
                if create or embeds:
                    embedder = self._embedder()
                if create:
                    self._create(conn, embedding=embedder.name if embedder else "")
                before = dict(conn.execute("SELECT key, value FROM kb_meta").fetchall())
                vectors = (
                    _vector_writer(conn, embedder)
                    if embedder and before.get("embedding") == embedder.name
                    else None
                )
                writer = SectionWriter(conn, vectors)
                meta = write(conn, writer)
                writer.finish()
                (sections,) = conn.execute("SELECT count(*) FROM kb_sections").fetchone()
                generation = secrets.token_hex(8)  # searches drop what they cached of the index
                meta = {**meta, "sections": str(sections), "generation": generation}
                conn.executemany("INSERT OR REPLACE INTO kb_meta (key, value) VALUES (?, ?)", meta.items())
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # SQLite may have rolled it back itself (a damaged file)
                    conn.execute("ROLLBACK")
                raise
        if not fresh and before.get("embedding") and self._searcher is not None:
            added = vectors.added if vectors is not None else []
            self._search.take_patch(before.get("generation"), generation, writer.removed, added)

    # -- search ---------------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        include_internal: bool,
        sources: Collection[str] | None = None,
        limit: int = 5,
        per_article: int = 1,
    ) -> list[KbHit]:
        """The best ``limit`` (at most :data:`MAX_LIMIT`) sections for ``query``; ``[]`` when none is
        relevant enough.

        ``internal`` sections only when ``include_internal`` is true (staff); only sections of
        ``sources`` when it is given. Both are filtered before ranking. At most ``per_article`` sections
        of one article. Never raises for odd query text; finds nothing while no article was applied;
        :class:`UnreadableIndex` when the index file is damaged (``search_kb`` then finds nothing).
        """
        return self._search.search(
            query, include_internal=include_internal, sources=sources, limit=limit, per_article=per_article
        )

    async def asearch(
        self,
        query: str,
        *,
        include_internal: bool,
        sources: Collection[str] | None = None,
        limit: int = 5,
        per_article: int = 1,
    ) -> list[KbHit]:
        return await asyncio.to_thread(
            self.search,
            query,
            include_internal=include_internal,
            sources=sources,
            limit=limit,
            per_article=per_article,
        )

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """A read connection for the caller alone: an idle one, or a new one; given back afterwards. What
        the caller reads of a file that is not an index, or a damaged one, raises :class:`UnreadableIndex`
        (searches included: they read through these connections)."""
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        try:
            with self._readable():
                yield conn
        finally:
            with self._lock:
                if len(self._idle) < MAX_IDLE_READERS:
                    self._idle.append(conn)
                    conn = None
            if conn is not None:
                conn.close()

    def relevance(
        self, query: str, *, include_internal: bool, sources: Collection[str] | None = None
    ) -> Relevance:
        """The evidence that :meth:`search` decides "nothing relevant" on (calibration, diagnostics)."""
        return self._search.relevance(query, include_internal=include_internal, sources=sources)

    def semantic_status(self) -> str | None:
        """None while search is hybrid; otherwise one line saying why it is lexical only."""
        status = self._search.semantic_status()
        if status is not None:
            return status
        meta = self._read_meta()
        embedder = self._embedder()
        if meta is not None and embedder is not None and meta.get("embedding") != embedder.name:
            return (
                f"semantic search off: the index at {self.index_path} has no vectors of {embedder.name}; "
                "delete it to rebuild it"
            )
        return None

    def close(self) -> None:
        """Close the idle read connections (a later search opens a new one)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
