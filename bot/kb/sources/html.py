"""HTML to Markdown for the knowledge base: the page's main content, without the site around it.

Every kind of source that meets HTML (a website's pages, a Confluence export in a folder, a Help Center
article body) converts it here, so an article reads the same whichever source it came from.

Choice of libraries: BeautifulSoup (with the standard library's ``html.parser``, so no C extension) to
find and prune the main content, and ``markdownify`` to write the Markdown. Both are small pure-Python
packages (about 2 MB installed with ``soupsieve``). Tried on help-center pages against the alternatives:
``trafilatura`` (about 70 MB of dependencies) turned a short article into loose lines and kept the
navigation's link texts; ``readability-lxml`` scores paragraphs and dropped a nested list item, and both
guess where rules suffice: help centers mark their content up (``<main>``, ``<article>``, ARIA roles,
``cookie``/``consent`` classes), so the rules below are explicit, predictable and testable.

Work is bounded (about 4 s per million characters of markup on one core): scripts, styles, inline SVGs
and comments are cut out by a linear scan first, then at most :data:`MAX_HTML_CHARS` are parsed; a page
nested too deeply for the converter's recursion falls back to its plain text. Callers in an event loop
run :func:`html_to_markdown` in a thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag
from markdownify import MarkdownConverter

#: At most this many characters of a page's markup, without its scripts and styles, are parsed; the rest
#: is cut. A help article's content is far smaller.
MAX_HTML_CHARS = 500_000

# Elements that are never content.
_NEVER_CONTENT = (
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "object",
    "embed",
    "svg",
    "canvas",
    "img",
    "picture",
    "video",
    "audio",
    "form",
    "button",
    "input",
    "select",
    "textarea",
    "dialog",
    "nav",
    "aside",
)
# ARIA roles of the page's furniture.
_FURNITURE_ROLES = frozenset(
    {"navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alertdialog", "menu"}
)
# Words in a class or id that mark furniture: matched as whole words of the name ("site-nav", "sidebar").
_FURNITURE_WORDS = frozenset(
    {
        "nav",
        "navbar",
        "navigation",
        "menu",
        "breadcrumb",
        "breadcrumbs",
        "sidebar",
        "footer",
        "toolbar",
        "pagination",
        "share",
        "social",
        "related",
        "feedback",
        "newsletter",
        "comments",
        "popup",
        "modal",
        "skip",
        "toc",
        "vote",
        "votes",
    }
)
# Parts of a class or id that mark a cookie or consent banner, wherever they appear ("CybotCookiebotDialog").
_BANNER_PARTS = ("cookie", "consent", "gdpr", "onetrust")
_BULK_OPENING = re.compile(r"<(script|style|svg|template|noscript)\b|<!--", re.I)
_NAME_WORDS = re.compile(r"[a-z0-9]+")
_DISPLAY_NONE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden")
_LANGUAGE_CLASS = re.compile(r"^(?:language|lang)-([\w+#.-]+)$")
_BLANK_LINES = re.compile(r"\n{3,}")
_LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel"})


@dataclass(frozen=True)
class HtmlDocument:
    """A page converted: its title, its main content as Markdown, and what a crawler needs of it."""

    title: str | None  # the main content's <h1>, else og:title, else <title>; None when it has none
    markdown: str
    links: tuple[str, ...]  # every link on the page (navigation too), absolute when a base is known
    lang: str | None = None  # <html lang="…">
    noindex: bool = False  # <meta name="robots" content="noindex">: not to be made an article
    nofollow: bool = False  # <meta name="robots" content="nofollow">: its links are not to be followed


class _Converter(MarkdownConverter):
    """markdownify with ATX headings, fenced code that keeps its language, and no escaping.

    The Markdown is read by the model and the search index, not rendered, so escaping ``_`` and ``*``
    would only put backslashes into words such as ``order_id``.
    """

    def __init__(self) -> None:
        super().__init__(
            heading_style="ATX",
            bullets="-",
            escape_asterisks=False,
            escape_underscores=False,
            table_infer_header=True,
            code_language_callback=_code_language,
        )


def html_to_markdown(html: str, base_url: str | None = None) -> HtmlDocument:
    """Convert a page (or a fragment) to Markdown, keeping its main content only.

    Relative links are made absolute against ``base_url`` (or the page's ``<base href>``), so that the
    article's links work wherever it is shown.
    """
    soup = BeautifulSoup(_without_bulk(html)[:MAX_HTML_CHARS], "html.parser")
    base = _base_url(soup, base_url)
    links = _absolute_links(soup, base)
    robots = _robots_directives(soup)
    lang = _lang(soup)
    head_title = _head_title(soup)
    root = _main_content(soup)
    _prune(root)
    h1 = root.find("h1")
    title = _clean(h1.get_text(" ")) if isinstance(h1, Tag) else None
    return HtmlDocument(
        title=title or head_title,
        markdown=_to_markdown(root),
        links=links,
        lang=lang,
        noindex="noindex" in robots or "none" in robots,
        nofollow="nofollow" in robots or "none" in robots,
    )


def _without_bulk(html: str) -> str:
    """``html`` without its scripts, styles, SVGs, templates and comments, in one pass.

    An element left open eats the rest of the page, as a browser reads it.
    """
    kept: list[str] = []
    position = 0
    while (opening := _BULK_OPENING.search(html, position)) is not None:
        kept.append(html[position : opening.start()])
        tag = opening.group(1)
        closing = re.compile(rf"</{tag}\s*>", re.I) if tag else re.compile("-->")
        end = closing.search(html, opening.end())
        if end is None:
            return "".join(kept)
        position = end.end()
    kept.append(html[position:])
    return "".join(kept)


def _base_url(soup: BeautifulSoup, base_url: str | None) -> str | None:
    base = soup.find("base", href=True)
    if isinstance(base, Tag):
        return urljoin(base_url or "", str(base["href"]))
    return base_url


def _absolute_links(soup: BeautifulSoup, base: str | None) -> tuple[str, ...]:
    """Rewrite every ``<a href>`` as an absolute URL (dropping ``javascript:`` and the like); return them."""
    links: list[str] = []
    for anchor in soup.find_all("a", href=True):
        href = urljoin(base, str(anchor["href"]).strip()) if base else str(anchor["href"]).strip()
        scheme = urlsplit(href).scheme
        if scheme and scheme not in _LINK_SCHEMES:
            del anchor["href"]
            continue
        anchor["href"] = href
        links.append(href)
    return tuple(links)


def _robots_directives(soup: BeautifulSoup) -> frozenset[str]:
    directives: set[str] = set()
    for meta in soup.find_all("meta", attrs={"name": re.compile(r"^robots$", re.I)}):
        directives.update(word.strip().lower() for word in str(meta.get("content", "")).split(","))
    return frozenset(directives)


def _lang(soup: BeautifulSoup) -> str | None:
    html = soup.find("html")
    lang = html.get("lang") if isinstance(html, Tag) else None
    return str(lang).strip() or None if lang else None


def _head_title(soup: BeautifulSoup) -> str | None:
    og = soup.find("meta", attrs={"property": "og:title"})
    if isinstance(og, Tag) and _clean(str(og.get("content", ""))):
        return _clean(str(og["content"]))
    title = soup.find("title")
    return _clean(title.get_text(" ")) or None if isinstance(title, Tag) else None


def _main_content(soup: BeautifulSoup) -> Tag:
    """The element that holds the page's content: <main>, role=main, #main-content, the longest <article>."""
    for found in (
        soup.find("main"),
        soup.find(True, attrs={"role": "main"}),
        soup.find(id="main-content"),
    ):
        if isinstance(found, Tag) and found.get_text(strip=True):
            return found
    articles = [tag for tag in soup.find_all("article") if tag.get_text(strip=True)]
    if articles:
        return max(articles, key=lambda tag: len(tag.get_text()))
    body = soup.find("body")
    return body if isinstance(body, Tag) else soup


def _prune(root: Tag) -> None:
    """Remove the page's furniture from ``root``; an element that holds the <h1> is kept."""
    doomed = [tag for tag in root.find_all(True) if _is_furniture(tag)]
    for tag in doomed:
        if tag.decomposed or tag.find("h1") is not None:
            continue
        tag.decompose()


def _is_furniture(tag: Tag) -> bool:
    if tag.name in _NEVER_CONTENT:
        return True
    if tag.name in ("header", "footer") and not _inside_section(tag):
        return True
    if str(tag.get("role", "")).lower() in _FURNITURE_ROLES:
        return True
    if tag.has_attr("hidden") or str(tag.get("aria-hidden", "")).lower() == "true":
        return True
    if _DISPLAY_NONE.search(str(tag.get("style", ""))):
        return True
    names = " ".join([*tag.get_attribute_list("class"), str(tag.get("id", ""))]).lower()
    return any(part in names for part in _BANNER_PARTS) or not _FURNITURE_WORDS.isdisjoint(
        _NAME_WORDS.findall(names)
    )


def _inside_section(tag: Tag) -> bool:
    """Whether a <header>/<footer> belongs to an article or section (kept) rather than the page (dropped)."""
    return tag.find_parent(("article", "section", "main")) is not None


def _code_language(pre: Tag) -> str | None:
    code = pre.find("code")
    for element in (pre, code):
        if not isinstance(element, Tag):
            continue
        for name in element.get("class") or []:
            matched = _LANGUAGE_CLASS.match(str(name))
            if matched:
                return matched.group(1)
    return None


def _to_markdown(root: Tag) -> str:
    try:
        markdown = _Converter().convert_soup(root)
    except RecursionError:  # nested deeper than the converter can walk: keep the words
        markdown = root.get_text("\n")
    lines = (line.rstrip() for line in markdown.splitlines())
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _clean(text: str) -> str:
    return " ".join(text.split())
