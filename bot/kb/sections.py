"""Long articles split at their headings, each part with the anchor a docs site gives that heading.

A search hit is a section, cited as ``url#anchor`` under its article's title. An article whose text is
shorter than :data:`SPLIT_MIN_CHARS` stays whole (one section without a heading): splitting a short page
only scatters its words. Longer ones are split at ATX (``## Heading``) and setext headings of levels 1 to
3 outside code fences; the text before the first heading is a section of its own (linked to the article),
and a heading with no text of its own before the next one (a chapter heading over its first
subheading) is not a section by itself.

Anchors follow GitHub's slugger, which Docusaurus uses too: lower-cased, punctuation other than ``-`` and
``_`` dropped, each space a ``-``, a repeated heading suffixed ``-1``, ``-2``. An explicit id written the
way Docusaurus, MkDocs (``attr_list``), Hugo and Pandoc all accept, ``## Heading {#my-id}``, is used as is;
a source converting HTML keeps a heading's real ``id`` that way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Articles shorter than this (in characters of Markdown) are one section.
SPLIT_MIN_CHARS = 1_200

_ATX = re.compile(r"^[ ]{0,3}(#{1,3})[ \t]+(?P<text>.+?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^[ ]{0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^[ ]{0,3}(```|~~~)")
_EXPLICIT_ID = re.compile(r"[ \t]*\{#(?P<id>[A-Za-z0-9_:.-]+)\}[ \t]*$")
_INLINE_MARKUP = re.compile(r"!?\[([^\]]*)\]\([^)]*\)|<[^>]+>|[`*]|(?<!\w)_+|_+(?!\w)")
_NOT_SLUG = re.compile(r"[^\w\- ]")


@dataclass(frozen=True)
class Section:
    """One part of an article: its heading (None for an article's opening part) and its Markdown."""

    heading: str | None
    anchor: str | None
    markdown: str


def heading_text(raw: str) -> str:
    """The visible text of a heading line's content (links, code and emphasis marks removed)."""
    return " ".join(_INLINE_MARKUP.sub(lambda m: m.group(1) or "", raw).split())


def github_slug(text: str) -> str:
    """GitHub's (and Docusaurus') anchor for a heading's visible text, before de-duplication."""
    return _NOT_SLUG.sub("", text.strip().lower()).replace(" ", "-")


class _Slugger:
    """Unique anchors within one article: a repeated slug gets ``-1``, ``-2``... as GitHub does."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def anchor(self, raw_heading: str) -> tuple[str, str]:
        """``(visible heading, anchor)`` for one heading line's content."""
        explicit = _EXPLICIT_ID.search(raw_heading)
        if explicit is not None:
            text = heading_text(raw_heading[: explicit.start()])
            self._seen.setdefault(explicit["id"], 0)
            return text, explicit["id"]
        text = heading_text(raw_heading)
        slug = github_slug(text)
        count = self._seen.get(slug)
        self._seen[slug] = 0 if count is None else count + 1
        return text, slug if count is None else f"{slug}-{count + 1}"


def split_sections(markdown: str) -> list[Section]:
    """``markdown`` as its sections, in order; one section without a heading if it is short or flat."""
    if len(markdown) < SPLIT_MIN_CHARS:
        return [Section(None, None, markdown.strip())]
    slugger = _Slugger()
    sections: list[Section] = []
    heading: tuple[str | None, str | None] = (None, None)
    lines: list[str] = []
    in_fence: str | None = None

    source = markdown.splitlines()
    for number, line in enumerate(source):
        fence = _FENCE.match(line)
        if fence is not None:
            in_fence = None if in_fence == fence.group(1) else in_fence or fence.group(1)
        found: str | None = None
        if in_fence is None and fence is None:
            atx = _ATX.match(line)
            if atx is not None:
                found = atx["text"]
            elif (
                _SETEXT.match(line)
                and lines
                and lines[-1].strip()
                and (number < 2 or not source[number - 2].strip())  # a one-line paragraph above
            ):
                found = lines.pop()
        if found is None:
            lines.append(line)
            continue
        text = "\n".join(lines).strip()
        if text:
            sections.append(Section(heading[0], heading[1], text))
        heading = slugger.anchor(found.strip())
        lines = []
    text = "\n".join(lines).strip()
    if text:
        sections.append(Section(heading[0], heading[1], text))
    return sections or [Section(None, None, markdown.strip())]
