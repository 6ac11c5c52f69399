"""A keyless `supportbot ask` loads neither the model SDK nor a chat platform's library (they are what
made the command slow to start), and once the help articles are indexed, neither numpy nor the embedding
model's libraries (an order question searches no article): `python -X importtime` lists every module the
process imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.rig import ROOT
from tests.e2e.test_console_cli import cli_env

NOT_NEEDED = ("anthropic", "slack_bolt", "slack_sdk", "discord", "rich")
NOT_NEEDED_ONCE_INDEXED = ("numpy", "tokenizers", "safetensors")


def ask_imports(tmp_path: Path) -> set[str]:
    """The top-level packages a keyless ask for an order imported."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot", "ask", "Where is my order ORD-10001?"],
        cwd=ROOT,
        env=cli_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "shipped" in run.stdout  # it did answer, from the order system
    return {
        line.rsplit("|", 1)[1].strip().split(".", 1)[0]
        for line in run.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }


def test_a_keyless_ask_imports_no_model_sdk_and_no_platform_library(tmp_path: Path) -> None:
    first = ask_imports(tmp_path)  # the first one also indexes the help articles, with their vectors
    assert "bot" in first and "aiosqlite" in first  # the report is there, and it is this process's
    assert [name for name in NOT_NEEDED if name in first] == []
    again = ask_imports(tmp_path)
    assert [name for name in (*NOT_NEEDED, *NOT_NEEDED_ONCE_INDEXED) if name in again] == []
