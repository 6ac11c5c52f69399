"""A website (``kind = "website"``): a help center's pages, crawled politely and turned into articles.

Where the pages come from:

- ``url`` ending in ``.xml`` (or ``.xml.gz``): a sitemap, or a sitemap index; its pages on the same origin.
- any other ``url``: the start page, always fetched whole (it is where links are found). When robots.txt
  advertises a sitemap, its pages under the start page's folder are the site; otherwise links are
  followed breadth-first from the start page, staying under its folder (``/help/`` for
  ``/help/returns``, as ``wget --no-parent`` does). On a re-sync the pages kept last time are visited too,
  so that a page found before through an unchanged page is checked again, and removed when it is gone.

Rules every page follows: same origin only (a redirect elsewhere is not followed); robots.txt obeyed for
the configured user agent; ``include``/``exclude`` globs on the URL path; ``text/html`` only; at most
``max_pages`` requests for pages, ``concurrency`` at a time, each within ``timeout`` seconds and
``max_page_bytes``. A page's key is its URL path without a trailing slash (and its query, if it keeps one
once tracking parameters are dropped). The main content is extracted by :mod:`bot.kb.sources.html`.

A re-sync asks each page "changed since?" with the ETag (If-None-Match) or Last-Modified
(If-Modified-Since) it was fetched with; on 304 the previous article is handed back unchanged. A page that
fails becomes a :class:`~bot.kb.sources.base.Skipped` with the reason; when the failure may pass (a
timeout, a 5xx) and the page was fetched before, its previous article is kept. A start page or sitemap
that cannot be read, or a robots.txt that refuses the crawl or cannot be read, raises
:class:`~bot.kb.sources.base.SourceError`, so the source keeps its last good articles.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import aiohttp

from bot.kb.sources.base import Fetched, Progress, Skipped, SourceArticle, SourceError
from bot.kb.sources.config import WebsiteSourceConfig
from bot.kb.sources.html import html_to_markdown
from bot.kb.sources.sitemaps import SitemapError, parse_sitemap
from bot.kb.sources.web_fetch import Failure, NotModified, Page, get
from bot.kb.sources.web_urls import PathFilter, canonical_url, origin_of, page_key, scope_of

#: At most this many sitemaps are read per sync (an index and the sitemaps it lists), each this large.
MAX_SITEMAPS = 50
MAX_SITEMAP_BYTES = 50_000_000
MAX_ROBOTS_BYTES = 500_000

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_SITEMAP_SUFFIXES = (".xml", ".xml.gz")
_MARKDOWN_LINK = re.compile(r"\]\((https?://[^)\s]+)\)")


class WebsiteSource:
    """Crawls a website; see the module docstring for what it reads and how."""

    def __init__(self, config: WebsiteSourceConfig) -> None:
        self.config = config

    @property
    def name(self) -> str:
        return self.config.name

    async def fetch(self, previous: Mapping[str, SourceArticle], progress: Progress) -> Fetched:
        """Every page of the site now; ``previous`` makes the requests conditional."""
        timeout = aiohttp.ClientTimeout(total=self.config.timeout)
        connector = aiohttp.TCPConnector(limit=self.config.concurrency)
        headers = {"User-Agent": self.config.user_agent}
        async with aiohttp.ClientSession(timeout=timeout, connector=connector, headers=headers) as session:
            return await _Crawl(self.config, session, previous, progress).run()


class _Crawl:
    """One fetch of a website: what was found, kept and skipped so far."""

    def __init__(
        self,
        config: WebsiteSourceConfig,
        session: aiohttp.ClientSession,
        previous: Mapping[str, SourceArticle],
        progress: Progress,
    ) -> None:
        start = canonical_url(config.url)
        assert start is not None  # the config's validator checked it
        self.config = config
        self.session = session
        self.previous = previous
        self.progress = progress
        self.start = start
        self.origin = origin_of(start)
        self.scope = "/"
        self.filter = PathFilter(config.include, config.exclude)
        self.robots = RobotFileParser()
        self.semaphore = asyncio.Semaphore(config.concurrency)
        self.scheduled: set[str] = set()  # keys of the pages to fetch (never more than max_pages)
        self.over_cap: set[str] = set()  # keys of the pages found past max_pages
        self.articles: dict[str, SourceArticle] = {}
        self.skipped: dict[str, Skipped] = {}
        self.done = 0
        self.total: int | None = None

    async def run(self) -> Fetched:
        await self._read_robots()
        if not self._allowed(self.start):
            raise SourceError(f"robots.txt disallows {self.start} for {self.config.user_agent!r}")
        if urlsplit(self.start).path.endswith(_SITEMAP_SUFFIXES):
            pages = await self._sitemap_pages([self.start], required=True)
            await self._visit_all(self._schedule_all(pages))
        else:
            await self._crawl_from_start()
        if self.over_cap:
            first = min(self.over_cap)
            more = f" and {len(self.over_cap) - 1} more pages" if len(self.over_cap) > 1 else ""
            self._skip(first, f"not fetched{more}: over max_pages ({self.config.max_pages})")
        return Fetched(
            articles=tuple(self.articles[key] for key in sorted(self.articles)),
            skipped=tuple(self.skipped[key] for key in sorted(self.skipped)),
        )

    async def _crawl_from_start(self) -> None:
        self.scope = scope_of(self.start)
        self.scheduled.add(page_key(self.start))
        links = await self._visit(self.start, whole=True)
        advertised = [
            url
            for url in (canonical_url(site_map) for site_map in self.robots.site_maps() or ())
            if url is not None and origin_of(url) == self.origin
        ]
        listed = await self._sitemap_pages(advertised, required=False) if advertised else []
        if any(self._in_scope(url) for url in filter(None, map(canonical_url, listed))):
            await self._visit_all(self._schedule_all(listed))
            return
        level = self._schedule_all(links)
        revisit = True
        while level:
            found = await asyncio.gather(*(self._visit(url) for url in level))
            level = self._schedule_all(link for links in found for link in links)
            if not level and revisit:  # pages kept last time that no link led to this time
                revisit = False
                level = self._schedule_all(article.url for article in self.previous.values())

    async def _read_robots(self) -> None:
        result = await get(
            self.session,
            f"{self.origin}/robots.txt",
            max_bytes=MAX_ROBOTS_BYTES,
            allowed=lambda _url: True,
            accept="text/plain",
        )
        if isinstance(result, Page):
            self.robots.parse(result.text().splitlines())
        elif isinstance(result, Failure) and result.status in (401, 403):
            self.robots.parse(["User-agent: *", "Disallow: /"])  # robots.txt refused: nothing is allowed
        elif isinstance(result, Failure) and (result.transient or result.status is None):
            raise SourceError(f"{self.origin}/robots.txt: {result.reason}")
        else:  # no robots.txt (a 404), or a redirect off the site: nothing is disallowed
            self.robots.parse([])

    def _in_scope(self, url: str) -> bool:
        """Whether a canonical URL is on the site and under the start page's folder (``/`` from a sitemap)."""
        return origin_of(url) == self.origin and urlsplit(url).path.startswith(self.scope)

    def _allowed(self, url: str) -> bool:
        return self.robots.can_fetch(self.config.user_agent, url)

    async def _sitemap_pages(self, roots: list[str], *, required: bool) -> list[str]:
        """The page URLs of ``roots`` and the sitemaps they list, in order.

        A sitemap that cannot be read raises :class:`SourceError` when ``required``; otherwise it is
        skipped, with the reason, and what it lists is not read.
        """
        pages: list[str] = []
        queue = list(roots)
        read: set[str] = set()
        while queue and len(read) < MAX_SITEMAPS:
            url = queue.pop(0)
            if url in read:
                continue
            read.add(url)
            result = await get(
                self.session,
                url,
                max_bytes=MAX_SITEMAP_BYTES,
                allowed=lambda _url: True,
                accept="application/xml,text/xml,*/*;q=0.5",
            )
            try:
                if not isinstance(result, Page):
                    raise SitemapError(result.reason if isinstance(result, Failure) else "not modified")
                sitemap = parse_sitemap(result.body, MAX_SITEMAP_BYTES)
            except SitemapError as exc:
                if required:
                    raise SourceError(f"sitemap {url}: {exc}") from None
                self._skip(page_key(url), f"sitemap: {exc}")
                continue
            pages.extend(sitemap.pages)
            nested = (canonical_url(loc) for loc in sitemap.sitemaps)
            queue.extend(loc for loc in nested if loc is not None and origin_of(loc) == self.origin)
        return pages

    def _schedule_all(self, urls: Iterable[str]) -> list[str]:
        """The URLs among ``urls`` to fetch next, each page once, within the scope, the rules and the cap."""
        level: list[str] = []
        for link in urls:
            url = canonical_url(link)
            if url is None or not self._in_scope(url):
                continue
            key = page_key(url)
            if key in self.scheduled or key in self.skipped or not self.filter.admits(url):
                continue
            if not self._allowed(url):
                self._skip(key, "disallowed by robots.txt")
            elif len(self.scheduled) >= self.config.max_pages:
                self.over_cap.add(key)
            else:
                self.scheduled.add(key)
                level.append(url)
        return level

    async def _visit_all(self, urls: list[str]) -> None:
        self.total = self.done + len(urls)
        self.progress(self.done, self.total)
        await asyncio.gather(*(self._visit(url) for url in urls))

    async def _visit(self, url: str, *, whole: bool = False) -> tuple[str, ...]:
        """Fetch one page, record its article or why it has none, and return its links.

        ``whole``: the start page, fetched without a validator, and required to be readable.
        """
        key = page_key(url)
        before = self.previous.get(key)
        async with self.semaphore:
            result = await get(
                self.session,
                url,
                max_bytes=self.config.max_page_bytes,
                allowed=self._allowed,
                validator=None if whole or before is None else before.validator,
            )
        self.done += 1
        self.progress(self.done, self.total)
        if isinstance(result, Failure):
            if whole:
                raise SourceError(f"{url}: {result.reason}")
            if result.transient and before is not None:
                self.articles[key] = before
                self._skip(key, f"{result.reason}; kept as last fetched")
            else:
                self._skip(key, result.reason)
            return ()
        key = page_key(result.url)  # after the redirects followed
        if key in self.articles:
            return ()
        if isinstance(result, NotModified):
            kept = self.previous.get(key)
            if kept is None:
                self._skip(key, "HTTP 304 to a request that asked nothing")
                return ()
            self.articles[key] = kept
            return tuple(_MARKDOWN_LINK.findall(kept.body))
        return await self._page(key, result, whole=whole)

    async def _page(self, key: str, page: Page, *, whole: bool) -> tuple[str, ...]:
        if page.content_type not in _HTML_TYPES:
            if whole:
                raise SourceError(f"{page.url}: not an HTML page ({page.content_type})")
            self._skip(key, f"not an HTML page ({page.content_type})")
            return ()
        document = await asyncio.to_thread(html_to_markdown, page.text(), page.url)
        links = () if document.nofollow else document.links
        if document.noindex:
            self._skip(key, "marked noindex")
        elif not document.markdown:
            self._skip(key, "no text")
        elif self.filter.admits(page.url):
            self.articles[key] = SourceArticle(
                key=key,
                title=document.title or key,
                url=page.url,
                body=document.markdown,
                visibility=self.config.visibility,
                locale=document.lang,
                validator=page.validator,
            )
        return links

    def _skip(self, key: str, reason: str) -> None:
        self.skipped.setdefault(key, Skipped(key, reason))
