"""Run every benchmark in ``bench/`` and print one table with each figure next to its target.

    python -m bench                      # every benchmark at full size (several minutes)
    python -m bench --quick              # small sizes: a smoke run in about two minutes
    python -m bench --only kb_search load
    python -m bench --markdown           # the table as Markdown

Each benchmark runs as its own process (``python bench/NAME.py ...``), so one's memory and threads do not
colour another's figures; its own output is shown as it runs. It ends with a ``RESULT`` line
(:mod:`bench.report`) that this runner collects. A missed target is reported, not an error: the exit
status is 1 only when a benchmark failed to run or printed no figures.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import Figure, format_value, parse

BENCH = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Benchmark:
    name: str
    quick: tuple[str, ...]
    """Arguments for ``--quick``; a full run uses the script's defaults."""


BENCHMARKS = (
    Benchmark("kb_search", ("--articles", "5000", "--queries", "300")),
    Benchmark("kb_quality", ()),
    Benchmark("eval_language", ()),
    Benchmark("kb_website", ("--pages", "50")),
    Benchmark("agent_turn", ("--turns", "60", "--threads", "5")),
    Benchmark("long_thread", ("--turns", "60")),
    Benchmark("slack_stream", ("--replies", "10", "--channels", "10")),
    Benchmark("slack_files", ("--runs", "2")),
    Benchmark("discord_stream", ("--replies", "5")),
    Benchmark("scale", ("--mentions", "40", "--channels", "10")),
    Benchmark("load", ("--conversations", "50", "--seconds", "15")),
    Benchmark("startup", ("--runs", "3")),
)
"""Every benchmark script in ``bench/`` (a unit test checks that none is missing)."""

SUPPORT_MODULES = frozenset({"__main__", "report", "common"})
"""Files in ``bench/`` that are not benchmarks."""


@dataclass
class Outcome:
    bench: Benchmark
    seconds: float
    figures: list[Figure]
    problem: str | None = None


def run(bench: Benchmark, quick: bool) -> Outcome:
    command = [sys.executable, str(BENCH / f"{bench.name}.py"), *(bench.quick if quick else ())]
    print(f"\n=== {bench.name}: {' '.join(command[1:])}", flush=True)
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, bufsize=1)
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if not line.startswith("RESULT "):
            print(line, end="", flush=True)
    code = process.wait()
    seconds = time.monotonic() - started
    parsed = parse("".join(lines))
    if code != 0:
        return Outcome(bench, seconds, parsed[1] if parsed else [], f"exited with status {code}")
    if parsed is None:
        return Outcome(bench, seconds, [], "printed no RESULT line")
    return Outcome(bench, seconds, parsed[1])


def table(outcomes: list[Outcome], markdown: bool) -> str:
    header = ("benchmark", "figure", "measured", "target", "met")
    rows: list[tuple[str, ...]] = []
    for outcome in outcomes:
        if outcome.problem:
            rows.append((outcome.bench.name, "(did not finish)", outcome.problem, "", "no"))
        for figure in outcome.figures:
            met = {True: "yes", False: "NO", None: ""}[figure.met]
            name = f"{figure.name} ({figure.note})" if figure.note else figure.name
            rows.append((outcome.bench.name, name, format_value(figure), figure.target, met))
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * width for width in widths))
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=[b.name for b in BENCHMARKS])
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args(argv)

    chosen = [b for b in BENCHMARKS if not args.only or b.name in args.only]
    outcomes = [run(bench, args.quick) for bench in chosen]

    figures = [figure for outcome in outcomes for figure in outcome.figures]
    targets = [figure for figure in figures if figure.met is not None]
    met = sum(1 for figure in targets if figure.met)
    took = ", ".join(f"{o.bench.name} {o.seconds:.0f} s" for o in outcomes)
    print(f"\n{'quick' if args.quick else 'full'} run; {took}\n")
    print(table(outcomes, args.markdown))
    print(f"\ntargets met: {met} of {len(targets)}")
    return 1 if any(outcome.problem for outcome in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
