"""`supportbot kb search [--as PRINCIPAL] [--json] QUERY` (docs/architecture.md §6).

The search is the ``search_kb`` tool's own (:meth:`tools.kb.SearchKb.hits`): the principal sees what the
tool would show them (internal articles for staff only), and nothing relevant is an empty result. With
``--json`` the hits are a JSON list for scripts (``[]`` when nothing is relevant); otherwise a table.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from bot.kb.hits import MAX_LIMIT

if TYPE_CHECKING:
    from bot.kb.hits import KbHit
    from bot.kb.index import KnowledgeBase

NOTHING_RELEVANT = "No article is relevant to that query."
_HEADER = ("SCORE", "VISIBILITY", "SOURCE", "ARTICLE")
#: Characters of a hit's snippet shown under it in the table.
EXCERPT_CHARS = 160


def add_search_arguments(search: argparse.ArgumentParser) -> None:
    search.add_argument("query", nargs="+", help="what to search for")
    search.add_argument(
        "--json", action="store_true", help="print the hits as a JSON list ([] when nothing is relevant)"
    )
    search.add_argument("--limit", type=_limit, default=5, help=f"at most this many hits (1-{MAX_LIMIT})")


def _limit(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of hits (1-{MAX_LIMIT})")
    return int(value)


async def run_search(args: argparse.Namespace, kb: KnowledgeBase) -> int:
    from tools.kb import SearchKb

    hits = await SearchKb(kb).hits(" ".join(args.query), args.principal, limit=args.limit)
    print(hits_json(hits) if args.json else hits_table(hits))
    return 0


def hits_json(hits: list[KbHit]) -> str:
    """The hits as a JSON list (ASCII only: article text cannot reach a terminal as control characters)."""
    return json.dumps(
        [
            {
                "title": hit.title,
                "url": hit.url,
                "section": hit.section,
                "score": round(hit.score, 4),
                "visibility": hit.visibility,
                "source": hit.source,
            }
            for hit in hits
        ],
        indent=2,
    )


def hits_table(hits: list[KbHit]) -> str:
    """One line per hit (score, visibility, source, the article and its section), its link (if it has an
    address) and the start of its snippet below it."""
    from integrations.console.terminal import clean  # article text is data the bot did not write

    if not hits:
        return NOTHING_RELEVANT
    rows = [(f"{hit.score:.3f}", hit.visibility, hit.source, _article(hit), hit.url) for hit in hits]
    widths = [max(len(row[i]) for row in [_HEADER, *rows]) for i in range(3)]
    indent = " " * (sum(widths) + 2 * len(widths))

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=False)) + "  "

    lines = [line(_HEADER[:3]) + _HEADER[3]]
    for (*cells, article, url), hit in zip(rows, hits, strict=True):
        lines += [
            line(tuple(cells)) + article,
            *([indent + url] if url else []),
            indent + _excerpt(hit.snippet),
        ]
    return clean("\n".join(lines))


def _excerpt(snippet: str) -> str:
    """The snippet on one line, cut at a word to about :data:`EXCERPT_CHARS` characters."""
    text = " ".join(snippet.split())
    if len(text) <= EXCERPT_CHARS:
        return text
    return text[:EXCERPT_CHARS].rsplit(" ", 1)[0] + " …"


def _article(hit: KbHit) -> str:
    if hit.section and hit.section != hit.title:
        return f"{hit.title} › {hit.section}"
    return hit.title
