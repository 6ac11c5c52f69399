"""The index file's tables, and the writer that puts an article's sections into them.

One SQLite file per instance, beside nothing else: ``kb_meta`` (layout version, the store's ``seq``
applied through and the store's identity, counts, a generation that changes with every write),
``kb_sections`` (what a hit shows: source, article key, title, section heading, ``url#anchor``,
visibility, plain text), ``kb_fts`` (an FTS5 table of the same rows' stemmed words, :mod:`bot.kb.lexical`)
and ``kb_vocab`` (its per-word row counts, for the rarity of a word).

Row ids split by visibility: public sections below :data:`INTERNAL_ID_BASE`, internal ones from it up,
so "public only" is a rowid range that FTS5 applies while it walks its index, and a CHECK constraint
keeps the id and the visibility column in agreement.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from bot.kb.lexical import stemmed
from bot.kb.markdown import cut_text, markdown_to_text
from bot.kb.sections import split_sections
from bot.kb.sources.base import SourceArticle

if TYPE_CHECKING:
    from bot.kb.vectors import VectorWriter

#: Bumped whenever the index layout or the text preparation changes, so old index files are rebuilt.
SCHEMA_VERSION = 3

#: Characters of one section's plain text that are indexed; the rest is cut at index time. A help
#: article is a few thousand characters; a megabyte of one repeated word is a mistake or an attack, and
#: every search would pay for it.
MAX_SECTION_CHARS = 200_000

INTERNAL_ID_BASE = 1 << 40
MAX_ROWID = (1 << 63) - 1

SCHEMA = f"""
CREATE TABLE kb_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE kb_sections (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    key TEXT NOT NULL,
    title TEXT NOT NULL,
    url TEXT NOT NULL,
    heading TEXT,
    visibility TEXT NOT NULL CHECK ((visibility = 'internal') = (id >= {INTERNAL_ID_BASE})),
    body TEXT NOT NULL
);
CREATE INDEX kb_sections_article ON kb_sections (source, key);
CREATE VIRTUAL TABLE kb_fts USING fts5(title, heading, tags, body, tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE kb_vocab USING fts5vocab(kb_fts, 'row');
CREATE TABLE kb_vectors (id INTEGER PRIMARY KEY, vec BLOB NOT NULL);
"""

DROP = """
DROP TABLE IF EXISTS kb_vectors;
DROP TABLE IF EXISTS kb_vocab;
DROP TABLE IF EXISTS kb_fts;
DROP TABLE IF EXISTS kb_sections;
DROP TABLE IF EXISTS kb_articles_fts;
DROP TABLE IF EXISTS kb_articles;
DROP TABLE IF EXISTS kb_meta;
"""


def section_url(url: str, anchor: str | None) -> str:
    """Where a section is read: the article's address with the section's anchor, if both exist."""
    return f"{url.split('#', 1)[0]}#{anchor}" if url and anchor else url


class SectionWriter:
    """Adds and removes articles' sections inside the caller's open write transaction.

    ``vectors`` (None when the embedding model is off) embeds each added section; ``removed`` collects
    the ids of removed sections, for the in-memory vectors.
    """

    def __init__(self, conn: sqlite3.Connection, vectors: VectorWriter | None) -> None:
        self._conn = conn
        self._vectors = vectors
        self.removed: list[int] = []
        top = "SELECT coalesce(max(id), ?) FROM kb_sections WHERE id >= ? AND id < ?"
        public = conn.execute(top, (0, 0, INTERNAL_ID_BASE)).fetchone()[0]
        internal = conn.execute(top, (INTERNAL_ID_BASE - 1, INTERNAL_ID_BASE, MAX_ROWID)).fetchone()[0]
        self._next = {"public": public + 1, "internal": internal + 1}

    def add(self, source: str, article: SourceArticle) -> int:
        """Index ``article``'s sections (it must not be indexed already); returns how many."""
        tags = stemmed(" ".join(article.tags))
        title = stemmed(article.title)
        sections = split_sections(article.body)
        for section in sections:
            row_id = self._next[article.visibility]
            self._next[article.visibility] += 1
            text = cut_text(markdown_to_text(section.markdown), MAX_SECTION_CHARS)
            self._conn.execute(
                "INSERT INTO kb_sections VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row_id,
                    source,
                    article.key,
                    article.title,
                    section_url(article.url, section.anchor),
                    section.heading,
                    article.visibility,
                    text,
                ),
            )
            self._conn.execute(
                "INSERT INTO kb_fts (rowid, title, heading, tags, body) VALUES (?, ?, ?, ?, ?)",
                (row_id, title, stemmed(section.heading or ""), tags, stemmed(text)),
            )
            if self._vectors is not None:
                self._vectors.add(row_id, source, article.title, section.heading, text)
        return len(sections)

    def finish(self) -> None:
        """Embed and store what is still waiting in the last batch."""
        if self._vectors is not None:
            self._vectors.flush()

    def remove(self, source: str, key: str) -> None:
        """Remove every section of the article ``key`` of ``source`` (nothing if it is not indexed)."""
        ids = [
            row[0]
            for row in self._conn.execute(
                "SELECT id FROM kb_sections WHERE source = ? AND key = ?", (source, key)
            )
        ]
        if ids:
            for table in ("kb_fts WHERE rowid", "kb_vectors WHERE id", "kb_sections WHERE id"):
                self._conn.executemany(f"DELETE FROM {table} = ?", ((row_id,) for row_id in ids))
            self.removed.extend(ids)
