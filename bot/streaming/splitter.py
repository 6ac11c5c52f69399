"""Splitting Markdown into messages that fit a platform's length limit (docs/architecture.md §5).

A cut is made, in order of preference, after a blank line, at a line end, after a sentence or between
words; never inside a link, a mention, an emoji code or inline code when that can be avoided. A cut inside a
fenced code block closes the block at the end of one chunk and reopens it, with its language, at the start
of the next. A single token longer than the limit is still cut, so splitting always ends.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

_FENCE_OPEN = re.compile(r" {0,3}(?P<marker>`{3,}|~{3,})(?P<info>[^\n]*)")
_FENCE_CLOSE = re.compile(r" {0,3}(?P<marker>`{3,}|~{3,})[ \t]*")

# Constructs a cut must not fall inside. The last three match a link or mention at the end of a text that is
# still being streamed, so that it is not cut before it is complete.
_PROTECTED = re.compile(
    r"""
      !?\[[^\]\n]*\]\([^)\s]*\)                     # Markdown link or image [text](url)
    | <[a-zA-Z][\w+.-]*:[^<>\s|]*(?:\|[^<>\n]*)?>    # Slack link <https://…|text>, <mailto:…>
    | <[@#!][^<>\n]*>                               # mention <@U1>, <#C1|name>, <!here>, <@&1>
    | <a?:\w+:\d+>                                  # Discord custom emoji <:name:123>
    | :[\w+-]+:                                     # emoji code :smile:
    | `[^`\n]+`                                     # inline code
    | https?://\S+                                  # bare URL
    | !?\[[^\]\n]*\]\([^)\s]*\Z                     # a link whose URL is still being written
    | !?\[[^\]\n]{0,100}\Z                          # a link whose text is still being written
    | <(?:[@#!]|https?:|mailto:)[^<>\s]*\Z          # an angle link or mention still being written
    """,
    re.VERBOSE,
)

_PARAGRAPH = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)*")
_LINE = re.compile(r"\n")
_SENTENCE = re.compile(r"[.!?…][\"')\]*_~]*[ \t]+")
_WORD = re.compile(r"[ \t]+")
_BOUNDARIES = (_PARAGRAPH, _LINE, _SENTENCE, _WORD)
"""Kinds of cut, best first. A cut is made where a match ends, so separators stay with the earlier chunk."""


@dataclass(frozen=True)
class Chunk:
    """One message's share of a text.

    ``body`` is ``source[start:end]``. ``reopen`` (the opening fence line of a code block that an earlier cut
    went through) and ``close`` (the fence that ends such a block) are added around it; ``text`` is what is
    sent.
    """

    start: int
    end: int
    body: str
    reopen: str = ""
    close: str = ""

    @property
    def text(self) -> str:
        return self.reopen + self.body + self.close


@dataclass(frozen=True)
class _Fence:
    open_start: int
    body_start: int
    close_start: int
    close_end: int
    opening: str
    marker: str
    closed: bool


def _find_fences(text: str) -> list[_Fence]:
    """The fenced code blocks of ``text`` (CommonMark rules, simplified), in order."""
    fences: list[_Fence] = []
    opened: tuple[int, int, str, str] | None = None
    pos, size = 0, len(text)
    while pos < size:
        newline = text.find("\n", pos)
        line_end = size if newline < 0 else newline
        next_pos = size if newline < 0 else newline + 1
        line = text[pos:line_end]
        if opened is None:
            match = _FENCE_OPEN.fullmatch(line)
            if match and not (match["marker"][0] == "`" and "`" in match["info"]):
                opened = (pos, next_pos, line, match["marker"])
        else:
            match = _FENCE_CLOSE.fullmatch(line)
            marker = opened[3]
            if match and match["marker"][0] == marker[0] and len(match["marker"]) >= len(marker):
                fences.append(_Fence(opened[0], opened[1], pos, next_pos, opened[2], marker, True))
                opened = None
        pos = next_pos
    if opened is not None:
        fences.append(_Fence(opened[0], opened[1], size, size, opened[2], opened[3], False))
    return fences


class _Layout:
    """What a cut in one text must respect: its code fences and the spans it must not cut through."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._fences = _find_fences(text)
        self._fence_starts = [fence.body_start for fence in self._fences]
        # Open intervals (lo, hi): no cut at any p with lo < p < hi.
        spans = [(match.start(), match.end()) for match in _PROTECTED.finditer(text)]
        for fence in self._fences:
            spans.append((fence.open_start, fence.body_start + 1))  # in or right after the opening line
            if fence.closed:
                spans.append((fence.close_start - 1, fence.close_end))  # right before or in the closing line
        merged: list[tuple[int, int]] = []
        for lo, hi in sorted(spans):
            if merged and lo < merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
            else:
                merged.append((lo, hi))
        self._span_los = [lo for lo, _ in merged]
        self._span_his = [hi for _, hi in merged]

    def fence_at(self, pos: int) -> _Fence | None:
        """The code block whose body a cut at ``pos`` falls inside, if any."""
        index = bisect.bisect_left(self._fence_starts, pos) - 1
        if index >= 0 and pos < self._fences[index].close_start:
            return self._fences[index]
        return None

    def protected(self, pos: int) -> bool:
        index = bisect.bisect_left(self._span_los, pos) - 1
        return index >= 0 and pos < self._span_his[index]

    def close_at(self, pos: int) -> str:
        """The fence that must end a chunk cut at ``pos``."""
        fence = self.fence_at(pos)
        if fence is None:
            return ""
        return fence.marker if self.text[pos - 1] == "\n" else "\n" + fence.marker

    def reopen_at(self, pos: int) -> str:
        """The fence line that must start a chunk beginning at ``pos``."""
        fence = self.fence_at(pos)
        return "" if fence is None else fence.opening + "\n"


def split_chunks(text: str, limit: int, start: int = 0) -> list[Chunk]:
    """Split ``text[start:]`` into chunks whose ``text`` is at most ``limit`` characters.

    ``start`` must be ``0`` or the ``end`` of a chunk from an earlier split of a text with the same prefix
    (a streaming text that has grown); the fences before it are taken into account. The bodies of the
    chunks, joined, are exactly ``text[start:]``; no chunk is empty.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    layout = _Layout(text)
    chunks: list[Chunk] = []
    pos = start
    while pos < len(text):
        reopen = layout.reopen_at(pos)
        decorate = len(reopen) + 1 + len(layout.close_at(pos + 1)) <= limit
        if not decorate:
            reopen = ""  # no room for fence lines and a character between them: cut the code plainly
        if len(reopen) + len(text) - pos <= limit:
            end = len(text)
        else:
            end = _cut(layout, pos, limit, reopen, decorate)
        close = layout.close_at(end) if decorate and end < len(text) else ""
        chunks.append(Chunk(pos, end, text[pos:end], reopen, close))
        pos = end
    return chunks


def split_message(text: str, limit: int) -> list[str]:
    """The messages that carry ``text``, each at most ``limit`` characters (see ``split_chunks``)."""
    return [chunk.text for chunk in split_chunks(text, limit)]


def close_open_fence(text: str) -> str:
    """``text`` with a closing fence added if it ends inside a code block, so that more can follow it."""
    fences = _find_fences(text)
    if not fences or fences[-1].closed:
        return text
    return text + ("" if text.endswith("\n") else "\n") + fences[-1].marker


def _cut(layout: _Layout, pos: int, limit: int, reopen: str, decorate: bool) -> int:
    """Where to end the chunk that starts at ``pos``, which does not fit as a whole."""
    text = layout.text

    def fits(end: int) -> bool:
        close = len(layout.close_at(end)) if decorate else 0
        return len(reopen) + (end - pos) + close <= limit

    highest = min(pos + limit - len(reopen), len(text) - 1)
    best_by_kind: list[int] = []
    for pattern in _BOUNDARIES:
        ends = [
            match.end()
            for match in pattern.finditer(text, pos, highest)
            if not layout.protected(match.end())
            and fits(match.end())
            and not (pattern is _SENTENCE and layout.fence_at(match.end()) is not None)
        ]
        if ends:
            best_by_kind.append(max(ends))
    enough = pos + (limit - len(reopen)) // 2
    for end in best_by_kind:
        if end >= enough:
            return end
    if best_by_kind:
        return max(best_by_kind)
    fitting = [end for end in range(highest, pos, -1) if fits(end)]
    return next((end for end in fitting if not layout.protected(end)), fitting[0])
