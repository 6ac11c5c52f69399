"""Query words the index has never seen, matched to its vocabulary by one typing mistake.

"pakage" and "refnud" hold no stem the full-text index knows, so bm25 cannot use them. A word of the
query that no section holds and that is no word of the embedding model's vocabulary either (its
tokenizer splits it into pieces, and splits its stem too) is replaced by the spelling one edit away (a
letter dropped, added, changed, or two neighbours swapped) that most sections hold, if any does: the
classic correction by frequency, looked up in the index's own vocabulary, so it follows the knowledge
base and needs no word list. A real word the knowledge base does not use ("shop", "door", "kann") is
not a typo of one it does ("ship", "poor", "cann"), and is left alone.

Bounded: only words of :data:`MIN_CHARS` to :data:`MAX_CHARS` ASCII letters, at most
:data:`MAX_WORDS` per query, at most ``54 n + 25`` candidate spellings for a word of ``n`` letters, looked
up in one query. Stop words (or spellings whose stem is one) are never a correction: they carry
nothing to search.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from string import ascii_lowercase

from bot.kb.lexical import STOPWORDS, stem

#: Shorter words have too many neighbours one edit away to tell which was meant.
MIN_CHARS = 4
#: Longer words are left alone (their candidates grow with their length).
MAX_CHARS = 14
#: Unknown words corrected per query.
MAX_WORDS = 4


def edits(word: str) -> set[str]:
    """The spellings one edit away from ``word``: a deletion, a swap of neighbours, a change, an insertion."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    changes = {a + c + b[1:] for a, b in splits if b for c in ascii_lowercase}
    inserts = {a + c + b for a, b in splits for c in ascii_lowercase}
    return (deletes | swaps | changes | inserts) - {word}


def known(word: str, is_word: Callable[[str], bool]) -> bool:
    """Whether ``word`` (folded), its stem or its stem with a final ``e`` (as "hire" of "hiring") is a
    word of the model's vocabulary (``is_word``)."""
    base = stem(word)
    return any(is_word(form) for form in dict.fromkeys((word, base, base + "e")))


def misspelt(word: str, is_word: Callable[[str], bool]) -> bool:
    """Whether ``word`` (folded, unknown to the index) looks like a typing mistake: letters only, of a
    length worth correcting, and not :func:`known` to the model."""
    if not (MIN_CHARS <= len(word) <= MAX_CHARS and word.isascii() and word.isalpha()):
        return False
    return not known(word, is_word)


def corrections(
    conn: sqlite3.Connection, unknown: Sequence[str], is_word: Callable[[str], bool]
) -> dict[str, str]:
    """For each of the ``unknown`` words (folded; none of their stems is in the index) that looks
    :func:`misspelt`, the spelling one edit away whose stem most sections hold; words with no such
    spelling are left out."""
    candidates: dict[str, dict[str, str]] = {}  # unknown word -> candidate stem -> candidate spelling
    for word in [w for w in unknown if misspelt(w, is_word)][:MAX_WORDS]:
        candidates[word] = {
            stem(c): c for c in sorted(edits(word)) if c not in STOPWORDS and stem(c) not in STOPWORDS
        }
    stems = sorted({s for by_stem in candidates.values() for s in by_stem})
    if not stems:
        return {}
    counts = dict(_vocabulary_counts(conn, stems))
    chosen = {}
    for word, by_stem in candidates.items():
        known = [(counts[s], s) for s in by_stem if counts.get(s, 0) > 0]
        if known:
            chosen[word] = by_stem[max(known)[1]]
    return chosen


def _vocabulary_counts(conn: sqlite3.Connection, stems: Iterable[str]) -> list[tuple[str, int]]:
    stems = list(stems)
    return conn.execute(
        f"SELECT term, doc FROM kb_vocab WHERE term IN ({', '.join('?' * len(stems))})", stems
    ).fetchall()
