"""The code checks every change must pass: lint, formatting, types and the dependency contracts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

CHECKS = {
    "ruff lint": [str(BIN / "ruff"), "check", "."],
    "ruff format": [str(BIN / "ruff"), "format", "--check", "."],
    "mypy (bot, tools, integrations)": [sys.executable, "-m", "mypy"],
    "import contracts": [str(BIN / "lint-imports")],
}


@pytest.mark.parametrize("name", CHECKS)
def test_code_check_passes(name: str) -> None:
    result = subprocess.run(CHECKS[name], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
