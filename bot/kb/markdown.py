"""Markdown as the index holds it: plain text, one line per non-blank source line, cut to a bound."""

from __future__ import annotations

import re


def cut_text(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at a line or word boundary when there is one."""
    if len(text) <= limit:
        return text
    cut = max(text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
    return text[: cut if cut > limit // 2 else limit]


# (characters that must occur for the rule to apply, pattern, replacement); the guard skips passes
# that cannot match, which is most of them for plain prose.
_MARKDOWN_RULES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("`~", re.compile(r"^[ \t]*(```|~~~).*$", re.MULTILINE), ""),  # code fence lines (the code stays)
    ("#", re.compile(r"^[ \t]{0,3}#{1,6}[ \t]*", re.MULTILINE), ""),  # heading marks
    (">", re.compile(r"^[ \t]*>[ \t]?", re.MULTILINE), ""),  # block quotes
    ("-*_", re.compile(r"^[ \t]*([-*_])([ \t]*\1){2,}[ \t]*$", re.MULTILINE), ""),  # horizontal rules
    ("|", re.compile(r"^[ \t|:-]*-{3,}[ \t|:-]*$", re.MULTILINE), ""),  # table rule lines
    ("-*+", re.compile(r"^[ \t]*[-*+][ \t]+", re.MULTILINE), ""),  # bullets
    ("[", re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),  # links and images: keep the text
    ("<", re.compile(r"<(https?://[^>\s]+)>"), r"\1"),  # autolinks
    ("<", re.compile(r"</?[A-Za-z][^>]*>"), ""),  # inline HTML tags
    ("`", re.compile(r"`([^`]*)`"), r"\1"),  # inline code
    ("*", re.compile(r"\*+"), ""),  # emphasis
    ("_", re.compile(r"(?<!\w)_+|_+(?!\w)"), ""),  # emphasis (snake_case survives)
    ("|", re.compile(r"[ \t]*\|[ \t]*"), " "),  # table cell borders
)


def markdown_to_text(markdown: str) -> str:
    """A plain-text rendering of ``markdown``, good enough to index and to quote from.

    One line per non-blank source line, with runs of spaces collapsed.
    """
    text = markdown
    for guard, pattern, replacement in _MARKDOWN_RULES:
        if any(char in text for char in guard):
            text = pattern.sub(replacement, text)
    return "\n".join(" ".join(words) for line in text.splitlines() if (words := line.split()))
