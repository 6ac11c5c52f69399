"""A `ReplyStream` on a terminal.

On a TTY an edit rewrites the tail of the current line, so the answer grows in place with its
in-progress marker. On a pipe nothing can be taken back, so only text that is settled is written: the
placeholder and the marker are never printed, and a final text that does not continue what was printed
is written out whole on a new line.

The text comes from the model, the tools and the knowledge base: it is shown ``terminal.clean``, with no
escape sequence or control character a terminal would act on (a sequence cut off at the end of text still
being written is held back until it is complete, so what a pipe got is never taken back).
"""

from __future__ import annotations

import uuid
from typing import TextIO

from bot.streaming.protocol import Footer, MessageRef, ReplyLimits
from bot.streaming.reply import INTERRUPTED_NOTICE
from bot.types import Source
from integrations.console.terminal import clean

STOPPED_NOTICE = "_Stopped._"
"""Ends an answer stopped with Ctrl-C (instead of the notice for an answer cut off by a restart)."""


def source_line(source: Source) -> str:
    """A source as listed under an answer: its title and address (its title alone when it has none)."""
    title = clean(source.title)
    return f"  - {title}: {clean(source.url)}" if source.url else f"  - {title}"


class ConsoleStream:
    def __init__(self, out: TextIO, *, limits: ReplyLimits, placeholder: str, marker: str, tty: bool) -> None:
        self._out = out
        self._limits = limits
        self._placeholder = placeholder
        self._marker = marker
        self._tty = tty
        self._shown: dict[MessageRef, str] = {}
        self._current: MessageRef | None = None
        self._prefix = uuid.uuid4().hex[:12]
        self.stopped = False
        """Set when the person stopped the answer (Ctrl-C): it ends with ``STOPPED_NOTICE``."""

    @property
    def limits(self) -> ReplyLimits:
        return self._limits

    async def post(self, text: str, footer: Footer | None = None) -> MessageRef:
        ref = f"{self._prefix}-{len(self._shown) + 1}"
        if self._current is not None:
            self._out.write("\n")
        self._shown[ref] = ""
        self._current = ref
        self._show(ref, text, footer)
        return ref

    async def edit(self, ref: MessageRef, text: str, footer: Footer | None = None) -> None:
        self._show(ref, text, footer)

    def _show(self, ref: MessageRef, text: str, footer: Footer | None) -> None:
        if ref != self._current:
            return  # an earlier message of a long answer; the terminal already moved past it
        marked = text.endswith(self._marker)
        text = clean(text.removesuffix(self._marker))  # nothing in it the terminal would act on
        if self.stopped and text.endswith(INTERRUPTED_NOTICE):
            text = text.removesuffix(INTERRUPTED_NOTICE) + STOPPED_NOTICE
        if self._tty:
            text += self._marker if marked else ""
        elif text == self._placeholder:
            text = ""
        shown = self._shown[ref]
        common = _common_prefix(shown, text)
        tail = shown[common:]
        if tail and "\n" not in tail and self._tty:
            self._out.write("\b" * len(tail) + " " * len(tail) + "\b" * len(tail))
            self._out.write(text[common:])
        elif tail:
            self._out.write("\n" + text)
        else:
            self._out.write(text[common:])
        self._shown[ref] = text
        if footer is not None:
            self._out.write("\n")
            if footer.sources:
                self._out.write("\nSources:\n")
                for source in footer.sources:
                    self._out.write(source_line(source) + "\n")
        self._out.flush()


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i
