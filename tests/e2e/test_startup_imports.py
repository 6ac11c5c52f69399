"""A keyless `supportbot ask` loads neither the model SDK nor a chat platform's library (they are what
made the command slow to start): `python -X importtime` lists every module the process imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.rig import ROOT
from tests.e2e.test_console_cli import cli_env

NOT_NEEDED = ("anthropic", "slack_bolt", "slack_sdk", "discord", "rich")


def test_a_keyless_ask_imports_no_model_sdk_and_no_platform_library(tmp_path: Path) -> None:
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
    imported = {
        line.rsplit("|", 1)[1].strip().split(".", 1)[0]
        for line in run.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    assert "bot" in imported and "aiosqlite" in imported  # the report is there, and it is this process's
    assert [name for name in NOT_NEEDED if name in imported] == []
