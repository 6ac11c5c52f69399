"""The fake website's pages: what each holds, the template that wraps it, and a small help center."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

#: When the default pages were last modified (Last-Modified); edits move it forward.
EPOCH = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@dataclass
class FakePage:
    """One HTML page: its title and its article's HTML, and how the site serves it."""

    title: str
    body: str
    modified: datetime = EPOCH
    etag: bool = True  # send an ETag; without it, only Last-Modified
    in_sitemap: bool = True
    lang: str = "en"


def render_page(path: str, page: FakePage, pages: Mapping[str, FakePage], extra_links: Iterable[str]) -> str:
    """The whole document as a help center serves it: banner, header, navigation, sidebar, footer."""
    nav = "".join(f'<li><a href="{escape(p)}">{escape(pages[p].title)}</a></li>' for p in sorted(pages))
    extra = "".join(f'<li><a href="{escape(link)}">{escape(link)}</a></li>' for link in extra_links)
    return f"""<!doctype html>
<html lang="{page.lang}">
<head>
<meta charset="utf-8">
<title>{escape(page.title)} – Acme Help Center</title>
<style>.cookie-banner {{ position: fixed }}</style>
<script>window.analytics = {{ site: "acme" }};</script>
</head>
<body>
<div class="cookie-banner" role="dialog"><p>We use cookies to improve your visit.</p>
<button>Accept all cookies</button></div>
<header class="site-header"><a href="/" class="logo">Acme</a>
<nav class="main-nav" aria-label="Help topics"><ul>{nav}</ul></nav>
<form role="search" action="/search"><input name="q" placeholder="Search the help center"></form>
</header>
<div class="breadcrumbs"><a href="/help/">Help Center</a> › {escape(page.title)}</div>
<div class="layout">
<aside class="sidebar"><h2>Popular topics</h2><ul>{extra}</ul></aside>
<main id="content"><article>
<h1>{escape(page.title)}</h1>
{page.body}
</article></main>
</div>
<footer class="site-footer"><p>© 2024 Acme Inc. All rights reserved.</p>
<a href="/privacy">Privacy policy</a> <a href="/help/missing">Old page</a></footer>
</body>
</html>"""


def help_center() -> dict[str, FakePage]:
    """A help center under ``/help/``: five pages, one that robots.txt disallows, one not in the sitemap."""
    return {
        "/help/": FakePage(
            "Acme Help Center",
            "<p>Answers about orders, shipping and returns.</p>"
            '<ul><li><a href="/help/returns">Returns and refunds</a></li>'
            '<li><a href="/help/shipping">Shipping times</a></li></ul>',
        ),
        "/help/returns": FakePage(
            "Returns and refunds",
            "<p>You can return unused items within <strong>30 days</strong> of delivery.</p>"
            "<h2>Starting a return</h2><ol><li>Open <em>Your orders</em>.</li><li>Choose the item.</li></ol>"
            "<h2>Refund times</h2><table><tr><th>Method</th><th>Days</th></tr>"
            "<tr><td>Card</td><td>3–5</td></tr></table>",
        ),
        "/help/shipping": FakePage(
            "Shipping times",
            "<p>Orders ship within two business days.</p><h2>Customs</h2><p>Duties are paid on delivery.</p>",
            etag=False,
        ),
        "/help/api": FakePage(
            "Order API",
            '<p>Look an order up:</p><pre><code class="language-bash">curl https://api.acme.test/orders/A1001'
            "</code></pre>",
            in_sitemap=False,
        ),
        "/help/internal/escalations": FakePage("Escalation runbook", "<p>Call the duty manager at once.</p>"),
    }
