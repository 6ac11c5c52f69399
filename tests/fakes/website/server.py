"""The fake website's aiohttp server: pages, robots.txt, sitemaps, conditional requests, recording."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime
from xml.sax.saxutils import escape as xml_escape

from aiohttp import web

from fakes.http_server import HttpFake

from .pages import EPOCH, FakePage, help_center, render_page

DEFAULT_ROBOTS = "User-agent: *\nDisallow: /help/internal/\n"


@dataclass(frozen=True)
class RecordedRequest:
    """One request the site received."""

    path: str  # with the query string, if any
    headers: dict[str, str] = field(default_factory=dict)


class FakeWebsite(HttpFake):
    """The site; ``async with FakeWebsite() as site:``. See the package docstring."""

    def __init__(
        self,
        pages: dict[str, FakePage] | None = None,
        *,
        robots: str | None = DEFAULT_ROBOTS,
        advertise_sitemap: bool = False,
        extra_links: tuple[str, ...] = (),
        host: str = "127.0.0.1",
    ) -> None:
        self.pages = help_center() if pages is None else pages
        self.robots = robots  # None: no robots.txt (404)
        self.advertise_sitemap = advertise_sitemap
        #: Links every page's sidebar shows besides the navigation (e.g. to another site).
        self.extra_links = extra_links
        self.redirects: dict[str, str] = {}
        self.files: dict[str, tuple[str, bytes]] = {}
        self.status: dict[str, int] = {}
        self.requests: list[RecordedRequest] = []
        self.not_modified = 0
        self.host = host
        self._clock = EPOCH

    # ---- what tests change and read --------------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.base_url + path

    def set_page(self, path: str, title: str, body: str, **options: bool) -> None:
        """Add or edit a page; its Last-Modified moves past every earlier one."""
        self._clock += timedelta(minutes=1)
        self.pages[path] = FakePage(title, body, modified=self._clock, **options)

    def remove_page(self, path: str) -> None:
        del self.pages[path]

    def requested(self, path: str) -> list[RecordedRequest]:
        """The requests for ``path`` (with its query, if any), in order."""
        return [request for request in self.requests if request.path == path]

    # ---- serving ---------------------------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(RecordedRequest(request.path_qs, dict(request.headers)))
        path = request.path
        if path in self.status:
            return web.Response(status=self.status[path], text="forced status")
        if path in self.redirects:
            raise web.HTTPFound(self.redirects[path])
        if path == "/robots.txt" and self.robots is not None:
            return web.Response(text=self._robots_txt(), content_type="text/plain")
        if path == "/sitemap.xml":
            return self._xml("sitemapindex", "sitemap", [self.url("/sitemaps/pages.xml")])
        if path == "/sitemaps/pages.xml":
            listed = [self.url(p) for p, page in sorted(self.pages.items()) if page.in_sitemap]
            return self._xml("urlset", "url", listed)
        if path in self.files:
            content_type, body = self.files[path]
            return web.Response(body=body, content_type=content_type)
        if path in self.pages:
            return self._page(request, path, self.pages[path])
        return web.Response(status=404, text="Not found", content_type="text/html")

    def _robots_txt(self) -> str:
        assert self.robots is not None
        return self.robots + (f"Sitemap: {self.url('/sitemap.xml')}\n" if self.advertise_sitemap else "")

    def _page(self, request: web.Request, path: str, page: FakePage) -> web.Response:
        html = render_page(path, page, self.pages, self.extra_links)
        etag = '"' + hashlib.sha256(html.encode()).hexdigest()[:20] + '"'
        headers = {"Last-Modified": format_datetime(page.modified, usegmt=True)}
        if page.etag:
            headers["ETag"] = etag
        if self._unchanged(request, page, etag):
            self.not_modified += 1
            return web.Response(status=304, headers=headers)
        return web.Response(text=html, content_type="text/html", charset="utf-8", headers=headers)

    def _unchanged(self, request: web.Request, page: FakePage, etag: str) -> bool:
        if_none_match = request.headers.get("If-None-Match")
        if if_none_match is not None:
            return page.etag and etag in (tag.strip() for tag in if_none_match.split(","))
        if_modified_since = request.headers.get("If-Modified-Since")
        if if_modified_since is None:
            return False
        try:
            return page.modified <= parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False

    def _xml(self, root: str, entry: str, locations: list[str]) -> web.Response:
        entries = "".join(f"<{entry}><loc>{xml_escape(loc)}</loc></{entry}>" for loc in locations)
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<{root} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</{root}>'
        )
        return web.Response(text=body, content_type="application/xml")
