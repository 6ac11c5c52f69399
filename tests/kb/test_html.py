"""HTML to Markdown: the main content of help-center pages, without the site around it."""

from __future__ import annotations

from bot.kb.sources.html import MAX_HTML_CHARS, html_to_markdown

HELP_PAGE = """<!doctype html>
<html lang="en-GB"><head><title>Returns and refunds | Acme Help Center</title>
<meta property="og:title" content="Returns (og)">
<style>body { color: red } .STYLETEXT {}</style><script>var tracking = "SCRIPTTEXT";</script></head>
<body>
<div id="cookie-banner" class="cookie-consent"><p>We use cookies. COOKIETEXT</p>
<button>Accept all</button></div>
<div class="cc-window"><span>CybotCookiebotDialog</span></div>
<header class="site-header"><a href="/">Acme</a><nav><ul><li><a href="/shop">Shop NAVTEXT</a></li></ul></nav>
<form action="/search"><input name="q" placeholder="FORMTEXT"></form></header>
<div class="breadcrumbs"><a href="/help">Help</a> BREADCRUMBTEXT</div>
<div class="container">
<aside class="sidebar"><h3>In this section SIDEBARTEXT</h3><a href="/help/cancel">Cancel</a></aside>
<main><article>
<header class="article-header"><h1>Returns and refunds</h1></header>
<p>You can return items within <strong>30 days</strong>. See <a href="../shipping">shipping costs</a>.</p>
<h2>How to start a return</h2>
<ol><li>Open <em>Your orders</em>.</li><li>Press <code>Return</code>.</li></ol>
<h2>Refund times</h2>
<table><tr><th>Method</th><th>Time</th></tr><tr><td>Card</td><td>3–5 days</td></tr></table>
<pre><code class="language-bash">curl -X POST https://api.acme.test/returns
</code></pre>
<ul><li>Unused items only</li><li>Keep the receipt<ul><li>paper or email</li></ul></li></ul>
<p><a href="javascript:void(0)">Print</a> <img src="x.png" alt="IMAGETEXT"></p>
<div class="article-votes">Was this helpful? VOTETEXT</div>
<div class="related-articles">RELATEDTEXT</div>
</article></main></div>
<footer><p>© Acme FOOTERTEXT</p><a href="/privacy">Privacy</a></footer>
<!-- COMMENTTEXT -->
</body></html>"""

FURNITURE = (
    "STYLETEXT",
    "SCRIPTTEXT",
    "COOKIETEXT",
    "Cookiebot",
    "Accept all",
    "NAVTEXT",
    "FORMTEXT",
    "BREADCRUMBTEXT",
    "SIDEBARTEXT",
    "IMAGETEXT",
    "VOTETEXT",
    "RELATEDTEXT",
    "FOOTERTEXT",
    "COMMENTTEXT",
)


def test_a_help_page_keeps_its_content_and_drops_the_site_around_it() -> None:
    page = html_to_markdown(HELP_PAGE, base_url="https://help.acme.test/help/returns/")

    assert page.title == "Returns and refunds"
    assert page.lang == "en-GB"
    for text in FURNITURE:
        assert text not in page.markdown, text
    assert page.markdown == (
        "# Returns and refunds\n\n"
        "You can return items within **30 days**. See "
        "[shipping costs](https://help.acme.test/help/shipping).\n\n"
        "## How to start a return\n\n"
        "1. Open *Your orders*.\n"
        "2. Press `Return`.\n\n"
        "## Refund times\n\n"
        "| Method | Time |\n"
        "| --- | --- |\n"
        "| Card | 3–5 days |\n\n"
        "```bash\n"
        "curl -X POST https://api.acme.test/returns\n"
        "```\n\n"
        "- Unused items only\n"
        "- Keep the receipt\n"
        "  - paper or email\n\n"
        "Print"
    )


def test_every_link_of_the_page_is_handed_back_absolute_navigation_included() -> None:
    page = html_to_markdown(HELP_PAGE, base_url="https://help.acme.test/help/returns/")

    assert page.links == (
        "https://help.acme.test/",
        "https://help.acme.test/shop",
        "https://help.acme.test/help",
        "https://help.acme.test/help/cancel",
        "https://help.acme.test/help/shipping",
        "https://help.acme.test/privacy",
    )


def test_the_title_falls_back_to_og_title_then_to_the_title_element() -> None:
    with_og = '<html><head><title>T | Site</title><meta property="og:title" content="OG"></head><p>x</p>'
    assert html_to_markdown(with_og).title == "OG"
    assert html_to_markdown("<title> Plain\n title </title><p>x</p>").title == "Plain title"
    assert html_to_markdown("<p>no title at all</p>").title is None


def test_a_fragment_converts_whole_and_a_base_href_resolves_links() -> None:
    page = html_to_markdown('<base href="https://docs.test/a/"><h2>Setup</h2><p><a href="b">B</a></p>')

    assert page.markdown == "## Setup\n\n[B](https://docs.test/a/b)"
    assert page.links == ("https://docs.test/a/b",)


def test_robots_meta_is_read() -> None:
    page = html_to_markdown('<meta name="ROBOTS" content="noindex, nofollow"><p>x</p>')
    assert page.noindex and page.nofollow
    plain = html_to_markdown("<p>x</p>")
    assert not plain.noindex and not plain.nofollow


def test_the_longest_article_is_the_content_when_there_is_no_main() -> None:
    html = (
        "<body><article><p>teaser TEASERTEXT</p></article>"
        "<article><h1>Real</h1><p>the real article body, longer than the teaser</p></article></body>"
    )
    page = html_to_markdown(html)

    assert page.title == "Real"
    assert "TEASERTEXT" not in page.markdown
    assert "the real article body" in page.markdown


def test_a_page_wrapped_in_a_form_keeps_the_content_that_holds_its_heading() -> None:
    html = '<body><form id="aspnetForm"><div><h1>Billing</h1><p>Invoices are monthly.</p></div></form></body>'

    assert html_to_markdown(html).markdown == "# Billing\n\nInvoices are monthly."


def test_hidden_elements_are_dropped() -> None:
    html = (
        '<main><p>shown</p><div hidden>H1</div><div style="display: none">H2</div>'
        '<p aria-hidden="true">H3</p></main>'
    )

    assert html_to_markdown(html).markdown == "shown"


def test_a_huge_page_is_cut_and_a_deep_one_keeps_its_words() -> None:
    paragraph = "<p>words and <b>more</b> words</p>\n"
    huge = "<main><h1>Huge</h1>" + "<script>" + "x" * 5_000_000 + "</script>" + paragraph * 200_000
    page = html_to_markdown(huge)

    assert page.title == "Huge"
    # The script is cut out before the cap applies; then the cap, not the page, bounds the work.
    assert (
        MAX_HTML_CHARS // len(paragraph) - 1
        <= page.markdown.count("words and")
        <= MAX_HTML_CHARS // len(paragraph)
    )

    deep = "<div>" * 20_000 + "deep text" + "</div>" * 20_000
    assert html_to_markdown(deep).markdown == "deep text"


def test_an_unclosed_script_eats_the_rest_as_a_browser_would() -> None:
    page = html_to_markdown("<p>before</p><script>var a = '<p>not content</p>';")

    assert page.markdown == "before"
