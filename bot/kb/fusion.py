"""Joining the lexical and the dense ranking, and deciding that nothing is relevant.

Reciprocal rank fusion: a section's fused score is the sum over the two rankings of
``weight / (RRF_K + rank)``; it needs no common scale between bm25 and cosine similarity, and a section
found by both halves beats one found by either alone.

Abstention needs absolute evidence, which ranks do not give. :class:`Relevance` gathers general signals
of one query: ``coverage``, the share of the query's word rarity (idf, a word the index has never seen
counted as rare) that the best lexical section holds; ``cosine``, the best similarity of a section the
asker may see; ``z``, that similarity as a standard score against the similarities of all the sections
the asker may see (an off-topic query is about as near to the best section as to any, so it sits near
the mean); ``agree``, whether the two halves' first three hits share an article; ``focus``, how much
less of the query's rarity the best section holds than the whole index does; ``topical``, whether the
index mentions every support topic the query names (``bot.kb.glossary``: "gift wrapping" asked of a
knowledge base that never says "wrap"). A query none of whose words is a word (not in the index, not in
the model's vocabulary, no typing mistake of one) is never relevant; otherwise a logistic model of them
(:data:`DENSE_MODEL`; :data:`LEXICAL_MODEL` on coverage and topical when the dense half is off) scores
the query; below 0 search returns ``[]`` ("nothing relevant"), unless one section holds every word of a
query of two words or more. The numbers are fitted by
``bench/kb_quality.py --fit`` on its labelled questions (which also cross-validates the fit and prints
what it would ship) and set here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: The rank offset of reciprocal rank fusion (the usual 60 flattens a short list too much).
RRF_K = 20

#: Weights of the lexical and the dense ranking in the fused score: the dense half, which finds what is
#: said in other words, counts half as much again (bench/kb_quality.py: recall@3 and MRR@5 higher on
#: both the main and the held-out set than with equal weights).
LEXICAL_WEIGHT = 1.0
DENSE_WEIGHT = 1.5

#: Coverage that counts as every word of the query found in one section (rounding aside), and the fewest
#: words for which that alone decides: one word found says little ("thanks, that's all!" is "thanks").
FULL_COVERAGE = 0.999
FULL_COVERAGE_WORDS = 2

#: Weights over :meth:`Relevance.features` (intercept first). ``bench/kb_quality.py --fit`` fits a
#: logistic regression (L2-regularised, on standardised features, each weight kept non-negative: every
#: signal can only add evidence) of "answerable" on the main labelled set, then lowers its intercept by
#: the decision threshold: the highest log-odds that keeps false abstentions at most 3 % of the
#: answerable questions, so a score below 0 means "nothing relevant". Fitted on
#: bench/kb_questions/main.yaml (399 questions, 63 unanswerable, 120 of them in eight other languages)
#: over the demo KB: the best similarity carries most of the weight, then whether the index knows the
#: topics the question names, then coverage and focus; z and agreement none. Cross-validated, it abstains
#: on 68 % of the unanswerable questions with 4 % false abstentions (recall@3 0.93, MRR@5 0.86).
DENSE_MODEL: tuple[float, ...] = (-11.673, 1.8494, 14.2489, 0.0, 0.0, 0.6946, 7.0707)
LEXICAL_MODEL: tuple[float, ...] = (-7.2273, 4.5289, 6.5833)


#: The dense half ranks only the sections within this similarity of its best one (``VectorSnapshot.nearest``
#: cuts there): every section has *some* similarity to any query, and a distant one must not ride on rank
#: alone.
DENSE_MARGIN = 0.10


@dataclass(frozen=True)
class Relevance:
    """The absolute evidence that a query has an answer in the index (see the module docstring)."""

    coverage: float
    cosine: float | None = None  # None (and z None, agree False) when the dense half is off
    z: float | None = None
    agree: bool = False
    recognised: bool = True  # whether any query word is a word (bot.kb.search.Searcher._spelled)
    known: float = 1.0  # the share of the query's word rarity that any section holds (at least coverage)
    topical: bool = True  # whether the index mentions every support topic the query names
    words: int = 0  # how many distinct words the query was searched with (after the glossary and spelling)

    def features(self) -> tuple[float, ...]:
        """The model's inputs: coverage and topical without the dense half, else coverage, cosine, z,
        agree, focus and topical."""
        if self.cosine is None or self.z is None:
            return (self.coverage, float(self.topical))
        return (self.coverage, self.cosine, self.z, float(self.agree), self.focus, float(self.topical))

    @property
    def focus(self) -> float:
        """``coverage - known``: 0 when the best lexical section holds every word of the query the index
        knows, below 0 when the index knows some of them only from other sections, as for a question
        that joins topics the knowledge base covers apart ("are you hiring at the Reno warehouse")."""
        return self.coverage - self.known

    def score(self, model: Sequence[float] | None = None) -> float:
        """The log-odds that the query has an answer, by ``model`` (by default the fitted one)."""
        values = self.features()
        if model is None:
            model = LEXICAL_MODEL if self.cosine is None or self.z is None else DENSE_MODEL
        return model[0] + sum(w * x for w, x in zip(model[1:], values, strict=True))

    def relevant(self, model: Sequence[float] | None = None) -> bool:
        """Whether the query has a relevant section: never when none of its words is a word (nonsense
        has no answer, however near its pieces' vector falls); else every word in one section
        (:meth:`full`), or a score of at least 0 (by default the fitted model's)."""
        return self.recognised and (self.full() or self.score(model) >= 0.0)

    def full(self) -> bool:
        """Whether one section holds every word of a query of at least :data:`FULL_COVERAGE_WORDS` words:
        relevant whatever the model says, even when the section is long and its vector far from the
        query's."""
        return self.coverage >= FULL_COVERAGE and self.words >= FULL_COVERAGE_WORDS


def fuse(lexical: Sequence[int], dense: Sequence[int]) -> list[tuple[int, float]]:
    """Section ids of both rankings (best first each) by fused score, best first; ties keep lexical order."""
    scores: dict[int, float] = {}
    for weight, ranking in ((LEXICAL_WEIGHT, lexical), (DENSE_WEIGHT, dense)):
        for rank, section in enumerate(ranking, start=1):
            scores[section] = scores.get(section, 0.0) + weight / (RRF_K + rank)
    return sorted(scores.items(), key=lambda item: item[1], reverse=True)
