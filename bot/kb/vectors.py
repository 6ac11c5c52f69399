"""The dense half of the index: one vector per section, in the index file and in memory.

``kb_vectors`` (beside ``kb_sections`` in the same SQLite file, :mod:`bot.kb.layout`) holds each
section's vector as float32 bytes; the writer computes them in batches as sections are added
(:class:`VectorWriter`), so an update embeds only the changed articles. Searches use an in-memory
copy (:class:`VectorSnapshot`): a matrix of all vectors with each row's section id and source. A
snapshot is never changed in place; a new one replaces it (patched from the changes this process
applied, or re-read when another process wrote the file), so a search keeps the one it started with.

Visibility and sources are filtered before ranking: rows the asker may not see get no score at all.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt

from bot.kb.embeddings import DIMENSIONS, Embedder, Vectors
from bot.kb.layout import INTERNAL_ID_BASE

#: Sections embedded per batch while indexing.
EMBED_BATCH = 256

#: Rows read at a time when the vectors are loaded into memory.
READ_CHUNK = 4_096

#: Characters of a section's text that are embedded after its title and heading.
EMBED_CHARS = 2_000


def section_text(title: str, heading: str | None, body: str) -> str:
    """What is embedded for a section: the article's title, the section's heading and its opening text."""
    return f"{title}. {heading + '. ' if heading else ''}{body[:EMBED_CHARS]}"


@dataclass
class VectorWriter:
    """Embeds added sections in batches and stores their vectors, inside the caller's transaction."""

    conn: sqlite3.Connection
    embedder: Embedder
    added: list[tuple[int, str, npt.NDArray[np.float32]]] = field(default_factory=list)
    _pending: list[tuple[int, str, str]] = field(default_factory=list)

    def add(self, row_id: int, source: str, title: str, heading: str | None, body: str) -> None:
        self._pending.append((row_id, source, section_text(title, heading, body)))
        if len(self._pending) >= EMBED_BATCH:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        vectors = self.embedder.embed([text for _, _, text in self._pending])
        self.conn.executemany(
            "INSERT INTO kb_vectors (id, vec) VALUES (?, ?)",
            (
                (row_id, vector.tobytes())
                for (row_id, _, _), vector in zip(self._pending, vectors, strict=True)
            ),
        )
        self.added.extend(
            (row_id, source, vector)
            for (row_id, source, _), vector in zip(self._pending, vectors, strict=True)
        )
        self._pending.clear()


@dataclass(frozen=True)
class VectorSnapshot:
    """Every section's vector at one generation of the index; read-only."""

    generation: str | None
    ids: npt.NDArray[np.int64]
    sources: npt.NDArray[np.int32]  # index into source_names
    source_names: tuple[str, ...]
    matrix: Vectors

    @classmethod
    def empty(cls, generation: str | None = None) -> VectorSnapshot:
        return cls(
            generation,
            np.zeros(0, dtype=np.int64),
            np.zeros(0, dtype=np.int32),
            (),
            np.zeros((0, DIMENSIONS), dtype=np.float32),
        )

    @classmethod
    def read(cls, conn: sqlite3.Connection, generation: str | None) -> VectorSnapshot:
        """All vectors of the index file (an empty snapshot if it has none), read in chunks of
        :data:`READ_CHUNK` rows straight into the matrix (a list of every row's bytes would outweigh it)."""
        try:
            count = conn.execute("SELECT count(*) FROM kb_vectors").fetchone()[0]
            cursor = conn.execute(
                "SELECT v.id, s.source, v.vec FROM kb_vectors AS v JOIN kb_sections AS s ON s.id = v.id"
            )
        except sqlite3.OperationalError:  # no vectors table: an index written without the model
            return cls.empty(generation)
        names: dict[str, int] = {}
        ids = np.empty(count, dtype=np.int64)
        sources = np.empty(count, dtype=np.int32)
        matrix = np.empty((count, DIMENSIONS), dtype=np.float32)
        filled = 0
        while rows := cursor.fetchmany(READ_CHUNK):
            end = filled + len(rows)
            if end > len(ids):  # rows written since the count: make room
                ids, sources, matrix = (
                    np.resize(a, (end + READ_CHUNK, *a.shape[1:])) for a in (ids, sources, matrix)
                )
            ids[filled:end] = [row[0] for row in rows]
            sources[filled:end] = [names.setdefault(row[1], len(names)) for row in rows]
            matrix[filled:end] = np.frombuffer(b"".join(row[2] for row in rows), dtype=np.float32).reshape(
                -1, DIMENSIONS
            )
            filled = end
        return cls(generation, ids[:filled], sources[:filled], tuple(names), matrix[:filled])

    def patched(
        self,
        generation: str,
        removed: Collection[int],
        added: Sequence[tuple[int, str, npt.NDArray[np.float32]]],
    ) -> VectorSnapshot:
        """A new snapshot without the ``removed`` section ids and with ``added`` ones."""
        keep = ~np.isin(self.ids, np.fromiter(removed, dtype=np.int64, count=len(removed)))
        names = {name: i for i, name in enumerate(self.source_names)}
        new_sources = np.fromiter(
            (names.setdefault(s, len(names)) for _, s, _ in added), dtype=np.int32, count=len(added)
        )
        ids = np.concatenate(
            (self.ids[keep], np.fromiter((i for i, _, _ in added), dtype=np.int64, count=len(added)))
        )
        matrix = np.concatenate(
            (self.matrix[keep], np.array([v for _, _, v in added], dtype=np.float32).reshape(-1, DIMENSIONS))
        )
        sources = np.concatenate((self.sources[keep], new_sources))
        return VectorSnapshot(generation, ids, sources, tuple(names), matrix)

    def nearest(
        self,
        query: npt.NDArray[np.float32],
        *,
        include_internal: bool,
        sources: Collection[str] | None,
        k: int,
        margin: float,
    ) -> Nearest:
        """The ``k`` sections most similar to ``query`` among those the asker may see and within
        ``margin`` of the best one's similarity, with the best one's standard score among them (see
        :class:`Nearest`).

        Cut at the margin before sorting: usually a few sections are near the best one, so only they are
        sorted (a partition of every similarity cost more than the similarities themselves).
        """
        if not len(self.ids):
            return Nearest([], None)
        allowed = None if include_internal else self._public
        if sources is not None:
            wanted = [i for i, name in enumerate(self.source_names) if name in sources]
            in_sources = np.isin(self.sources, wanted)
            allowed = in_sources if allowed is None else allowed & in_sources
        count = len(self.ids) if allowed is None else int(np.count_nonzero(allowed))
        if not count:
            return Nearest([], None)
        # einsum, not BLAS: one core's loop; a multi-threaded BLAS matvec was several times slower than it
        # while other work (other searches, the event loop) wanted the cores.
        scores = np.einsum("ij,j->i", self.matrix, query)
        visible = scores if allowed is None else scores[allowed]  # the others are never ranked nor counted
        best = float(visible.max())
        near = np.flatnonzero(scores >= best - margin)
        if allowed is not None:
            near = near[allowed[near]]
        if len(near) > k:
            near = near[np.argpartition(-scores[near], k - 1)[:k]]
        near = near[np.argsort(-scores[near], kind="stable")]
        ranking = [(int(self.ids[i]), float(scores[i])) for i in near]
        # mean and spread from the sum and the sum of squares: one pass each, no copies
        mean = float(visible.sum(dtype=np.float64)) / count
        spread = math.sqrt(max(float(np.dot(visible, visible)) / count - mean * mean, 0.0))
        return Nearest(ranking, (best - mean) / spread if spread > 0 else 0.0)

    @cached_property
    def _public(self) -> npt.NDArray[np.bool_]:
        """Which rows are public sections (internal ones have ids from INTERNAL_ID_BASE up)."""
        return self.ids < INTERNAL_ID_BASE


@dataclass(frozen=True)
class Nearest:
    """A dense ranking: (section id, cosine) best first, and ``z``, the best cosine's standard score
    against the similarities of every section the asker may see (None when there are none)."""

    ranking: list[tuple[int, float]]
    z: float | None
