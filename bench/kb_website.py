"""The website knowledge source: a crawl of a local help center, its re-sync, and HTML to Markdown.

    python bench/kb_website.py                    # 200 pages
    python bench/kb_website.py --pages 100

A :class:`fakes.website.FakeWebsite` on 127.0.0.1 serves ``--pages`` help-center pages (navigation,
banners, footer and a ~4 KB article each, every page linking to every other one). Timed: the first sync
(links followed from the start page), the re-sync (every page but the start answers 304), and
:func:`bot.kb.sources.html.html_to_markdown` alone on one page and on a page at the parse cap. The crawl's
requests go over loopback, so the figures are the source's own cost, not a network's.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (str(ROOT / "tests"), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from bench.report import Figure, emit  # noqa: E402
from bot.kb.sources.base import SourceArticle  # noqa: E402
from bot.kb.sources.config import WebsiteSourceConfig  # noqa: E402
from bot.kb.sources.html import MAX_HTML_CHARS, html_to_markdown  # noqa: E402

ARTICLE = (
    "<p>You can return unused items within <strong>30 days</strong> of delivery.</p>"
    "<h2>Starting a return</h2><ol><li>Open <em>Your orders</em>.</li><li>Choose the item.</li></ol>"
    "<h2>Refund times</h2><table><tr><th>Method</th><th>Days</th></tr><tr><td>Card</td><td>3–5</td></tr>"
    "</table>" + "<p>Refunds go back to the card or account you paid with, once we have the item.</p>" * 40
)


async def crawl(pages: int) -> tuple[float, float, int, int]:
    """Seconds for the first sync and the re-sync, the articles, and the 304s of the re-sync."""
    from fakes.website import FakePage, FakeWebsite

    site_pages = {"/help/": FakePage("Help Center", "<p>Answers.</p>")}
    site_pages.update({f"/help/article-{n}": FakePage(f"Article {n}", ARTICLE) for n in range(pages - 1)})
    async with FakeWebsite(site_pages) as site:
        config = WebsiteSourceConfig(name="help", kind="website", url=site.url("/help/"), max_pages=pages)
        source = config.open(ROOT)
        started = time.perf_counter()
        first = await source.fetch({}, lambda done, total: None)
        first_s = time.perf_counter() - started
        previous: dict[str, SourceArticle] = {a.key: a for a in first.articles}
        started = time.perf_counter()
        await source.fetch(previous, lambda done, total: None)
        again_s = time.perf_counter() - started
        return first_s, again_s, len(first.articles), site.not_modified


def convert_ms(html: str, runs: int) -> float:
    """The median milliseconds of :func:`html_to_markdown` on ``html``."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        html_to_markdown(html, "https://help.acme.test/help/x")
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    from fakes.website import FakePage, render_page

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--pages", type=int, default=200, help="pages of the help center")
    args = parser.parse_args(argv)

    first_s, again_s, articles, not_modified = asyncio.run(crawl(args.pages))
    page = FakePage("Returns", ARTICLE)
    one_page = render_page("/help/returns", page, {"/help/returns": page}, ())
    huge = "<main>" + "<p>some words <a href='/x'>a link</a> and <b>more</b></p>\n" * (MAX_HTML_CHARS // 55)
    one_ms, huge_ms = convert_ms(one_page, 20), convert_ms(huge, 3)

    print(f"first sync: {args.pages} pages in {first_s:.2f} s ({args.pages / first_s:.0f} pages/s)")
    print(f"re-sync: {again_s:.2f} s, {not_modified} answered 304")
    print(
        f"HTML to Markdown: {one_ms:.1f} ms per {len(one_page) // 1000} KB page, {huge_ms:.0f} ms at the cap"
    )
    emit(
        "kb_website",
        [
            Figure("pages", args.pages),
            Figure("articles", articles),
            Figure("first sync", first_s, "s"),
            Figure("first sync rate", args.pages / first_s, "pages/s"),
            Figure("re-sync", again_s, "s"),
            Figure("re-sync 304s", not_modified, at_least=args.pages - 1),
            Figure("HTML to Markdown, one page", one_ms, "ms"),
            Figure(f"HTML to Markdown, {MAX_HTML_CHARS // 1000} KB of markup", huge_ms, "ms"),
        ],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
