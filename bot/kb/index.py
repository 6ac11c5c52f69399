"""Articles parsed from Markdown with front matter, indexed into SQLite FTS5 (docs/architecture.md §6).

An article is a ``*.md`` file in the source folder (top level only; names starting with ``.`` or ``_``
and ``README.md`` are ignored). It starts with front matter between ``---`` lines::

    ---
    title: How to start a return
    url: https://help.northwind.example/articles/start-a-return
    visibility: public        # or internal (staff only); required
    tags: [returns, rma]      # or one "- item" per line below "tags:"
    ---
    Markdown body…

The front matter parser is deliberately small (no YAML dependency): ``key: value`` lines, optionally
quoted values, ``[a, b]`` inline lists and ``- item`` block lists, ``#`` comments. A file that cannot be
parsed or validated is skipped with a warning naming the file and the problem; it never stops indexing.
Visibility never fails open: an article without a ``visibility`` key, with a value other than ``public``
or ``internal``, or with any key other than the four above (``visibilty: internal``) is skipped, and the
warning names the key.

The articles are indexed by :class:`KnowledgeBase` into its own SQLite file (:mod:`bot.kb.layout`),
split into sections (:mod:`bot.kb.sections`) and ranked by :mod:`bot.kb.search`. A ``kb_meta`` row keeps
a fingerprint of the source folder so that :meth:`KnowledgeBase.ensure_index` re-indexes only when files
were added, removed or changed, and the store's change number applied through (:meth:`KnowledgeBase.apply`).

Indexing and search are synchronous and CPU-bound; async callers use :meth:`KnowledgeBase.asearch`,
:meth:`KnowledgeBase.aapply` and :meth:`KnowledgeBase.aensure_index`, which run them in a worker thread.
Bodies are cut to :data:`MAX_ARTICLE_CHARS` at index time (with a warning naming the file), and searches
run side by side on connections of their own.
"""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import json
import logging
import re
import secrets
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.errors import ConfigError
from bot.kb.fusion import Relevance
from bot.kb.hits import KbHit, Visibility
from bot.kb.layout import DROP, SCHEMA, SCHEMA_VERSION, SectionWriter
from bot.kb.markdown import cut_text
from bot.kb.sources.base import ArticleChange, SourceArticle

if TYPE_CHECKING:
    from bot.kb.embeddings import Embedder
    from bot.kb.search import Searcher
    from bot.kb.vectors import VectorWriter

logger = logging.getLogger(__name__)

#: Idle read connections kept for the next searches (more are opened while searches overlap).
MAX_IDLE_READERS = 4

#: Characters of an article that are indexed; the rest is cut at index time, with a warning naming the
#: file. A help article is a few thousand characters; a megabyte of one repeated word is a mistake or an
#: attack, and every search would pay for it.
MAX_ARTICLE_CHARS = 200_000

# --------------------------------------------------------------------------------------------------
# Articles and front matter


class FrontMatterError(ValueError):
    """The front matter of an article is missing or malformed."""


class Article(BaseModel):
    """One validated knowledge-base article. ``body`` is the Markdown below the front matter."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True, extra="forbid")

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=200)
    title: str = Field(min_length=1, max_length=300)
    url: str = ""
    visibility: Visibility = "public"
    tags: tuple[str, ...] = ()
    body: str = ""

    @field_validator("title")
    @classmethod
    def _printable(cls, value: str) -> str:
        if any(ord(char) < 32 or ord(char) == 127 for char in value):
            raise ValueError("title must not contain control characters")
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not re.match(r"^https?://\S+$", value):
            raise ValueError("url must be an http(s) address")
        return value

    @field_validator("tags", mode="before")
    @classmethod
    def _normalise_tags(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            cleaned = (str(tag).strip().lower() for tag in value)
            return tuple(dict.fromkeys(tag for tag in cleaned if tag))
        return value

    def as_source(self) -> SourceArticle:
        """The article as a source hands it to the index (its key is its slug)."""
        return SourceArticle(
            key=self.slug,
            title=self.title,
            url=self.url,
            body=self.body,
            visibility=self.visibility,
            tags=self.tags,
        )


_KEY_LINE = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_-]*)\s*:(?:\s+(?P<value>.*?))?\s*$")
_LIST_ITEM = re.compile(r"^\s*-\s+(?P<value>.*?)\s*$")
_FRONT_MATTER_KEYS = frozenset({"title", "url", "visibility", "tags"})


_QUOTED = re.compile(r"""^(?P<quote>["'])(?P<text>.*?)(?P=quote)\s*(?:#.*)?$""")


def _strip_comment(value: str) -> str:
    """``value`` without a trailing ``# comment`` (a ``#`` inside a word or URL stays)."""
    return re.split(r"(?:^|\s+)#", value, maxsplit=1)[0].strip()


def _scalar(value: str) -> str:
    """A single value: quoted (quotes removed, ``#`` inside kept) or plain (comment dropped)."""
    quoted = _QUOTED.match(value)
    return quoted["text"] if quoted else _strip_comment(value)


def parse_front_matter(text: str) -> tuple[dict[str, str | list[str]], str]:
    """Split ``text`` into its front matter fields and the body below it.

    Keys are lower-cased; unknown keys are kept (:func:`parse_article` rejects them). Raises
    :class:`FrontMatterError` with a human-readable reason when the block is missing or malformed.
    """
    lines = text.removeprefix("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise FrontMatterError("no front matter (the file must start with a '---' line)")
    try:
        end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() in ("---", "..."))
    except StopIteration:
        raise FrontMatterError("front matter is not closed by a '---' line") from None

    fields: dict[str, str | list[str]] = {}
    open_list: list[str] | None = None  # the block list that "- item" lines currently append to
    for number, line in enumerate(lines[1:end], start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        item = _LIST_ITEM.match(line)
        if item is not None:
            if open_list is None:
                raise FrontMatterError(f"line {number}: list item without a 'key:' line above it")
            open_list.append(_scalar(item["value"]))
            continue
        match = _KEY_LINE.match(line)
        if match is None:
            raise FrontMatterError(f"line {number}: expected 'key: value', got {line.strip()[:60]!r}")
        key = match["key"].lower()
        if key in fields:
            raise FrontMatterError(f"line {number}: duplicate key {key!r}")
        value = match["value"] or ""
        plain = _strip_comment(value)
        open_list = None
        if not plain:
            open_list = []
            fields[key] = open_list
        elif plain.startswith("[") and plain.endswith("]"):
            fields[key] = [_scalar(part.strip()) for part in plain[1:-1].split(",") if part.strip()]
        else:
            fields[key] = _scalar(value)
    body = "\n".join(lines[end + 1 :]).strip()
    return fields, body


def parse_article(slug: str, text: str) -> Article:
    """Parse and validate one article; raises :class:`FrontMatterError` naming the problem."""
    fields, body = parse_front_matter(text)
    for key in fields:
        if key not in _FRONT_MATTER_KEYS:
            close = difflib.get_close_matches(key, sorted(_FRONT_MATTER_KEYS), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "the keys are title, url, visibility, tags"
            raise FrontMatterError(f"unknown front matter key {key!r} ({hint})")
    if not fields.get("title"):
        raise FrontMatterError("front matter has no title")
    data: dict[str, object] = dict(fields)
    if data.get("url") == []:  # "url:" with nothing after it
        del data["url"]
    for key in ("title", "url", "visibility"):  # an empty "visibility:" is an error, not "public"
        if isinstance(data.get(key), list):
            raise FrontMatterError(f"{key} must be a single value")
    try:
        article = Article.model_validate({**data, "slug": slug, "body": body})
    except ValidationError as exc:
        problems = "; ".join(
            "file name must use only a-z, 0-9, '-' and '_'"
            if err["loc"] == ("slug",)
            else f"{'.'.join(str(part) for part in err['loc'])}: {err['msg']}"
            for err in exc.errors()
        )
        raise FrontMatterError(problems) from None
    if "visibility" not in fields:  # no default: a forgotten key must not make an article public
        raise FrontMatterError("front matter has no visibility key (add 'visibility: public' or 'internal')")
    return article


def article_files(source_dir: Path) -> list[Path]:
    """The article files of ``source_dir`` in a stable order (see the module docstring for exclusions)."""
    if not source_dir.is_dir():
        return []
    return sorted(
        path
        for path in source_dir.glob("*.md")
        if path.is_file() and path.name[0] not in "._" and path.name.lower() != "readme.md"
    )


def load_articles(files: Iterable[Path]) -> tuple[list[Article], list[str]]:
    """Read and validate ``files``; returns the articles and one ``"name: problem"`` line per skipped file.

    Every problem is also logged as a warning. The slug is the file name without ``.md``.
    """
    articles: list[Article] = []
    problems: list[str] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
            article = parse_article(path.stem, text)
        except (OSError, UnicodeDecodeError, FrontMatterError) as exc:
            reason = str(exc) if isinstance(exc, FrontMatterError) else f"cannot read: {exc}"
            logger.warning("knowledge base: skipping %s: %s", path, reason)
            problems.append(f"{path.name}: {reason}")
            continue
        if len(article.body) > MAX_ARTICLE_CHARS:
            logger.warning(
                "knowledge base: %s has %d characters; only the first %d are indexed",
                path,
                len(article.body),
                MAX_ARTICLE_CHARS,
            )
            article = article.model_copy(update={"body": cut_text(article.body, MAX_ARTICLE_CHARS)})
        articles.append(article)
    return articles, problems


# --------------------------------------------------------------------------------------------------
# The index


@dataclass(frozen=True)
class IndexReport:
    """The outcome of an indexing run. ``unchanged`` means the index was already up to date.

    ``problems`` has one ``"file: reason"`` line per skipped article.
    """

    indexed: int
    skipped: int
    unchanged: bool
    problems: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line for people: ``17 articles indexed, 0 skipped (unchanged)``."""
        articles = "article" if self.indexed == 1 else "articles"
        state = "unchanged" if self.unchanged else "re-indexed"
        return f"{self.indexed} {articles} indexed, {self.skipped} skipped ({state})"


#: The source name of the articles indexed from the ``KB_PATH`` folder (:meth:`KnowledgeBase.ensure_index`).
FOLDER_SOURCE = "kb"


def _fingerprint(files: Iterable[Path]) -> str:
    """A digest of the names, sizes and modification times of ``files`` plus the schema version."""
    digest = hashlib.sha256(f"schema={SCHEMA_VERSION}\n".encode())
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            continue
        digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


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

    Articles arrive two ways: :meth:`apply` takes the changes of the store's articles (every source, in
    the store's change order, ``seq``), and :meth:`ensure_index` indexes the ``KB_PATH`` folder as the
    source :data:`FOLDER_SOURCE`. Each article is split into sections (:mod:`bot.kb.sections`); a
    search ranks sections (:mod:`bot.kb.search`).

    Safe to share between threads: each search borrows a read connection of its own (the lock is held
    only to take one from the idle list or give it back, and around cached counts, never across a
    query), so one slow search never queues the others; each write goes through its own connection in
    a single transaction, so searches keep seeing the previous index (WAL) until it is committed.
    """

    def __init__(
        self,
        index_path: Path,
        source_dir: Path,
        *,
        embedder: Callable[[], Embedder | None] = _shared_embedder,
    ) -> None:
        self.index_path = index_path
        self.source_dir = source_dir
        self._embedder = embedder  # None from it: the model cannot load, search is lexical
        self._lock = threading.Lock()  # guards the idle connections and the search's caches
        self._idle: list[sqlite3.Connection] = []
        self._ready = False
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
        meta = self._read_meta()
        if meta is None or meta.get("schema_version") != str(SCHEMA_VERSION):
            return 0
        return int(meta.get("seq", "0"))

    def apply(self, changes: Iterable[ArticleChange], *, seq: int) -> None:
        """Index the changed articles only (a ``None`` article is removed) and record ``seq``.

        One transaction: a reader sees all of it or none of it. An index file of an older layout is
        emptied first (its ``seq`` reads 0, so the caller replays the store from the start).
        """

        changes = list(changes)

        def write(conn: sqlite3.Connection, writer: SectionWriter) -> dict[str, str]:
            for change in changes:
                writer.remove(change.source, change.key)
                if change.article is not None:
                    writer.add(change.source, change.article)
            return {"seq": str(seq)}

        self._transaction(write, fresh=False, embeds=any(c.article is not None for c in changes))
        self._ready = True

    async def aapply(self, changes: Iterable[ArticleChange], *, seq: int) -> None:
        await asyncio.to_thread(self.apply, changes, seq=seq)

    def clear(self) -> None:
        """Empty the index and set its ``seq`` back to 0, so that the store is applied from its start."""
        self._transaction(lambda conn, writer: {"seq": "0"}, fresh=True)

    # -- the KB_PATH folder ---------------------------------------------------------------------------

    def ensure_index(self) -> IndexReport:
        """Index the source folder unless the index already matches it (same files, sizes, mtimes)."""
        return self._index_folder(force=False)

    def rebuild(self) -> IndexReport:
        """Re-index the source folder unconditionally."""
        return self._index_folder(force=True)

    def index_articles(self, articles: Iterable[Article]) -> IndexReport:
        """Replace the whole index with ``articles`` (for tools and benchmarks that have no folder).

        ``articles`` is consumed once, as a stream. The stored fingerprint is left empty, so the next
        :meth:`ensure_index` re-indexes the source folder.
        """
        return self._write(articles, fingerprint="", problems=[])

    def current_report(self) -> IndexReport | None:
        """The report of the last indexing run if the index still matches the source folder; ``None`` if
        it is missing or out of date. Reads only (``supportbot doctor``)."""
        return self._stored_report(_fingerprint(article_files(self.source_dir)))

    async def aensure_index(self) -> IndexReport:
        return await asyncio.to_thread(self.ensure_index)

    async def arebuild(self) -> IndexReport:
        return await asyncio.to_thread(self.rebuild)

    def _index_folder(self, *, force: bool) -> IndexReport:
        files = article_files(self.source_dir)
        fingerprint = _fingerprint(files)  # taken before reading: a file changed meanwhile re-indexes
        if not force:
            stored = self._stored_report(fingerprint)
            if stored is not None:
                self._ready = True
                return stored
        articles, problems = load_articles(files)
        if not self.source_dir.is_dir():
            logger.warning("knowledge base: source folder %s does not exist", self.source_dir)
            problems.insert(0, f"{self.source_dir}: source folder does not exist")
        return self._write(articles, fingerprint=fingerprint, problems=problems)

    def _stored_report(self, fingerprint: str) -> IndexReport | None:
        """The report of the last run if the index is current for ``fingerprint``, else ``None``."""
        meta = self._read_meta()
        if meta is None:
            return None
        if meta.get("schema_version") != str(SCHEMA_VERSION) or meta.get("fingerprint") != fingerprint:
            return None
        problems = tuple(json.loads(meta.get("problems", "[]")))
        return IndexReport(int(meta.get("indexed", 0)), len(problems), unchanged=True, problems=problems)

    def _write(self, articles: Iterable[Article], *, fingerprint: str, problems: list[str]) -> IndexReport:
        """Replace every table with an index of ``articles`` (source :data:`FOLDER_SOURCE`), in one
        transaction; ``seq`` goes back to 0."""
        seen: set[str] = set()

        def write(conn: sqlite3.Connection, writer: SectionWriter) -> dict[str, str]:
            for article in articles:
                if article.slug in seen:
                    reason = f"{article.slug}: duplicate slug, only the first article is indexed"
                    logger.warning("knowledge base: skipping %s", reason)
                    problems.append(reason)
                    continue
                seen.add(article.slug)
                writer.add(FOLDER_SOURCE, article.as_source())
            return {
                "seq": "0",
                "fingerprint": fingerprint,
                "indexed": str(len(seen)),
                "problems": json.dumps(problems),
            }

        self._transaction(write, fresh=True)
        self._ready = True
        logger.info("knowledge base: indexed %d articles, skipped %d", len(seen), len(problems))
        return IndexReport(len(seen), len(problems), unchanged=False, problems=tuple(problems))

    # -- the file -------------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        """A connection to the index file; :class:`ConfigError` if that file is not an SQLite database."""
        self.index_path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.index_path, check_same_thread=False, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=5000")
            conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.DatabaseError as exc:
            conn.close()
            if "not a database" not in str(exc):
                raise
            # Not deleted automatically: the path may point at someone else's file by mistake.
            raise ConfigError(
                f"KB_INDEX_PATH: {self.index_path} is not an SQLite database; delete it to rebuild "
                "the knowledge-base index, or choose another path"
            ) from None
        return conn

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
        meta = {"schema_version": str(SCHEMA_VERSION), "seq": "0", "indexed": "0", "embedding": embedding}
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
        try:
            if fresh:
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA cache_size=-65536")
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
                if fresh:  # merge the full-text index's segments: a query then reads one doclist per word
                    conn.execute("INSERT INTO kb_fts (kb_fts) VALUES ('optimize')")
                (sections,) = conn.execute("SELECT count(*) FROM kb_sections").fetchone()
                generation = secrets.token_hex(8)  # searches drop what they cached of the index
                meta = {**meta, "sections": str(sections), "generation": generation}
                conn.executemany("INSERT OR REPLACE INTO kb_meta (key, value) VALUES (?, ?)", meta.items())
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        finally:
            conn.close()
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
        of one article. Never raises for odd query text. The first search of an instance indexes the
        source folder if the index was never built.
        """
        if not self._ready and self.seq == 0:  # not fed from the store: the KB_PATH folder is the index
            self.ensure_index()
        self._ready = True
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
        """A read connection for the caller alone: an idle one, or a new one; given back afterwards."""
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        try:
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
