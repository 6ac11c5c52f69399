"""``--compare``: the same cases under two variants (system prompts or models), side by side."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.eval.report import result_json, summary
from bot.eval.runner import CaseResult


@dataclass(frozen=True)
class Variant:
    """``prompt:PATH`` (a system prompt file) or ``model:NAME`` (the answer model)."""

    kind: Literal["prompt", "model"]
    value: str

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.value}"

    @classmethod
    def parse(cls, spec: str) -> Variant:
        kind, _, value = spec.partition(":")
        if kind not in ("prompt", "model") or not value:
            raise ValueError(f"{spec!r}: use prompt:PATH or model:NAME")
        if kind == "prompt" and not Path(value).is_file():
            raise ValueError(f"{spec!r}: {value} is not a file")
        return cls(kind, value)  # type: ignore[arg-type]


def differs(a: CaseResult, b: CaseResult) -> bool:
    """The variants disagree on the case: one passes and the other fails, or they fail for other reasons."""
    return a.passed != b.passed or a.reasons != b.reasons


def compare_json(
    variants: tuple[Variant, Variant], a: Sequence[CaseResult], b: Sequence[CaseResult]
) -> dict[str, Any]:
    return {
        "variants": [variant.label for variant in variants],
        "a": {**summary(a), "cost_usd": round(sum(r.cost_usd for r in a), 6)},
        "b": {**summary(b), "cost_usd": round(sum(r.cost_usd for r in b), 6)},
        "differences": sum(differs(x, y) for x, y in zip(a, b, strict=True)),
        "cases": [
            {"name": x.name, "differs": differs(x, y), "a": result_json(x), "b": result_json(y)}
            for x, y in zip(a, b, strict=True)
        ],
    }


def print_comparison(
    console: Console, variants: tuple[Variant, Variant], a: Sequence[CaseResult], b: Sequence[CaseResult]
) -> None:
    """One row per case: each variant's verdict, cost and latency; the reasons where they differ."""
    table = Table(title="supportbot eval --compare")
    table.add_column("case", overflow="fold")
    for variant in variants:
        label = escape(variant.label)
        table.add_column(f"A {label}" if variant is variants[0] else f"B {label}", overflow="fold")
        table.add_column("cost $", justify="right")
        table.add_column("ms", justify="right")
    table.add_column("difference", overflow="fold")
    for x, y in zip(a, b, strict=True):
        note = ""
        if differs(x, y):
            note = "\n".join([*(f"A: {r}" for r in x.reasons), *(f"B: {r}" for r in y.reasons)]) or "differs"
        table.add_row(
            escape(x.name),
            _verdict(x),
            f"{x.cost_usd:.4f}",
            f"{x.latency_ms:.0f}",
            _verdict(y),
            f"{y.cost_usd:.4f}",
            f"{y.latency_ms:.0f}",
            escape(note),
        )
    console.print(table)
    for name, results, variant in (("A", a, variants[0]), ("B", b, variants[1])):
        counts = summary(results)
        cost = sum(result.cost_usd for result in results)
        console.print(
            f"{name} {variant.label}: {counts['passed']} of {counts['cases']} passed; cost ${cost:.4f}",
            highlight=False,
            markup=False,
        )
    changed = sum(differs(x, y) for x, y in zip(a, b, strict=True))
    console.print(f"{changed} case(s) differ", highlight=False)


def _verdict(result: CaseResult) -> str:
    return "[green]pass[/]" if result.passed else "[red]FAIL[/]"
