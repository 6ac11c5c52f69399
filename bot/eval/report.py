"""What `supportbot eval` prints: a table on the terminal (rich) and the JSON object of ``--json``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.eval.runner import CaseResult


def summary(results: Sequence[CaseResult]) -> dict[str, int]:
    passed = sum(result.passed for result in results)
    return {"cases": len(results), "passed": passed, "failed": len(results) - passed}


def result_json(result: CaseResult) -> dict[str, Any]:
    return {
        "name": result.name,
        "where": result.where,
        "passed": result.passed,
        "reasons": list(result.reasons),
        "cost_usd": round(result.cost_usd, 6),
        "latency_ms": round(result.latency_ms, 1),
        "tools": result.tools,
        "turns": [
            {
                "question": turn.question,
                "status": turn.status,
                "answer": turn.text,
                "sources": [source.url for source in turn.sources],
                "tools": [
                    {"name": use.name, "input": use.input, "outcome": use.outcome} for use in turn.tools
                ],
                "escalated": turn.escalated,
                "fallback": turn.fallback,
            }
            for turn in result.run.turns
        ],
    }


def suite_json(results: Sequence[CaseResult], model: str) -> dict[str, Any]:
    """``cases``, ``passed``, ``failed``, the ``model`` answering, and one result per case."""
    return {
        **summary(results),
        "model": model,
        "cost_usd": round(sum(result.cost_usd for result in results), 6),
        "results": [result_json(result) for result in results],
    }


def print_table(console: Console, results: Sequence[CaseResult], model: str) -> None:
    """One row per case (failed ones with their reasons), then the totals."""
    table = Table(title=f"supportbot eval: {escape(model)}", show_lines=False, expand=False)
    table.add_column("case", overflow="fold")
    table.add_column("result")
    table.add_column("tools", overflow="fold")
    table.add_column("cost $", justify="right")
    table.add_column("ms", justify="right")
    table.add_column("why it failed", overflow="fold")
    for result in results:
        table.add_row(
            escape(result.name),
            "[green]pass[/]" if result.passed else "[red]FAIL[/]",
            escape(", ".join(dict.fromkeys(result.tools))),
            f"{result.cost_usd:.4f}",
            f"{result.latency_ms:.0f}",
            escape("\n".join(result.reasons)),
        )
    console.print(table)
    counts = summary(results)
    cost = sum(result.cost_usd for result in results)
    console.print(
        f"{counts['passed']} of {counts['cases']} passed, {counts['failed']} failed; cost ${cost:.4f}",
        highlight=False,
    )
