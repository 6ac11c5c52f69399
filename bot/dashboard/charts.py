"""The overview's charts as plain geometry, drawn by the templates as inline SVG.

No chart library: a bar per day is a rectangle, and the page needs no script at all (its Content Security
Policy allows none), works without the internet and prints. Each bar carries its day and value as text,
shown on hover (the SVG ``<title>``) and read by the browser tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

WIDTH = 600
HEIGHT = 160
GAP = 2


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    """The day and the value as people read them: ``2025-03-01: 12``."""


@dataclass(frozen=True)
class Chart:
    title: str
    bars: tuple[Bar, ...]
    top: str
    """The value at the top of the chart's scale."""
    first_day: str
    last_day: str
    width: int = WIDTH
    height: int = HEIGHT


def bar_chart(
    title: str,
    days: Sequence[tuple[date, float | None]],
    shown: Callable[[float], str] = lambda value: f"{value:g}",
) -> Chart:
    """One bar per day, scaled to the largest value; a day without a value (None) has no bar."""
    if not days:
        raise ValueError("a chart needs at least one day")
    largest = max((value for _, value in days if value is not None), default=0.0) or 1.0
    step = WIDTH / len(days)
    bars = []
    for i, (day, value) in enumerate(days):
        if value is None:
            continue
        height = HEIGHT * value / largest
        bars.append(
            Bar(
                x=i * step + GAP / 2,
                y=HEIGHT - height,
                width=max(step - GAP, 1.0),
                height=height,
                label=f"{day.isoformat()}: {shown(value)}",
            )
        )
    return Chart(title, tuple(bars), shown(largest), days[0][0].isoformat(), days[-1][0].isoformat())
