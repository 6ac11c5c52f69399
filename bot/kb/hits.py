"""What a knowledge-base search returns (kept apart from the ranking code, which needs numpy, so that a
process that only feeds the index or reads its hits does not load it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Visibility = Literal["public", "internal"]

#: The most hits one search returns.
MAX_LIMIT = 50


@dataclass(frozen=True)
class KbHit:
    """One search result: a section of an article (or a whole short article).

    ``title`` is the article's; ``section`` the heading of the section found (None for an article's
    opening part or a short article); ``url`` links to the section (``url#anchor``). ``slug`` is the
    article's key within its ``source``. ``score``: higher is better, comparable within one search.
    """

    slug: str
    title: str
    url: str
    visibility: Visibility
    snippet: str
    score: float
    source: str
    section: str | None = None
