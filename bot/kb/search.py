"""Ranking the sections of the index for one query (docs/architecture.md §6a).

Lexical: FTS5's bm25 over the stemmed words (:mod:`bot.kb.lexical`), the title weighted above the
section heading, tags and text, plus a title bonus per query word found in the title that grows with
how rare the word is (its idf), so "return policy" is decided by the title "Returns policy" even where
"return" occurs in most articles and bm25 gives it no weight, while a common word in a title ("order")
cannot outweigh the body's rare words ("customs"). Visibility (a rowid range) and sources are filtered in
the query that ranks, never afterwards. At most ``per_article`` sections of one article are returned.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import threading
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from bot.kb.embeddings import Embedder, unavailable_reason
from bot.kb.fusion import DENSE_MARGIN, Relevance, fuse
from bot.kb.glossary import glossary
from bot.kb.hits import MAX_LIMIT, KbHit, Visibility
from bot.kb.layout import INTERNAL_ID_BASE, MAX_ROWID
from bot.kb.lexical import WORD, fold, match_expression, query_terms, stem, words
from bot.kb.snippets import SNIPPET_SCAN_CHARS, snippet
from bot.kb.spelling import corrections, known
from bot.kb.vectors import Nearest, VectorSnapshot

logger = logging.getLogger(__name__)

#: bm25 column weights, in the order of the FTS5 columns (title, heading, tags, body).
BM25_WEIGHTS = (10.0, 5.0, 4.0, 1.0)

#: The title bonus of a query word found in the title, per unit of its idf (see the module docstring).
TITLE_IDF_WEIGHT = 1.0

#: How many bm25 results per requested hit are ranked further (at least MIN_POOL).
POOL_FACTOR = 4
MIN_POOL = 20

#: Lexical sections whose words are compared with the query's for its coverage (bot.kb.fusion).
COVERAGE_SECTIONS = 3

#: How many of each half's first hits are compared for the halves' agreement (bot.kb.fusion).
AGREE_TOP = 3

#: A query word found in more than this many sections *and* this share of all sections is "common":
#: its bm25 weight (idf) is small while ranking every section that contains it dominates query time,
#: so it is dropped from queries that have rarer words. Small knowledge bases never reach the floor.
COMMON_TERM_MIN_DOCS = 2_000
COMMON_TERM_FRACTION = 0.05

_DOC_COUNT_CACHE_SIZE = 10_000

#: Threads that rank the dense half while the calling thread ranks the lexical one.
DENSE_THREADS = 2
_DENSE_WORKERS = ThreadPoolExecutor(DENSE_THREADS, thread_name_prefix="kb-dense")

Reading = Callable[[], AbstractContextManager[sqlite3.Connection]]


@dataclass(frozen=True)
class _Candidate:
    id: int
    source: str
    key: str
    title: str
    url: str
    heading: str | None
    visibility: Visibility
    score: float


def _pool_sql(with_sources: bool) -> str:
    sources = (
        " AND (SELECT source FROM kb_sections WHERE id = kb_fts.rowid)"
        " IN (SELECT value FROM json_each(:sources))"
        if with_sources
        else ""
    )
    # CROSS JOIN fixes the join order: the pool is ranked first, then its few rows are looked up.
    return f"""
    WITH pool (id, score) AS (
        SELECT rowid, bm25(kb_fts, {", ".join(map(str, BM25_WEIGHTS))})
        FROM kb_fts
        WHERE kb_fts MATCH :match AND rowid < :id_limit{sources}
        ORDER BY 2
        LIMIT :pool
    )
    SELECT s.id, s.source, s.key, s.title, s.url, s.heading, s.visibility, pool.score
    FROM pool CROSS JOIN kb_sections AS s ON s.id = pool.id
    WHERE (:include_internal OR s.visibility = 'public')
    ORDER BY pool.score
    """


_POOL_SQL = {False: _pool_sql(False), True: _pool_sql(True)}
_BODY_SQL = "SELECT substr(body, 1, ?) FROM kb_sections WHERE id = ?"


class Searcher:
    """Searches one index file through connections from ``reading``.

    Caches word counts and the in-memory vectors per generation of the index (``kb_meta``); the
    embedder comes from ``embedder`` (None: the dense half is off and search is lexical).
    """

    def __init__(
        self, reading: Reading, lock: threading.Lock, embedder: Callable[[], Embedder | None]
    ) -> None:
        self._reading = reading
        self._lock = lock  # shared with the index's connection pool; held only around the caches
        self._embedder = embedder
        self._generation: str | None = None
        self._sections = 0
        self._doc_counts: dict[str, int] = {}
        self._snapshot: VectorSnapshot | None = None
        self._load_lock = threading.Lock()  # one reader of the vectors at a time

    def search(
        self,
        query: str,
        *,
        include_internal: bool,
        sources: Collection[str] | None,
        limit: int,
        per_article: int,
    ) -> list[KbHit]:
        if limit <= 0 or (sources is not None and not sources):
            return []
        limit = min(limit, MAX_LIMIT)
        terms = query_terms(query)
        try:
            with self._reading() as conn:
                ranked = self._rank(conn, query, terms, include_internal, sources, limit)
                if ranked is None or not ranked[1].relevant():
                    return []
                terms = ranked[2]  # as searched: spelt right, in English (bot.kb.glossary)
                chosen = _per_article(ranked[0], per_article)[:limit]
                bodies = [conn.execute(_BODY_SQL, (SNIPPET_SCAN_CHARS + 1, c.id)).fetchone() for c in chosen]
        except sqlite3.OperationalError as exc:
            if "fts5" not in str(exc) and "no such table" not in str(exc):
                raise
            logger.warning("knowledge base: the index could not answer %r: %s", query[:200], exc)
            return []
        hits = []
        for candidate, body in zip(chosen, bodies, strict=True):
            text = body[0] if body else ""
            cut = len(text) > SNIPPET_SCAN_CHARS
            hits.append(
                KbHit(
                    slug=candidate.key,
                    title=candidate.title,
                    url=candidate.url,
                    visibility=candidate.visibility,
                    snippet=snippet(text[:SNIPPET_SCAN_CHARS], terms or words(query), truncated=cut),
                    score=candidate.score,
                    source=candidate.source,
                    section=candidate.heading,
                )
            )
        return hits

    def relevance(self, query: str, *, include_internal: bool, sources: Collection[str] | None) -> Relevance:
        """The evidence :meth:`search` decides "nothing relevant" on (for calibration and diagnostics)."""
        with self._reading() as conn:
            ranked = self._rank(conn, query, query_terms(query), include_internal, sources, MIN_POOL)
        return ranked[1] if ranked is not None else Relevance(0.0)

    def semantic_status(self) -> str | None:
        """None while the dense half works; otherwise why search is lexical only."""
        if self._embedder() is None:
            return (
                f"semantic search off, search is lexical only: {unavailable_reason() or 'model not loaded'}"
            )
        return None

    def take_patch(
        self,
        before: str | None,
        generation: str,
        removed: Collection[int],
        added: Sequence[tuple[int, str, npt.NDArray[np.float32]]],
    ) -> None:
        """Bring the in-memory vectors from generation ``before`` to ``generation`` with this process's
        own write, without re-reading them (if they are at another generation, the next search reads)."""
        with self._load_lock:
            snapshot = self._snapshot
            if snapshot is not None and snapshot.generation == before:
                self._snapshot = snapshot.patched(generation, removed, added)

    def _rank(
        self,
        conn: sqlite3.Connection,
        query: str,
        terms: list[str],
        include_internal: bool,
        sources: Collection[str] | None,
        limit: int,
    ) -> tuple[list[_Candidate], Relevance, list[str]] | None:
        """Both halves, fused, best first, with the query's :class:`Relevance` and the words searched
        for; None for an empty index."""
        meta = dict(conn.execute("SELECT key, value FROM kb_meta").fetchall())
        if "generation" not in meta:
            return None
        pool = max(MIN_POOL, POOL_FACTOR * limit)
        topical = self._topical(conn, meta, query)
        terms, query = self._translated(conn, meta, terms, query)
        terms, query, recognised = self._spelled(conn, meta, terms, query)
        vectors = self._vectors(conn, meta)
        if vectors is not None:  # the dense half runs beside the lexical one (both release the GIL)
            dense_work = _DENSE_WORKERS.submit(_nearest, *vectors, query, include_internal, sources, pool)
        lexical, coverage, known = self._lexical(conn, meta, terms, include_internal, sources, pool)
        dense = None if vectors is None else dense_work.result()
        by_id = {c.id: c for c in lexical}
        ranking = dense.ranking if dense is not None else []
        fused = fuse([c.id for c in lexical], [section for section, _ in ranking])
        missing = [
            section
            for section in {s for s, _ in fused} | {s for s, _ in ranking[:AGREE_TOP]}
            if section not in by_id
        ]
        if missing:
            rows = conn.execute(
                f"SELECT id, source, key, title, url, heading, visibility FROM kb_sections WHERE id IN "
                f"({', '.join('?' * len(missing))})",
                missing,
            )
            for row_id, source, key, title, url, heading, visibility in rows:
                by_id[row_id] = _Candidate(row_id, source, key, title, url, heading, visibility, 0.0)
        ranked = [replace(by_id[section], score=score) for section, score in fused if section in by_id]
        if dense is None:
            return ranked, Relevance(coverage, topical=topical, words=len(terms)), terms
        lexical_top = {(c.source, c.key) for c in lexical[:AGREE_TOP]}
        agree = any(
            (by_id[s].source, by_id[s].key) in lexical_top for s, _ in ranking[:AGREE_TOP] if s in by_id
        )
        cosine = ranking[0][1] if ranking else 0.0
        z = dense.z if dense.z is not None else 0.0
        return ranked, Relevance(coverage, cosine, z, agree, recognised, known, topical, len(terms)), terms

    def _topical(self, conn: sqlite3.Connection, meta: dict[str, str], query: str) -> bool:
        """Whether the index mentions every support topic ``query`` names (:meth:`Glossary.named_topics`):
        a question about gift wrapping, asked of a knowledge base that never says "wrap", has no answer
        there however near "gift cards" its vector falls."""
        named = glossary().named_topics(query)
        if not named:
            return True
        counts, _ = self._counts(conn, meta, sorted(set().union(*named)))
        return all(any(counts[s] for s in topic) for topic in named)

    def _translated(
        self, conn: sqlite3.Connection, meta: dict[str, str], terms: list[str], query: str
    ) -> tuple[list[str], str]:
        """``terms`` and ``query`` with the words of another language that the index does not hold in
        English where the support glossary knows them, and without that language's function words
        (:mod:`bot.kb.glossary`), for both halves."""

        def holds(found: Sequence[str]) -> set[str]:
            counts, _ = self._counts(conn, meta, list(dict.fromkeys(stem(word) for word in found)))
            return {word for word in found if counts[stem(word)]}

        translation = glossary().translate(query, holds)
        if not translation.changed:
            return terms, query
        return query_terms(translation.query), translation.query

    def _spelled(
        self, conn: sqlite3.Connection, meta: dict[str, str], terms: list[str], query: str
    ) -> tuple[list[str], str, bool]:
        """``terms`` and ``query`` with each word no section holds replaced by its correction, if it has
        one (:mod:`bot.kb.spelling`), for both halves; and whether any word of the query is a word at
        all: one the index holds, one of the model's vocabulary, or a correction (``False`` for
        "zxqv blorft", whose pieces still have *some* similarity to every section). Without the
        embedding model nothing is corrected: it is what tells a typing mistake from a real word the
        index lacks."""
        embedder = self._embedder()
        if embedder is None:
            return terms, query, True
        counts, _ = self._counts(conn, meta, list(dict.fromkeys(stem(term) for term in terms)))
        unknown = [term for term in terms if not counts[stem(term)]]
        fixes = corrections(conn, unknown, embedder.is_word)
        recognised = (
            not terms
            or len(unknown) < len(terms)
            or bool(fixes)
            or any(known(t, embedder.is_word) for t in unknown)
        )
        if not fixes:
            return terms, query, recognised
        spelled = WORD.sub(lambda word: fixes.get(fold(word[0]), word[0]), query)
        return list(dict.fromkeys(fixes.get(term, term) for term in terms)), spelled, recognised

    def _vectors(
        self, conn: sqlite3.Connection, meta: dict[str, str]
    ) -> tuple[Embedder, VectorSnapshot] | None:
        """The embedder and the in-memory vectors of the index's generation (read once after another
        process wrote it), or None when the dense half is off."""
        embedder = self._embedder()
        if embedder is None or meta.get("embedding") != embedder.name:
            return None
        snapshot = self._snapshot
        if snapshot is None or snapshot.generation != meta["generation"]:
            with self._load_lock:  # another process wrote the index: read its vectors once
                snapshot = self._snapshot
                if snapshot is None or snapshot.generation != meta["generation"]:
                    snapshot = VectorSnapshot.read(conn, meta["generation"])
                    self._snapshot = snapshot
        return embedder, snapshot

    def _lexical(
        self,
        conn: sqlite3.Connection,
        meta: dict[str, str],
        terms: list[str],
        include_internal: bool,
        sources: Collection[str] | None,
        pool: int,
    ) -> tuple[list[_Candidate], float, float]:
        """The pool of sections bm25 ranks best, re-scored with the title bonus, best first, and the
        query's coverage and the share of its rarity the index knows at all (see :mod:`bot.kb.fusion`)."""
        stems = list(dict.fromkeys(stem(term) for term in terms))
        if not stems:
            return [], 0.0, 0.0
        counts, total = self._counts(conn, meta, stems)
        idf = {s: math.log(1 + (total - counts[s] + 0.5) / (counts[s] + 0.5)) for s in stems}
        present = [s for s in stems if counts[s] > 0]
        if not present:
            return [], 0.0, 0.0
        known = sum(idf[s] for s in present) / sum(idf.values())
        threshold = max(COMMON_TERM_MIN_DOCS, int(total * COMMON_TERM_FRACTION))
        selective = [s for s in present if counts[s] <= threshold] or [min(present, key=counts.__getitem__)]
        params: dict[str, object] = {
            "match": match_expression(selective),
            "id_limit": MAX_ROWID if include_internal else INTERNAL_ID_BASE,
            "include_internal": include_internal,
            "pool": pool,
        }
        if sources is not None:
            params["sources"] = _json_list(sources)
        candidates = []
        for row_id, source, key, title, url, heading, visibility, bm25 in conn.execute(
            _POOL_SQL[sources is not None], params
        ):
            title_stems = {stem(word) for word in words(title)}
            bonus = TITLE_IDF_WEIGHT * sum(idf[s] for s in present if s in title_stems)
            candidates.append(_Candidate(row_id, source, key, title, url, heading, visibility, -bm25 + bonus))
        candidates.sort(key=lambda c: c.score, reverse=True)  # stable: bm25 order breaks ties
        return candidates, self._coverage(conn, candidates[:COVERAGE_SECTIONS], idf), known

    @staticmethod
    def _coverage(conn: sqlite3.Connection, candidates: list[_Candidate], idf: dict[str, float]) -> float:
        """The largest share of the query's idf that one of ``candidates`` holds."""
        total = sum(idf.values())
        best = 0.0
        for candidate in candidates:
            row = conn.execute(
                "SELECT title || ' ' || heading || ' ' || tags || ' ' || substr(body, 1, ?) FROM kb_fts "
                "WHERE rowid = ?",
                (SNIPPET_SCAN_CHARS, candidate.id),
            ).fetchone()
            held = set(row[0].split()) if row else set()
            best = max(best, sum(weight for s, weight in idf.items() if s in held) / total)
        return best

    def _counts(
        self, conn: sqlite3.Connection, meta: dict[str, str], stems: list[str]
    ) -> tuple[dict[str, int], int]:
        """How many sections hold each of ``stems``, and how many sections there are (cached until the
        index changes: a new ``generation`` in ``kb_meta``)."""
        with self._lock:
            if meta.get("generation") != self._generation:  # first call, or the index was rewritten
                self._generation = meta.get("generation")
                self._doc_counts.clear()
                self._sections = int(meta.get("sections", 0))
            if len(self._doc_counts) > _DOC_COUNT_CACHE_SIZE:
                self._doc_counts.clear()
            counts = {s: self._doc_counts[s] for s in stems if s in self._doc_counts}
            total = self._sections
        missing = [s for s in stems if s not in counts]
        if missing:
            found = dict(
                conn.execute(
                    f"SELECT term, doc FROM kb_vocab WHERE term IN ({', '.join('?' * len(missing))})", missing
                ).fetchall()
            )
            for s in missing:
                counts[s] = int(found.get(s, 0))
            with self._lock:
                if self._generation == meta.get("generation"):
                    self._doc_counts.update({s: counts[s] for s in missing})
        return counts, total


def _nearest(
    embedder: Embedder,
    snapshot: VectorSnapshot,
    query: str,
    include_internal: bool,
    sources: Collection[str] | None,
    pool: int,
) -> Nearest:
    """The dense half: the sections nearest to the query's vector."""
    vector = embedder.embed([query])[0]
    if not vector.any():
        return Nearest([], 0.0)
    return snapshot.nearest(
        vector, include_internal=include_internal, sources=sources, k=pool, margin=DENSE_MARGIN
    )


def _json_list(values: Collection[str]) -> str:
    return json.dumps(sorted(values))


def _per_article(candidates: list[_Candidate], per_article: int) -> list[_Candidate]:
    """``candidates`` (best first) with at most ``per_article`` sections of one article."""
    seen: dict[tuple[str, str], int] = {}
    kept = []
    for candidate in candidates:
        article = (candidate.source, candidate.key)
        if seen.get(article, 0) < max(1, per_article):
            seen[article] = seen.get(article, 0) + 1
            kept.append(candidate)
    return kept
