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

An English question keeps its words: when more of them are English function words than another
language's, only its informal English is rewritten (the ``chat`` column: "acct" is "account", "lol" is
dropped); when neither outnumbers the other (a question of one or two words), only phrases written
exactly as the glossary has them are, since a cut ending could turn an English word into a foreign one
("carta" cut is "cart").

:meth:`Glossary.named_topics` tells which support topics a question names (the ``topic`` column: gift
wrapping, promo codes, invoices...), for search to check that the index mentions them at all
(``bot.kb.fusion.Relevance.topical``).

Bounded: at most ``2 * MAX_QUERY_TERMS`` words of a query are read and a phrase is at most
:attr:`Glossary.longest` words, so one query costs at most that many lookups per word.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from bot.kb.lexical import MAX_QUERY_TERMS, STOPWORDS, stem, words

#: Inflection endings tried off a word (and off the glossary's words) before it is looked up: plural, case
#: and verb endings of the glossary's languages. Only words keeping :data:`MIN_STEM` letters are cut.
ENDINGS = (
    *("ungen", "en", "er", "es", "em", "e", "n", "s"),  # nouns and adjectives: German, Dutch, Swedish
    *("ons", "ez", "ar", "ir", "am", "an", "a", "o", "i"),  # Romance verbs, nouns and adjectives
    *("y", "ow", "ami", "ach"),  # Polish
)
MIN_STEM = 4

#: The languages ``glossary.tsv`` translates from.
LANGUAGES = ("de", "fr", "es", "it", "pt", "nl", "sv", "pl")

#: The columns of ``glossary.tsv``: English first, the languages, informal English, and the topic mark.
COLUMNS = ("en", *LANGUAGES, "chat", "topic")


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


#: A concept word shared by this many concepts or more says nothing about which one a question names
#: ("gift": gift cards, presents, gift wrapping), so it is no evidence that the index covers a topic.
SHARED_WORD_CONCEPTS = 3


@dataclass(frozen=True)
class Glossary:
    exact: dict[tuple[str, ...], tuple[str, ...]]
    """Folded foreign phrase, as written in the glossary -> its concept's English words."""
    stems: dict[str, tuple[str, ...]]
    """A one-word phrase's forms with an ending cut (:func:`_forms`) -> its concept's English words."""
    function_words: frozenset[str]
    """The languages' function words, folded."""
    informal: dict[tuple[str, ...], tuple[str, ...]]
    """Folded informal English phrase ("acct", "showed up") -> its concept's English words."""
    filler: frozenset[str]
    """Informal English words that carry nothing to search for ("lol", "pls"), folded."""
    topics: dict[tuple[str, ...], frozenset[str]]
    """A support topic's English words -> the stems that show an index covers it (its words shared by
    fewer than :data:`SHARED_WORD_CONCEPTS` concepts, or all of them if none is)."""
    topic_phrases: dict[tuple[str, ...], frozenset[str]]
    """A foreign or informal phrase of one or more topics -> all their stems (German "Gutschein" is a
    gift card and a discount code: either topic covers it)."""
    topic_stems: dict[str, frozenset[str]]
    """A stem of the topics' English words -> the stems of every topic it shows ("voucher": gift cards
    and discount codes)."""
    longest: int

    @classmethod
    def parse(cls, text: str) -> Glossary:
        """The glossary of a ``glossary.tsv`` text (see the file's header for its format)."""
        exact: dict[tuple[str, ...], tuple[str, ...]] = {}
        stems: dict[str, tuple[str, ...]] = {}
        informal: dict[tuple[str, ...], tuple[str, ...]] = {}
        function_words: set[str] = set()
        filler: set[str] = set()
        concepts: list[tuple[tuple[str, ...], bool]] = []
        listed: dict[tuple[str, ...], list[tuple[str, ...]]] = {}  # phrase -> every concept listing it
        rows = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip() and line[0] != "#"]
        for number, line in rows[1:]:  # the first is the header
            cells = line.split("\t")
            if len(cells) != len(COLUMNS):
                raise ValueError(f"glossary line {number}: {len(cells)} columns, not {len(COLUMNS)}")
            english = tuple(words(cells[0]))
            foreign = [tuple(words(v)) for cell in cells[1 : 1 + len(LANGUAGES)] for v in cell.split("|")]
            chat = [tuple(words(v)) for v in cells[-2].split("|")]
            if not english:
                function_words.update(word for phrase in foreign for word in phrase)
                filler.update(word for phrase in chat if len(phrase) == 1 for word in phrase)
                continue
            concepts.append((english, cells[-1].strip() == "yes"))
            for phrase in filter(None, [*foreign, *chat]):
                listed.setdefault(phrase, []).append(english)
            for phrase in filter(None, foreign):  # the first concept to claim a phrase keeps it
                exact.setdefault(phrase, english)
                if len(phrase) == 1:
                    for form in _forms(phrase[0])[1:]:
                        stems.setdefault(form, english)
            for phrase in filter(None, chat):
                informal.setdefault(phrase, english)
        shared = Counter(word for english, _ in concepts for word in set(english))
        topics = {
            english: frozenset(
                stem(w) for w in ([w for w in english if shared[w] < SHARED_WORD_CONCEPTS] or english)
            )
            for english, topic in concepts
            if topic
        }
        topic_phrases = {
            phrase: frozenset().union(*(topics[c] for c in claimants if c in topics))
            for phrase, claimants in listed.items()
            if any(c in topics for c in claimants)
        }
        topic_stems: dict[str, frozenset[str]] = {}
        for evidence in topics.values():
            for word in evidence:
                topic_stems[word] = topic_stems.get(word, frozenset()) | evidence
        longest = max((len(p) for p in [*exact, *informal]), default=0)
        return cls(
            exact,
            stems,
            frozenset(function_words),
            informal,
            frozenset(filler),
            topics,
            topic_phrases,
            topic_stems,
            longest,
        )

    def translate(self, query: str, holds: Callable[[Sequence[str]], set[str]]) -> Translation:
        """``query`` rewritten (see the module docstring). ``holds(words)`` says which of ``words``
        (folded) the index holds."""
        found = words(query)[: MAX_QUERY_TERMS * 2]  # function words count here: phrases hold them
        foreign, cut = self._language(found)
        held = holds(found)
        out: list[str] = []
        changed = False
        at = 0
        while at < len(found):
            word = found[at]
            match = self._match(found, at, held, foreign=foreign, cut=cut)
            useful = holds(match[1]) if match is not None else set()
            if match is not None and useful:
                out.extend(w for w in match[1] if w in useful)
                changed = True
                at += match[0]
                continue
            if self._empty(word, foreign) and word not in held:
                changed = True
            else:
                out.append(word)
            at += 1
        return Translation(" ".join(out) if changed else query, changed)

    def named_topics(self, query: str) -> list[frozenset[str]]:
        """The support topics ``query`` names, one entry per phrase that names any: the stems that show
        an index covers it (:attr:`topics`). A phrase is a foreign or informal one whose concept is a
        topic, or an English word of topics; a word of several topics ("voucher": gift cards and
        discount codes) is covered when any of them is, so its entry is all their stems."""
        found = words(query)[: MAX_QUERY_TERMS * 2]
        foreign, cut = self._language(found)
        named: list[frozenset[str]] = []
        at = 0
        while at < len(found):
            match = self._match(found, at, set(), foreign=foreign, cut=cut)
            length = match[0] if match is not None else 1
            evidence = self.topic_phrases.get(tuple(found[at : at + length]))
            if evidence is None and match is not None:  # a form with its ending cut: its concept's only
                evidence = self.topics.get(match[1])
            if evidence is None:
                evidence = self.topic_stems.get(stem(found[at]))
            if evidence:
                named.append(evidence)
            at += length
        return list(dict.fromkeys(named))

    def _language(self, found: list[str]) -> tuple[bool, bool]:
        """Whether ``found`` is read as another language (not more English function words than foreign
        ones), and whether its words' endings may be cut (more foreign function words than English).
        Chat English counts for neither: "u" and "q" are Dutch and Spanish function words too."""
        english = sum(word in STOPWORDS and word not in self.function_words for word in found)
        foreign = sum(
            word in self.function_words and word not in STOPWORDS and not self._chat(word) for word in found
        )
        return english <= foreign, foreign > english

    def _chat(self, word: str) -> bool:
        """Whether ``word`` is informal English: filler, or an informal word of a concept."""
        return word in self.filler or (word,) in self.informal

    def _empty(self, word: str, foreign: bool) -> bool:
        """Whether ``word`` carries nothing to search for: filler, or in another language a function word."""
        return word in self.filler or (foreign and word in self.function_words)

    def _match(
        self, found: list[str], at: int, held: set[str], *, foreign: bool, cut: bool
    ) -> tuple[int, tuple[str, ...]] | None:
        """The longest glossary phrase starting at ``found[at]`` made of words the index does not hold,
        and its English words: an informal English phrase, or (``foreign``) one of another language. A
        single word is a function word or filler before it is a concept's; it is matched as written
        first, then (with ``cut``) with an ending cut."""
        for length in range(min(self.longest, len(found) - at), 0, -1):
            phrase = tuple(found[at : at + length])
            if any(word in held for word in phrase):
                continue
            if self._empty(phrase[0], foreign) and length == 1:
                return None
            meaning = (self.exact.get(phrase) if foreign else None) or self.informal.get(phrase)
            if meaning is not None:
                return length, meaning
            if length == 1 and cut:
                for form in _forms(phrase[0]):
                    meaning = self.exact.get((form,)) or self.stems.get(form)
                    if meaning is not None:
                        return 1, meaning
        return None


@cache
def glossary() -> Glossary:
    """The packaged glossary (read once per process)."""
    return Glossary.parse(files("bot.kb").joinpath("glossary.tsv").read_text(encoding="utf-8"))
