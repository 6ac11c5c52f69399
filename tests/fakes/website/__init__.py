"""A fake help-center website on 127.0.0.1, for the ``website`` knowledge source's tests.

    async with FakeWebsite() as site:           # a small help center (see ``pages.help_center``)
        source = WebsiteSourceConfig(name="help", kind="website", url=site.url("/help/")).open(tmp_path)
        fetched = await source.fetch({}, lambda done, total: None)
        site.set_page("/help/returns", "Returns", "<p>Now 60 days.</p>")   # an edit
        site.remove_page("/help/shipping")                                  # a removal
        assert site.not_modified == ...                                      # 304s answered

Every page is a whole HTML document as help centers serve them: a cookie banner, a header with the
navigation (a link to every page), a search form, breadcrumbs, a sidebar, the article in ``<main>``, and a
footer; the page's own HTML is the article's body. The site also serves:

- ``/robots.txt``: ``Disallow: /help/internal/`` for every agent (``robots=`` replaces it), and a
  ``Sitemap:`` line when ``advertise_sitemap`` is set;
- ``/sitemap.xml``: a sitemap index naming ``/sitemaps/pages.xml``, the ``<urlset>`` of the pages whose
  ``in_sitemap`` is set;
- ETag (a hash of the page) and Last-Modified (when it was last set) on each page (``etag=False``: the
  Last-Modified date only); If-None-Match and If-Modified-Since are answered with 304 and counted in
  :attr:`FakeWebsite.not_modified`;
- ``redirects`` (path → Location, answered with 302), ``files`` (path → content type and bytes, for
  what is not HTML), ``status`` (path → a status to answer with instead, e.g. 503);
- 404 for anything else.

Every request is recorded (:attr:`FakeWebsite.requests`: path with query, and headers).

Where each part lives (import from the package): ``server`` (:class:`FakeWebsite`,
:class:`RecordedRequest`), ``pages`` (:class:`FakePage`, the page template, the default help center).
"""

from .pages import FakePage, help_center, render_page
from .server import FakeWebsite, RecordedRequest

__all__ = ["FakePage", "FakeWebsite", "RecordedRequest", "help_center", "render_page"]
