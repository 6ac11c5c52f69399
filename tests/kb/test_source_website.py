"""The ``website`` knowledge source against a local help-center site (``fakes.website``), over real HTTP."""

from __future__ import annotations

import gzip
import socket
from pathlib import Path
from typing import Any

import pytest
from fakes.website import FakeWebsite
from pydantic import ValidationError

from bot.kb.sources.base import Fetched, SourceArticle, SourceError
from bot.kb.sources.config import DEFAULT_USER_AGENT, WebsiteSourceConfig

SITE_FURNITURE = (
    "cookies",
    "Accept all",
    "Search the help center",
    "Help Center ›",
    "Popular topics",
    "All rights reserved",
    "Privacy policy",
    "window.analytics",
)


async def fetch(
    site: FakeWebsite,
    path: str = "/help/",
    previous: dict[str, SourceArticle] | None = None,
    progress: list[tuple[int, int | None]] | None = None,
    **options: Any,
) -> Fetched:
    config = WebsiteSourceConfig(name="help", kind="website", url=site.url(path), **options)
    seen = progress if progress is not None else []
    return await config.open(Path(".")).fetch(previous or {}, lambda done, total: seen.append((done, total)))


def by_key(fetched: Fetched) -> dict[str, SourceArticle]:
    return {article.key: article for article in fetched.articles}


def reasons(fetched: Fetched) -> dict[str, str]:
    return {skipped.key: skipped.reason for skipped in fetched.skipped}


def page_requests(site: FakeWebsite) -> list[str]:
    return [r.path for r in site.requests if r.path != "/robots.txt" and not r.path.endswith(".xml")]


async def test_links_are_followed_from_the_start_page_and_each_page_keeps_its_main_content() -> None:
    async with FakeWebsite() as site, FakeWebsite(pages={}) as elsewhere:
        site.extra_links = (elsewhere.url("/help/partner"), "mailto:help@acme.test")
        progress: list[tuple[int, int | None]] = []
        fetched = await fetch(site, progress=progress)

    articles = by_key(fetched)
    assert sorted(articles) == ["/help", "/help/api", "/help/returns", "/help/shipping"]
    returns = articles["/help/returns"]
    assert returns.title == "Returns and refunds"
    assert returns.url == site.url("/help/returns")
    assert returns.visibility == "public"
    assert returns.locale == "en"
    assert returns.body == (
        "# Returns and refunds\n\n"
        "You can return unused items within **30 days** of delivery.\n\n"
        "## Starting a return\n\n"
        "1. Open *Your orders*.\n"
        "2. Choose the item.\n\n"
        "## Refund times\n\n"
        "| Method | Days |\n"
        "| --- | --- |\n"
        "| Card | 3–5 |"
    )
    for article in fetched.articles:
        for text in SITE_FURNITURE:
            assert text not in article.body, (article.key, text)
    assert "```bash\ncurl https://api.acme.test/orders/A1001\n```" in articles["/help/api"].body
    # The validators a re-sync will send: an ETag where the site gives one, else Last-Modified.
    assert returns.validator is not None and returns.validator.startswith('"')
    assert articles["/help/shipping"].validator == "Wed, 01 May 2024 12:00:00 GMT"

    assert reasons(fetched) == {
        "/help/internal/escalations": "disallowed by robots.txt",
        "/help/missing": "HTTP 404",
    }
    assert site.requested("/help/internal/escalations") == []
    assert site.requested("/privacy") == []  # outside the start page's folder
    assert elsewhere.requests == []  # another origin
    assert all(r.headers["User-Agent"] == DEFAULT_USER_AGENT for r in site.requests)
    assert progress[-1] == (len(page_requests(site)), None)


async def test_a_sitemap_index_lists_the_pages_and_no_link_is_followed() -> None:
    async with FakeWebsite() as site:
        fetched = await fetch(site, "/sitemap.xml")

    assert sorted(by_key(fetched)) == ["/help", "/help/returns", "/help/shipping"]
    assert reasons(fetched) == {"/help/internal/escalations": "disallowed by robots.txt"}
    assert site.requested("/sitemaps/pages.xml") != []
    assert site.requested("/help/api") == []  # linked from every page, but not in the sitemap
    assert site.requested("/help/missing") == []


async def test_a_gzipped_sitemap_is_read() -> None:
    async with FakeWebsite() as site:
        entry = f"<url><loc>{site.url('/help/api')}</loc></url>"
        listed = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entry}</urlset>'
        site.files["/sitemap.xml.gz"] = ("application/gzip", gzip.compress(listed.encode()))
        fetched = await fetch(site, "/sitemap.xml.gz")

    assert [article.key for article in fetched.articles] == ["/help/api"]


async def test_one_page_is_one_article_however_its_links_spell_it() -> None:
    async with FakeWebsite() as site:
        site.extra_links = ("/help/returns/?utm_source=mail#top", "/help/returns#refund-times", "/help")
        fetched = await fetch(site)

    assert [a.key for a in fetched.articles].count("/help/returns") == 1
    assert len(site.requested("/help/returns")) == 1
    assert site.requested("/help/returns/?utm_source=mail") == []
    assert site.requested("/help") == []  # the start page, /help/, was read once


async def test_a_sitemap_advertised_in_robots_txt_is_used_from_a_start_page() -> None:
    async with FakeWebsite(advertise_sitemap=True) as site:
        fetched = await fetch(site, "/help/")

    assert sorted(by_key(fetched)) == ["/help", "/help/returns", "/help/shipping"]
    assert site.requested("/help/api") == []


async def test_links_are_followed_when_the_advertised_sitemap_lists_nothing_under_the_start_page() -> None:
    async with FakeWebsite(advertise_sitemap=True) as site:
        for page in site.pages.values():
            page.in_sitemap = False
        site.set_page("/blog/news", "News", "<p>New colours.</p>")
        fetched = await fetch(site, "/help/")

    assert sorted(by_key(fetched)) == ["/help", "/help/api", "/help/returns", "/help/shipping"]
    assert site.requested("/blog/news") == []


async def test_robots_txt_rules_for_the_bots_own_agent_are_obeyed() -> None:
    robots = "User-agent: supportbot\nDisallow: /help/api\n\nUser-agent: *\nDisallow:\n"
    async with FakeWebsite(robots=robots) as site:
        fetched = await fetch(site)

    assert "/help/api" not in by_key(fetched)
    assert "/help/internal/escalations" in by_key(fetched)  # the rule for every agent allows it
    assert site.requested("/help/api") == []
    assert reasons(fetched)["/help/api"] == "disallowed by robots.txt"


async def test_include_and_exclude_choose_the_pages_by_path() -> None:
    async with FakeWebsite() as site:
        excluded = await fetch(site, exclude=("/help/shipping", "/help/a*"))
        assert site.requested("/help/shipping") == []
        included = await fetch(site, include=("/help/r*",))

    assert sorted(by_key(excluded)) == ["/help", "/help/returns"]
    # The start page is read for its links, but only matching pages become articles.
    assert sorted(by_key(included)) == ["/help/returns"]


async def test_max_pages_bounds_the_requests_and_says_what_was_left() -> None:
    async with FakeWebsite() as site:
        fetched = await fetch(site, max_pages=2)

    assert len(page_requests(site)) == 2
    assert sorted(by_key(fetched)) == ["/help", "/help/api"]
    assert reasons(fetched)["/help/missing"] == "not fetched and 2 more pages: over max_pages (2)"


async def test_a_resync_asks_changed_since_and_keeps_what_did_not_change() -> None:
    async with FakeWebsite() as site:
        first = await fetch(site)
        site.requests.clear()
        again = await fetch(site, previous=by_key(first))

        assert again.articles == first.articles
        assert site.not_modified == 3  # every page but the start page, which is read whole for its links
        returns, shipping = site.requested("/help/returns")[0], site.requested("/help/shipping")[0]
        assert returns.headers["If-None-Match"] == by_key(first)["/help/returns"].validator
        assert "If-Modified-Since" not in returns.headers
        assert shipping.headers["If-Modified-Since"] == "Wed, 01 May 2024 12:00:00 GMT"
        assert "If-None-Match" not in shipping.headers

        site.set_page("/help/returns", "Returns and refunds", "<p>Return items within 60 days.</p>")
        site.remove_page("/help/shipping")
        edited = await fetch(site, previous=by_key(again))

    articles = by_key(edited)
    assert sorted(articles) == ["/help", "/help/api", "/help/returns"]
    assert articles["/help/returns"].body == "# Returns and refunds\n\nReturn items within 60 days."
    # The navigation changed on every page, so its ETag did too: fetched again, the same article.
    assert articles["/help/api"].body == by_key(first)["/help/api"].body


async def test_a_page_no_longer_linked_is_checked_again_and_removed_when_gone() -> None:
    async with FakeWebsite() as site:
        site.set_page("/help/", "Acme Help Center", "<p>Answers.</p>")
        site.set_page("/help/old", "Old answer", "<p>An old answer.</p>")
        first = await fetch(site)
        assert "/help/old" in by_key(first)

        site.remove_page("/help/old")
        again = await fetch(site, previous=by_key(first))

    assert "/help/old" not in by_key(again)
    assert reasons(again)["/help/old"] == "HTTP 404"


async def test_a_page_that_fails_for_a_while_keeps_its_last_article() -> None:
    async with FakeWebsite() as site:
        first = await fetch(site)
        site.status["/help/returns"] = 503
        again = await fetch(site, previous=by_key(first))

    assert by_key(again)["/help/returns"] == by_key(first)["/help/returns"]
    assert reasons(again)["/help/returns"] == "HTTP 503; kept as last fetched"


async def test_redirects_stay_on_the_site_and_only_html_becomes_an_article() -> None:
    async with FakeWebsite() as site, FakeWebsite(pages={}) as elsewhere:
        site.redirects["/help/moved"] = "/help/returns"
        site.redirects["/help/partner"] = elsewhere.url("/partner")
        site.files["/help/guide.pdf"] = ("application/pdf", b"%PDF-1.7")
        site.extra_links = ("/help/moved", "/help/partner", "/help/guide.pdf")
        fetched = await fetch(site)

    assert "/help/moved" not in by_key(fetched)  # the page it moved to is the article, once
    assert [a.key for a in fetched.articles].count("/help/returns") == 1
    assert reasons(fetched)["/help/partner"] == f"redirects to another site ({elsewhere.url('/partner')})"
    assert reasons(fetched)["/help/guide.pdf"] == "not an HTML page (application/pdf)"
    assert elsewhere.requests == []


async def test_noindex_pages_are_not_articles() -> None:
    async with FakeWebsite() as site:
        site.set_page("/help/draft", "Draft", '<meta name="robots" content="noindex"><p>Not yet.</p>')
        fetched = await fetch(site)

    assert "/help/draft" not in by_key(fetched)
    assert reasons(fetched)["/help/draft"] == "marked noindex"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_unreachable_site_raises_a_source_error() -> None:
    config = WebsiteSourceConfig(name="help", kind="website", url=f"http://127.0.0.1:{_closed_port()}/help/")
    with pytest.raises(SourceError, match=r"robots\.txt: could not be read"):
        await config.open(Path(".")).fetch({}, lambda done, total: None)


@pytest.mark.parametrize(
    ("path", "setup", "message"),
    [
        ("/nowhere/", None, r"/nowhere/: HTTP 404"),
        ("/help/", "robots-503", r"robots\.txt: HTTP 503"),
        ("/help/", "robots-all", r"robots\.txt disallows"),
        ("/sitemaps/missing.xml", None, r"sitemap .*/sitemaps/missing\.xml: HTTP 404"),
        ("/help/", "start-503", r"/help/: HTTP 503"),
    ],
)
async def test_a_start_page_robots_txt_or_sitemap_that_cannot_be_read_raises(
    path: str, setup: str | None, message: str
) -> None:
    async with FakeWebsite() as site:
        if setup == "robots-503":
            site.status["/robots.txt"] = 503
        elif setup == "robots-all":
            site.robots = "User-agent: *\nDisallow: /\n"
        elif setup == "start-503":
            site.status["/help/"] = 503
        with pytest.raises(SourceError, match=message):
            await fetch(site, path)


def test_the_config_refuses_what_it_does_not_know() -> None:
    base = {"name": "help", "kind": "website", "url": "https://help.acme.test/"}
    assert WebsiteSourceConfig.model_validate(base).max_pages == 500
    for bad in (
        {"url": "ftp://help.acme.test/"},
        {"url": "https://user:secret@help.acme.test/"},
        {"include": ("help/*",)},
        {"max_pages": 1_000_000},
        {"max_page": 10},
    ):
        with pytest.raises(ValidationError):
            WebsiteSourceConfig.model_validate(base | bad)
