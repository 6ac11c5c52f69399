"""A question in another language, searched with the English words of its support vocabulary.

"Wo ist meine Bestellung?" shares no word with the article "Track your order", and the embedding model
(``bot.kb.embeddings``) is English: it places few German, French or Polish words near their English
meaning. ``glossary.tsv`` beside this module is a bilingual glossary of generic customer-support and
online-shop vocabulary (orders, delivery, returns, refunds, payment, accounts, products, time words...)
in eight languages, tied to no knowledge base: each row is one concept, its English search words and the
words customers write for it in each language; its last row lists the languages' function words
(articles, pronouns, prepositions, auxiliaries), which carry nothing to search for.

:meth:`Glossary.translate` rewrites a query for both halves of search: the glossary's phrases among its
words, longest first, become their English words, and function words are dropped. Only words the index
does not hold are touched, so a knowledge base written in another language keeps matching its own
words, and English words the index does not hold are not added (they could only dilute the query).
Matching folds case and accents (:func:`bot.kb.lexical.fold`) and tolerates a few inflection endings
(:data:`ENDINGS`), so "Bestellungen" and "pedidos" are found.

An English question is searched as written: when more of its words are English function words than
another language's, nothing is rewritten; when neither outnumbers the other (a question of one or two
words), only phrases written exactly as the glossary has them are, since a cut ending could turn an
English word into a foreign one ("carta" cut is "cart").

Bounded: at most ``2 * MAX_QUERY_TERMS`` words of a query are read and a phrase is at most
:attr:`Glossary.longest` words, so one query costs at most that many lookups per word.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from bot.kb.lexical import MAX_QUERY_TERMS, STOPWORDS, words

#: Inflection endings tried off a word (and off the glossary's words) before it is looked up: plural, case
#: and verb endings of the glossary's languages. Only words keeping :data:`MIN_STEM` letters are cut.
ENDINGS = (
    *("ungen", "en", "er", "es", "em", "e", "n", "s"),  # nouns and adjectives: German, Dutch, Swedish
    *("ons", "ez", "ar", "ir", "am", "an", "a", "o", "i"),  # Romance verbs, nouns and adjectives
    *("y", "ow", "ami", "ach"),  # Polish
)
MIN_STEM = 4

#: The columns of ``glossary.tsv``: English first, then the languages it translates from.
LANGUAGES = ("de", "fr", "es", "it", "pt", "nl", "sv", "pl")


def _forms(word: str) -> list[str]:
    """``word`` and the stems left by cutting one of :data:`ENDINGS` (longest ending first)."""
    forms = [word]
    for ending in sorted(ENDINGS, key=len, reverse=True):
        if word.endswith(ending) and len(word) - len(ending) >= MIN_STEM:
            forms.append(word[: -len(ending)])
    return forms


@dataclass(frozen=True)
class Translation:
    """A query as the glossary rewrote it."""

    query: str
    """The query's words, each translated phrase replaced by its English words, function words dropped."""
    changed: bool
    """Whether anything was translated or dropped (if not, the query is searched as written)."""


@dataclass(frozen=True)
class Glossary:
    exact: dict[tuple[str, ...], tuple[str, ...]]
    """Folded foreign phrase, as written in the glossary -> its concept's English words."""
    stems: dict[str, tuple[str, ...]]
    """A one-word phrase's forms with an ending cut (:func:`_forms`) -> its concept's English words."""
    function_words: frozenset[str]
    """The languages' function words, folded."""
    longest: int

    @classmethod
    def parse(cls, text: str) -> Glossary:
        """The glossary of a ``glossary.tsv`` text (see the file's header for its format)."""
        exact: dict[tuple[str, ...], tuple[str, ...]] = {}
        stems: dict[str, tuple[str, ...]] = {}
        function_words: set[str] = set()
        rows = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip() and line[0] != "#"]
        for number, line in rows[1:]:  # the first is the header
            cells = line.split("\t")
            if len(cells) != 1 + len(LANGUAGES):
                raise ValueError(f"glossary line {number}: {len(cells)} columns, not {1 + len(LANGUAGES)}")
            english = tuple(words(cells[0]))
            for variant in (v for cell in cells[1:] for v in cell.split("|")):
                phrase = tuple(words(variant))
                if not english:
                    function_words.update(phrase)
                elif phrase:  # the first concept to claim a phrase keeps it
                    exact.setdefault(phrase, english)
                    if len(phrase) == 1:
                        for form in _forms(phrase[0])[1:]:
                            stems.setdefault(form, english)
        return cls(exact, stems, frozenset(function_words), max((len(p) for p in exact), default=0))

    def translate(self, query: str, holds: Callable[[Sequence[str]], set[str]]) -> Translation:
        """``query`` rewritten (see the module docstring). ``holds(words)`` says which of ``words``
        (folded) the index holds."""
        found = words(query)[: MAX_QUERY_TERMS * 2]  # function words count here: phrases hold them
        english = sum(word in STOPWORDS and word not in self.function_words for word in found)
        foreign = sum(word in self.function_words and word not in STOPWORDS for word in found)
        if english > foreign:
            return Translation(query, changed=False)
        held = holds(found)
        out: list[str] = []
        changed = False
        at = 0
        while at < len(found):
            word = found[at]
            match = self._match(found, at, held, cut=foreign > english)
            useful = holds(match[1]) if match is not None else set()
            if match is not None and useful:
                out.extend(w for w in match[1] if w in useful)
                changed = True
                at += match[0]
                continue
            if word in self.function_words and word not in held:
                changed = True
            else:
                out.append(word)
            at += 1
        return Translation(" ".join(out) if changed else query, changed)

    def _match(
        self, found: list[str], at: int, held: set[str], *, cut: bool
    ) -> tuple[int, tuple[str, ...]] | None:
        """The longest glossary phrase starting at ``found[at]`` made of words the index does not hold,
        and its English words. A single word is a function word before it is a concept's; it is matched
        as written first, then (with ``cut``) with an ending cut."""
        for length in range(min(self.longest, len(found) - at), 0, -1):
            phrase = tuple(found[at : at + length])
            if any(word in held for word in phrase):
                continue
            if length > 1:
                meaning = self.exact.get(phrase)
                if meaning is not None:
                    return length, meaning
                continue
            if phrase[0] in self.function_words:
                return None
            if not cut:
                meaning = self.exact.get(phrase)
                return None if meaning is None else (1, meaning)
            for form in _forms(phrase[0]):
                meaning = self.exact.get((form,)) or self.stems.get(form)
                if meaning is not None:
                    return 1, meaning
        return None


@cache
def glossary() -> Glossary:
    """The packaged glossary (read once per process)."""
    return Glossary.parse(files("bot.kb").joinpath("glossary.tsv").read_text(encoding="utf-8"))
