"""Markdown as docs generators write it, made plain: MDX, admonitions, comments; the first heading.

MDX (Docusaurus): ``import``/``export`` statements at the start of a line are dropped up to the next
blank line (where MDX ends them); JSX components (tags whose name starts with a capital letter) lose
their tags and keep what they wrap, a tab's or details' ``label``/``title`` attribute becoming a bold
line; ``{/* comments */}`` are dropped. In every dialect, ``:::note Title`` admonition fences keep only
their title (bold) and HTML comments are dropped. Fenced code blocks are never touched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
_ESM = re.compile(r"^(?:import|export)\b")
_MDX_COMMENT = re.compile(r"\{/\*.*?\*/\}", re.DOTALL)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# A JSX tag: <Name ...>, </Name>, <Name ... />, <Name.Sub>; attributes may span lines.
_JSX_TAG = re.compile(r"<(/?)([A-Z][\w.]*)((?:\s[^<>]*?)?)(/?)>", re.DOTALL)
_LABEL = re.compile(r"""\b(?:label|title)\s*=\s*(?:"([^"]*)"|'([^']*)'|\{\s*["'`]([^"'`]*)["'`]\s*\})""")
_ADMONITION = re.compile(r"^[ \t]*:::+[ \t]*(?:[\w-]+)?[ \t]*(?:\[(.*?)\]|(.*?))[ \t]*$", re.MULTILINE)
_BLANK_RUNS = re.compile(r"\n{3,}")

_ATX_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT_RULE = re.compile(r"^[ \t]{0,3}(?:=+|-+)[ \t]*$")
_INLINE_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_INLINE_MARKS = re.compile(r"[*_`]+")


def _segments(markdown: str) -> Iterator[tuple[bool, list[str]]]:
    """``(is_code, lines)`` runs of ``markdown``: fenced code blocks (fences included) and the rest."""
    fence: str | None = None
    run: list[str] = []
    for line in markdown.splitlines():
        opening = _FENCE.match(line)
        if fence is None and opening:
            if run:
                yield False, run
            run, fence = [line], opening[1]
        elif fence is not None:
            run.append(line)
            if opening and opening[1][0] == fence[0] and len(opening[1]) >= len(fence):
                yield True, run
                run, fence = [], None
        else:
            run.append(line)
    if run:
        yield fence is not None, run


def _outside_code(markdown: str, change: Callable[[str], str]) -> str:
    """``markdown`` with ``change`` applied to the text between fenced code blocks."""
    parts = [
        "\n".join(lines) if is_code else change("\n".join(lines)) for is_code, lines in _segments(markdown)
    ]
    return _BLANK_RUNS.sub("\n\n", "\n".join(parts)).strip()


def _without_esm(text: str) -> str:
    kept: list[str] = []
    in_statement = False
    for line in text.splitlines():
        if in_statement:
            in_statement = bool(line.strip())
        elif _ESM.match(line):
            in_statement = True
        else:
            kept.append(line)
    return "\n".join(kept)


def _jsx_tag(match: re.Match[str]) -> str:
    label = _LABEL.search(match[3]) if not match[1] else None
    text = next((group for group in label.groups() if group), "") if label else ""
    return f"\n**{text.strip()}**\n" if text.strip() else ""


def _admonition(match: re.Match[str]) -> str:
    title = (match[1] or match[2] or "").strip()
    return f"**{title}**" if title else ""


def _plain(text: str) -> str:
    return _ADMONITION.sub(_admonition, _HTML_COMMENT.sub("", text))


def _plain_mdx(text: str) -> str:
    return _plain(_JSX_TAG.sub(_jsx_tag, _MDX_COMMENT.sub("", _without_esm(text))))


def plain_markdown(markdown: str) -> str:
    """Markdown (``.md``) without admonition fences and HTML comments; see the module docstring."""
    return _outside_code(markdown, _plain)


def mdx_to_markdown(mdx: str) -> str:
    """MDX (``.mdx``) as plain Markdown; see the module docstring."""
    return _outside_code(mdx, _plain_mdx)


def first_heading(markdown: str) -> str | None:
    """The text of the first heading (``# Title`` or a ``Title``/``=====`` pair) outside code, if any."""
    for is_code, lines in _segments(markdown):
        if is_code:
            continue
        for number, line in enumerate(lines):
            atx = _ATX_HEADING.match(line)
            text = atx[1] if atx else None
            following = lines[number + 1] if number + 1 < len(lines) else ""
            if (
                text is None
                and line.strip()
                and _SETEXT_RULE.match(following)
                and not line.startswith(" " * 4)
            ):
                text = line
            if text is not None:
                return _INLINE_MARKS.sub("", _INLINE_LINK.sub(r"\1", text)).strip() or None
    return None
