"""The figures a benchmark reports, each with its target, in a form `python -m bench` can collect.

A benchmark prints its own human-readable lines as it goes, then ends with :func:`emit`, which prints one
line ``RESULT {json}``: the benchmark's name and its figures. ``python -m bench`` runs every benchmark,
reads those lines and prints one table with each figure next to its target.

    emit("kb_search", [
        Figure("query p50", 2.7, "ms", at_most=5),
        Figure("articles indexed", 100_000),          # no target: shown for context
    ])
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

RESULT_PREFIX = "RESULT "


@dataclass(frozen=True)
class Figure:
    """One measured figure; a target is ``at_most`` and/or ``at_least`` (in the figure's unit)."""

    name: str
    value: float
    unit: str = ""
    at_most: float | None = None
    at_least: float | None = None
    note: str = ""

    @property
    def target(self) -> str:
        parts = []
        if self.at_least is not None:
            parts.append(f">= {_number(self.at_least)}")
        if self.at_most is not None:
            parts.append(f"<= {_number(self.at_most)}")
        return " and ".join(f"{part} {self.unit}".rstrip() for part in parts)

    @property
    def met(self) -> bool | None:
        """Whether the target is met (None: the figure has no target)."""
        if self.at_most is None and self.at_least is None:
            return None
        low_ok = self.at_least is None or self.value >= self.at_least
        high_ok = self.at_most is None or self.value <= self.at_most
        return low_ok and high_ok

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "at_most": self.at_most,
            "at_least": self.at_least,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Figure:
        return cls(
            name=str(data["name"]),
            value=float(data["value"]),
            unit=str(data.get("unit") or ""),
            at_most=_optional(data.get("at_most")),
            at_least=_optional(data.get("at_least")),
            note=str(data.get("note") or ""),
        )


def emit(bench: str, figures: Iterable[Figure]) -> None:
    """Print the ``RESULT`` line for ``bench`` (the last line a benchmark prints)."""
    payload = {"bench": bench, "figures": [figure.to_json() for figure in figures]}
    print(RESULT_PREFIX + json.dumps(payload), flush=True)


def parse(output: str) -> tuple[str, list[Figure]] | None:
    """The benchmark name and figures from a benchmark's output (None if it printed no ``RESULT`` line)."""
    for line in reversed(output.splitlines()):
        if line.startswith(RESULT_PREFIX):
            payload = json.loads(line[len(RESULT_PREFIX) :])
            return str(payload["bench"]), [Figure.from_json(item) for item in payload["figures"]]
    return None


def format_value(figure: Figure) -> str:
    return f"{_number(figure.value)} {figure.unit}".rstrip()


def _number(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _optional(value: Any) -> float | None:
    return None if value is None else float(value)
