"""Start-up benchmark: how long the `supportbot` command takes before it does anything.

    python bench/startup.py [--runs 7]

Times, as the median of ``--runs`` fresh processes each: ``supportbot --help``, and a keyless
``supportbot ask`` (the fallback answer from the demo orders, files in a scratch folder; one untimed run
first builds the indexes). Then runs the keyless ``ask`` once under ``python -X importtime`` and reports how
many modules it imported and whether ``anthropic`` (the model SDK, by far the heaviest) or a chat
platform's library was among them: none of them is needed without a key.

Prints figures only; nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import Figure, emit  # noqa: E402

TARGET_HELP_S = 0.3
TARGET_ASK_S = 0.5
HEAVY = ("anthropic", "slack_bolt", "slack_sdk", "discord", "rich")
"""Top-level packages a keyless `ask` has no use for."""
QUESTION = "Where is my order ORD-10001?"


def bot_env(data: Path) -> dict[str, str]:
    """The environment without a key or a platform token, with the bot's files in ``data``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "SLACK_", "DISCORD_"))}
    return {
        **env,
        "PYTHONPATH": str(ROOT),
        "ANTHROPIC_API_KEY": "",
        "ORDERS_API_URL": "",
        "REDIS_URL": "",
        "KB_PATH": str(ROOT / "config" / "kb"),
        "BOT_CONFIG_PATH": str(ROOT / "config" / "bot.toml"),
        "SYSTEM_PROMPT_PATH": str(ROOT / "config" / "prompts" / "system.md"),
        "DEMO_ORDERS_PATH": str(ROOT / "config" / "demo" / "orders.json"),
        "DATABASE_URL": f"sqlite:///{data / 'store.db'}",
        "KB_INDEX_PATH": str(data / "kb.sqlite3"),
        "ORDERS_DB_PATH": str(data / "orders.sqlite3"),
    }


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} exited with status {done.returncode}:\n{done.stderr}")
    return done


def median_seconds(env: dict[str, str], runs: int, *args: str) -> tuple[float, float]:
    """The median wall time of ``runs`` processes, and their median CPU time (user and system), which
    other work on the machine colours less."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        run(env, *args)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def imported_modules(importtime_stderr: str) -> list[str]:
    """The module names of ``python -X importtime``'s report (``import time: self | cumulative | name``)."""
    names = []
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                names.append(name)
    return names


def show(label: str, value: str) -> None:
    print(f"{label + ':':36}{value}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="processes timed per command (the median counts)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as scratch:
        env = bot_env(Path(scratch))
        ask = ("-m", "bot", "ask", QUESTION)
        run(env, *ask)  # builds the KB index and the demo orders once, as a first run does
        python, python_cpu = median_seconds(env, args.runs, "-c", "pass")
        help_s, help_cpu = median_seconds(env, args.runs, "-m", "bot", "--help")
        ask_s, ask_cpu = median_seconds(env, args.runs, *ask)
        modules = imported_modules(run(env, "-X", "importtime", *ask).stderr)

    top = {name.split(".", 1)[0] for name in modules}
    heavy = [name for name in HEAVY if name in top]
    print(f"median of {args.runs} processes each: wall time (CPU time)", flush=True)
    show("python itself (-c pass)", f"{python * 1000:.0f} ms  ({python_cpu * 1000:.0f} ms)")
    show(
        "supportbot --help",
        f"{help_s * 1000:.0f} ms  ({help_cpu * 1000:.0f} ms)  (target {TARGET_HELP_S * 1000:.0f} ms)",
    )
    show(
        "keyless supportbot ask",
        f"{ask_s * 1000:.0f} ms  ({ask_cpu * 1000:.0f} ms)  (target {TARGET_ASK_S * 1000:.0f} ms)",
    )
    show("modules a keyless ask imports", str(len(modules)))
    show("of them not needed without a key", ", ".join(heavy) or "none  (target none)")
    emit(
        "startup",
        [
            Figure("python itself", python * 1000, "ms"),
            Figure("supportbot --help (median)", help_s * 1000, "ms", at_most=TARGET_HELP_S * 1000),
            Figure("supportbot --help CPU time (median)", help_cpu * 1000, "ms"),
            Figure("keyless ask (median)", ask_s * 1000, "ms", at_most=TARGET_ASK_S * 1000),
            Figure("keyless ask CPU time (median)", ask_cpu * 1000, "ms"),
            Figure("modules imported by a keyless ask", len(modules)),
            Figure("anthropic imported by a keyless ask", int("anthropic" in top), at_most=0),
            Figure(
                "platform libraries imported by a keyless ask",
                len(heavy) - int("anthropic" in top),
                at_most=0,
            ),
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
