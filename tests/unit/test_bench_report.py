"""The benchmark report: figures against their targets, the RESULT line `python -m bench` reads, and
the runner's list of benchmarks."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.__main__ import BENCHMARKS, SUPPORT_MODULES, Benchmark, Outcome, table
from bench.report import Figure, emit, parse

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_every_benchmark_script_is_run_by_python_m_bench() -> None:
    scripts = {path.stem for path in BENCH.glob("*.py")} - SUPPORT_MODULES
    assert scripts == {bench.name for bench in BENCHMARKS}


@pytest.mark.parametrize(
    ("figure", "target", "met"),
    [
        (Figure("p99", 24.0, "ms", at_most=25), "<= 25 ms", True),
        (Figure("p99", 25.5, "ms", at_most=25), "<= 25 ms", False),
        (Figure("cache share", 83.7, "%", at_least=80), ">= 80 %", True),
        (Figure("answered", 199, at_least=200, at_most=200), ">= 200 and <= 200", False),
        (Figure("articles indexed", 100_000), "", None),
    ],
)
def test_a_figure_is_judged_against_its_target(figure: Figure, target: str, met: bool | None) -> None:
    assert (figure.target, figure.met) == (target, met)


def test_the_result_line_carries_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    figures = [Figure("query p50", 2.7, "ms", at_most=5, note="quiet machine"), Figure("429s", 0, at_most=0)]
    print("query p50    2.70 ms")
    emit("kb_search", figures)
    assert parse(capsys.readouterr().out) == ("kb_search", figures)
    assert parse("no figures here\n") is None


def test_the_table_puts_each_figure_next_to_its_target_and_names_a_benchmark_that_failed() -> None:
    outcomes = [
        Outcome(Benchmark("kb_search", ()), 12.0, [Figure("query p99", 31.25, "ms", at_most=25)]),
        Outcome(Benchmark("load", ()), 3.0, [], problem="exited with status 1"),
    ]
    lines = table(outcomes, markdown=True).splitlines()
    assert lines[0] == "| benchmark | figure | measured | target | met |"
    assert lines[2:] == [
        "| kb_search | query p99 | 31.2 ms | <= 25 ms | NO |",
        "| load | (did not finish) | exited with status 1 |  | no |",
    ]
