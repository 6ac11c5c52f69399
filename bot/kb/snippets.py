"""The passage of a hit shown to the model and to people: the window of a section that holds the query words.

Snippets are cut in Python in one linear pass over at most :data:`SNIPPET_SCAN_CHARS` of the few sections
returned (FTS5's ``snippet()`` is quadratic in the matches of one row), so their cost is bounded whatever a
section holds.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.kb.lexical import WORD, fold

#: Longest snippet handed back, in characters, and how many words a snippet window holds.
SNIPPET_MAX_CHARS = 600
SNIPPET_TOKENS = 64

#: Characters at the start of a section that a snippet is looked for in (a match further on still
#: ranks the section; its snippet is then the section's beginning).
SNIPPET_SCAN_CHARS = 32_000


def clip(text: str, limit: int = SNIPPET_MAX_CHARS) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > limit // 2 else limit - 1] + "…"


def _stem_prefix(term: str) -> str:
    """The start of ``term`` that a body word must begin with to count as the same word in a snippet:
    a crude stand-in for the stemmer that ranked it ("refunds", "refunded" for "refund")."""
    return term[: min(len(term), max(4, len(term) - 3))]


def snippet(text: str, terms: Iterable[str], *, truncated: bool) -> str:
    """The window of :data:`SNIPPET_TOKENS` words of ``text`` holding the most distinct query words
    (then the most matches), on one line, with `` … `` where text was left out.

    Linear in ``len(text)``: one pass to find the words, one sliding window over the matches.
    ``truncated``: ``text`` is only the beginning of the section.
    """
    if text.isascii():  # folding is lower-casing then, and keeps every offset: fold the text at once
        words = [(m.start(), m.end(), m.group()) for m in WORD.finditer(text.lower())]
    else:
        words = [(m.start(), m.end(), fold(m.group())) for m in WORD.finditer(text)]
    if not words:
        return clip(text)
    prefixes: dict[int, dict[str, int]] = {}  # prefix length -> prefix -> term number
    for number, term in enumerate(dict.fromkeys(fold(t) for t in terms)):
        prefix = _stem_prefix(term)
        prefixes.setdefault(len(prefix), {}).setdefault(prefix, number)
    hits: list[tuple[int, int]] = []  # (word position, term number)
    for position, (_, _, word) in enumerate(words):
        for length, table in prefixes.items():
            found = table.get(word[:length]) if len(word) >= length else None
            if found is not None:
                hits.append((position, found))
                break
    start = 0
    if hits:
        best: tuple[int, int] = (0, 0)
        counts: dict[int, int] = {}
        end = 0
        for first, (position, _) in enumerate(hits):
            while end < len(hits) and hits[end][0] < position + SNIPPET_TOKENS:
                counts[hits[end][1]] = counts.get(hits[end][1], 0) + 1
                end += 1
            score = (len(counts), end - first)
            if score > best:
                best, start = score, position
            number = hits[first][1]
            counts[number] -= 1
            if not counts[number]:
                del counts[number]
        start = max(0, min(start - 4, len(words) - SNIPPET_TOKENS))
    stop = min(len(words), start + SNIPPET_TOKENS)
    fragment = text[words[start][0] : words[stop - 1][1]]
    lead = "… " if start > 0 else ""
    tail = " …" if stop < len(words) or truncated else ""
    return clip(lead + fragment + tail)
