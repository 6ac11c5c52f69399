"""A `ReplyStream` for a person at a terminal: the answer rendered as Markdown while it streams.

An answer grows block by block (paragraphs, lists, tables, code blocks, separated by blank lines). A block
that is complete, one the next has started after, is printed for good, rendered by ``rich`` (headings,
bold, lists, tables, code with syntax highlighting); only the block still being written is redrawn, in a
small live region at the bottom, so nothing above it flickers and a long answer scrolls like any output.
Until the answer's first text comes, the live region holds a dim status line: what the bot is doing
("searching the help center…", "looking up ORD-10001…"), which disappears when the text arrives. The
status line is the reply's ``Progress`` (as Slack's thread status is), so no placeholder message is sent.

The text comes from the model, the tools and the knowledge base: it is ``terminal.clean``-ed before
anything else, so no escape sequence or control character in it reaches the terminal, and it is rendered
as Markdown (or as plain ``Text``), which has no ``[bold]``-style markup of rich's to inject. Links are
shown with their real address next to their label (no hidden terminal hyperlinks).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import replace
from itertools import pairwise
from typing import TYPE_CHECKING

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.live import Live
from rich.markdown import Markdown
from rich.segment import Segment
from rich.text import Text

from bot.streaming.protocol import Footer, MessageRef, ReplyLimits
from bot.streaming.reply import INTERRUPTED_NOTICE
from integrations.console.stream import STOPPED_NOTICE, source_line
from integrations.console.terminal import clean

if TYPE_CHECKING:
    from rich.style import Style

THINKING = "thinking…"
CODE_THEME = "monokai"
_FENCES = ("```", "~~~")

TOOL_STATUS = {
    "lookup_order": "looking up {subject}…",
    "list_my_orders": "looking up your orders…",
    "search_kb": "searching the help center…",
    "escalate_to_human": "handing this over to a person…",
}
"""What the status line says while a tool runs; ``{subject}`` is what the call is about (an order id), or
``the order`` when the tool does not say. Another tool is named as it is."""


def tool_activity(name: str, subject: str | None = None) -> str:
    status = TOOL_STATUS.get(name, f"using {name.replace('_', ' ')}…")
    return status.format(subject=subject or "the order")


class MarkdownStream:
    """Renders the messages of one reply on ``console``, a terminal, and is the reply's ``Progress``: the
    status line until the answer's first text. Setting ``stopped`` before the reply settles (Ctrl-C) ends
    it with :data:`STOPPED_NOTICE`.
    """

    def __init__(self, console: Console, *, limits: ReplyLimits, marker: str) -> None:
        self._console = console
        self._limits = replace(limits, placeholder=False)  # the status line shows the answer is coming
        self._marker = marker
        self._prefix = uuid.uuid4().hex[:12]
        self._count = 0
        self._current: MessageRef | None = None
        self._text = ""  # the current message's text (cleaned)
        self._printed = 0  # how much of it is printed for good
        self._blocks = 0  # blocks of the current message printed for good
        self._answered = False  # some text of the answer (not a status) has been shown
        self._live: Live | None = None
        self.stopped = False

    @property
    def limits(self) -> ReplyLimits:
        return self._limits

    async def post(self, text: str, footer: Footer | None = None) -> MessageRef:
        if self._current is not None:
            self._settle()
        self._count += 1
        self._current = f"{self._prefix}-{self._count}"
        self._text, self._printed, self._blocks = "", 0, 0
        self._show(text, footer)
        return self._current

    async def edit(self, ref: MessageRef, text: str, footer: Footer | None = None) -> None:
        if ref == self._current:
            self._show(text, footer)
        # else: an earlier message of a long answer; the terminal already moved past it

    async def show_progress(self, tool: str | None, subject: str | None = None) -> None:
        if not self._answered:
            status = THINKING if tool is None else tool_activity(tool, subject)
            self._live_update(Text(clean(status), style="dim"))

    async def clear_progress(self) -> None:
        if not self._answered:
            self._stop_live()

    def close(self) -> None:
        """Settle whatever is still live (a reply that ended without a final edit, or with none at all)."""
        if self._current is not None:
            self._settle()
        self._stop_live()

    def _show(self, raw: str, footer: Footer | None) -> None:
        streaming = raw.endswith(self._marker)
        text = clean(raw.removesuffix(self._marker))
        if self.stopped and text.endswith(INTERRUPTED_NOTICE):
            text = text.removesuffix(INTERRUPTED_NOTICE) + STOPPED_NOTICE
        self._answered = True
        if not text.startswith(self._text[: self._printed]):
            # The final text is not what was streamed (e.g. replaced): it is shown whole, below.
            self._stop_live()
            self._console.print(Text("…", style="dim"))
            self._printed, self._blocks = 0, 0
        self._text = text
        if streaming:
            self._print_blocks(settled_length(text, self._printed))
            tail = text[self._printed :].lstrip("\n")
            self._live_update(_Lines(markdown(tail + self._marker), bottom=True) if tail else Text(""))
            return
        self._settle()
        if footer is not None and footer.sources:
            self._console.print()
            self._console.print(Text("Sources:", style="bold"))
            for source in footer.sources:
                self._console.print(Text(source_line(source), style="dim"))

    def _settle(self) -> None:
        """Print the rest of the current message for good and end the live region."""
        self._print_blocks(len(self._text))

    def _print_blocks(self, end: int) -> None:
        blocks = [block for block in split_blocks(self._text[self._printed : end]) if block.strip()]
        if end == len(self._text):
            self._stop_live()
        for block in blocks:
            if self._blocks:
                self._console.print()
            self._console.print(_Lines(markdown(block)))
            self._blocks += 1
        self._printed = max(self._printed, end)

    def _live_update(self, renderable: RenderableType) -> None:
        if self._live is None:
            self._live = Live(
                renderable,
                console=self._console,
                auto_refresh=False,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
                vertical_overflow="visible",
            )
            self._live.start(refresh=True)
        else:
            self._live.update(renderable, refresh=True)

    def _stop_live(self) -> None:
        if self._live is not None:
            self._live.update(Text(""), refresh=True)
            self._live.stop()
            self._live = None


def markdown(text: str) -> Markdown:
    """``text`` (already cleaned) as Markdown; links keep their address in view."""
    return Markdown(text, code_theme=CODE_THEME, hyperlinks=False)


def settled_length(text: str, start: int = 0) -> int:
    """How much of ``text`` (from ``start``) is made of complete blocks: up to the last block boundary."""
    return max(_boundaries(text, start), default=start)


def split_blocks(text: str) -> list[str]:
    """``text`` cut at its block boundaries."""
    cuts = [0, *_boundaries(text, 0), len(text)]
    return [text[a:b] for a, b in pairwise(cuts)]


def _boundaries(text: str, start: int) -> Iterator[int]:
    """Where a new block starts after ``start``: at a line after a blank line, outside a code block, that is
    not indented (an indented one may still belong to a list item above)."""
    position = start
    fence: str | None = None
    blank = False
    for line in text[start:].splitlines(keepends=True):
        stripped = line.strip()
        if fence is not None:
            if stripped.startswith(fence):
                fence = None
        else:
            if blank and stripped and not line[0].isspace() and position > start:
                yield position
            if stripped.startswith(_FENCES):
                fence = stripped[:3]
        blank = fence is None and not stripped
        position += len(line)


class _Lines:
    """A renderable without its leading and trailing blank lines; with ``bottom``, only as many of its last
    lines as fit on the screen (the live region is redrawn in place, which works only while it fits)."""

    def __init__(self, renderable: RenderableType, *, bottom: bool = False) -> None:
        self._renderable = renderable
        self._bottom = bottom

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = console.render_lines(self._renderable, options.update(height=None), pad=False)
        while lines and _blank(lines[0]):
            lines.pop(0)
        while lines and _blank(lines[-1]):
            lines.pop()
        if self._bottom:
            lines = lines[-max(1, console.size.height - 2) :]
        for line in lines:
            yield from line
            yield Segment.line()


def _blank(line: Iterable[Segment]) -> bool:
    return all(not segment.text.strip() and not _background(segment.style) for segment in line)


def _background(style: Style | None) -> bool:
    return style is not None and style.bgcolor is not None
