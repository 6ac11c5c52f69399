"""People's names as the platforms give them: untrusted text, made safe to show the model as data."""

from __future__ import annotations

import json
import unicodedata

_JOINERS = frozenset("\u200c\u200d")  # format characters that belong inside a name (scripts, emoji)
MAX_NAME_CHARS = 80
"""Longer names are cut (Slack allows 80 characters for a display name, Discord 32)."""


def one_line_name(raw: str, max_chars: int = MAX_NAME_CHARS) -> str:
    """``raw`` on one line: control and format characters and line or paragraph breaks become spaces,
    runs of white space one space, and it is cut to ``max_chars``; ``"unknown"`` if nothing is left."""
    cleaned = "".join(
        " " if unicodedata.category(char)[0] in "CZ" and char not in _JOINERS else char for char in raw
    )
    name = " ".join(cleaned.split())[:max_chars].strip()
    return name or "unknown"


def quoted_name(raw: str) -> str:
    """The name on one line, as a JSON string (quotes and backslashes escaped)."""
    return json.dumps(one_line_name(raw), ensure_ascii=False)
