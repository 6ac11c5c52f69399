"""Joining the lexical and the dense ranking, and deciding that nothing is relevant.

Reciprocal rank fusion: a section's fused score is the sum over the two rankings of
``weight / (RRF_K + rank)``; it needs no common scale between bm25 and cosine similarity, and a section
found by both halves beats one found by either alone.

Abstention needs absolute evidence, which ranks do not give, so it looks at two numbers per query
(:class:`Relevance`): ``coverage``, the share of the query's word rarity (idf, with a word the index has
never seen counted as rare) that the best lexical section contains, and ``cosine``, the best similarity of
a section the asker may see. A query is answered when either reaches its floor; below both, search
returns ``[]`` ("nothing relevant"). The floors are calibrated by bench/kb_quality.py (cross-validated
on its labelled questions) and set here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: The rank offset of reciprocal rank fusion (the usual 60 flattens a short list too much).
RRF_K = 20

#: Weights of the lexical and the dense ranking in the fused score.
LEXICAL_WEIGHT = 1.0
DENSE_WEIGHT = 1.0

#: Below both floors a query has no relevant section (calibrated: see the module docstring).
COVERAGE_FLOOR = 0.2
COSINE_FLOOR = 0.11


#: The dense half ranks only the sections within this similarity of its best one: every section has
#: *some* similarity to any query, and a distant one must not ride on rank alone.
DENSE_MARGIN = 0.15


@dataclass(frozen=True)
class Relevance:
    """The absolute evidence that a query has an answer in the index (see the module docstring)."""

    coverage: float
    cosine: float | None  # None when the dense half is off

    def relevant(self, coverage_floor: float | None = None, cosine_floor: float | None = None) -> bool:
        """Whether either number reaches its floor (by default the calibrated ones)."""
        coverage_floor = COVERAGE_FLOOR if coverage_floor is None else coverage_floor
        cosine_floor = COSINE_FLOOR if cosine_floor is None else cosine_floor
        return self.coverage >= coverage_floor or (self.cosine is not None and self.cosine >= cosine_floor)


def fuse(lexical: Sequence[int], dense: Sequence[int]) -> list[tuple[int, float]]:
    """Section ids of both rankings (best first each) by fused score, best first; ties keep lexical order."""
    scores: dict[int, float] = {}
    for weight, ranking in ((LEXICAL_WEIGHT, lexical), (DENSE_WEIGHT, dense)):
        for rank, section in enumerate(ranking, start=1):
            scores[section] = scores.get(section, 0.0) + weight / (RRF_K + rank)
    return sorted(scores.items(), key=lambda item: item[1], reverse=True)


def near_enough(dense: Sequence[tuple[int, float]]) -> list[int]:
    """The ids of a dense ranking ((id, cosine), best first) that are close enough to count (see
    :data:`DENSE_MARGIN`)."""
    if not dense:
        return []
    floor = dense[0][1] - DENSE_MARGIN
    return [section for section, cosine in dense if cosine >= floor]
