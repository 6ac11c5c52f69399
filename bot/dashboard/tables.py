"""The dashboard's tables: what a page lists and what its CSV export holds are the same rows."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from bot.thread_links import thread_url
from bot.types import ThreadRef

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A CSV cell starting with one of these is a formula to a spreadsheet: people's text (a question) must not
run as one, so it gets a leading apostrophe."""


@dataclass(frozen=True)
class Cell:
    text: str
    href: str | None = None
    """A link the cell's text opens (a thread on its platform)."""
    number: bool = False
    """Right-aligned on the page."""


@dataclass(frozen=True)
class Table:
    name: str
    """The CSV file's name, without ``.csv``."""
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    empty: str
    """What the page says when there are no rows."""

    def csv(self) -> str:
        """The rows as CSV (with a header line); a link's target follows in a column of its own."""
        linked = [i for i in range(len(self.columns)) if any(row[i].href for row in self.rows)]
        header = [*self.columns, *(f"{self.columns[i]} link" for i in linked)]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(header)
        for row in self.rows:
            writer.writerow([*(_safe(cell.text) for cell in row), *(row[i].href or "" for i in linked)])
        return out.getvalue()


def _safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def thread_cell(ref: ThreadRef) -> Cell:
    return Cell(f"{ref.platform}:{ref.channel_id}/{ref.thread_id}", thread_url(ref))
