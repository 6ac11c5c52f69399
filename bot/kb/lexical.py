"""The words that lexical search matches on: query words, a light stemmer, and FTS5 expressions.

Text is stemmed here, in Python, before it reaches SQLite FTS5 (whose table then only splits on
``unicode61``), so that the index and the queries agree on one stemmer that is ours to choose. Porter
(FTS5's built-in) strips derivational endings and so merges unrelated words: "customs" and "customer" both
become "custom", "general" and "generous" both "gener". :func:`stem` removes inflections only (plural
``-s``/``-es``/``-ies``, ``-ed``, ``-ing``, a final ``-e`` and a doubled final consonant), which keeps
"refund", "refunds", "refunded" and "refunding" together and "customer" apart from "customs".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

#: Query words beyond this many are ignored; so are words longer than ``MAX_QUERY_TERM_CHARS``.
MAX_QUERY_TERMS = 16
MAX_QUERY_TERM_CHARS = 64

# English function words (and a few words every support question contains) that only dilute a
# full-text query. Immutable on purpose.
STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most
    my myself no nor not now of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves
    hi hello hey please thanks thank get got want need know tell help ok okay
    """.split()  # noqa: SIM905 (a word block reads better than 160 quoted strings)
)

WORD = re.compile(r"[^\W_]+")

_VOWEL = re.compile(r"[aeiouy]")
_NO_S = ("ss", "us", "is", "ous")


def fold(word: str) -> str:
    """``word`` case-folded and, if it is not ASCII, without diacritics ("Rückgabe" -> "ruckgabe")."""
    word = word.casefold()
    if word.isascii():
        return word
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """The inflectional stem of one folded word (see the module docstring); other words unchanged.

    Only lower-case ASCII letters are stemmed, and only words of more than three letters: "bus", "gas",
    numbers and order ids stay as they are; so do words of other languages' accented spellings.
    """
    if len(word) <= 3 or not word.isascii() or not word.isalpha():
        return word
    if word.endswith(("ies", "ied")) and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "xes", "zes", "ches", "shes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(_NO_S):
        word = word[:-1]
    if word.endswith("ing") and len(word) > 5 and _VOWEL.search(word[:-3]):
        word = word[:-3]
    elif word.endswith("ed") and len(word) > 4 and _VOWEL.search(word[:-2]):
        word = word[:-2]
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]
    return word


def words(text: str) -> list[str]:
    """The folded words of ``text`` in order (letters and digits; everything else separates words)."""
    return [fold(word) for word in WORD.findall(text)]


def stemmed(text: str) -> str:
    """``text`` as the full-text index holds it: its stemmed words, space-separated."""
    return " ".join(stem(word) for word in words(text))


def query_terms(text: str) -> list[str]:
    """The searchable words of arbitrary user or model text, folded, in order of first appearance.

    Words are letters and digits only (so FTS5 syntax such as ``AND``, ``NEAR(``, ``*``, ``^``, ``:`` and
    quotes cannot get through as syntax); stop words and duplicates are dropped and at most
    :data:`MAX_QUERY_TERMS` words are kept. They are not stemmed: see :func:`stem`.
    """
    terms: dict[str, None] = {}
    for word in words(text):
        if word not in STOPWORDS and len(word) <= MAX_QUERY_TERM_CHARS:
            terms[word] = None
            if len(terms) == MAX_QUERY_TERMS:
                break
    return list(terms)


def match_expression(terms: Iterable[str]) -> str:
    """An FTS5 MATCH expression that ORs ``terms``, each one a quoted string.

    OR rather than AND so that an article matching only some of the words is still found; bm25 ranks
    the articles matching more (and rarer) words first.
    """
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)
