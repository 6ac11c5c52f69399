"""`supportbot eval` as a real process against the fake Anthropic API answered by the project's fake
support model (`support_model.py`); what it printed and its exit status."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path

from fakes.anthropic import FakeAnthropic

from tests.serve.rig import ROOT, environment

EVALS = ROOT / "evals"


@dataclass(frozen=True)
class EvalRun:
    status: int
    stdout: str
    stderr: str


async def run_eval(fake: FakeAnthropic | None, tmp_path: Path, *args: str, **env: str) -> EvalRun:
    """``supportbot eval ARGS`` with the model at ``fake`` (None: no key, the built-in fallback)."""
    model = {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": fake.base_url} if fake else {}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "eval",
        *args,
        cwd=tmp_path,
        env=environment(tmp_path, COLUMNS="200", **model, **env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=300)
    assert process.returncode is not None
    return EvalRun(process.returncode, stdout.decode(), stderr.decode())
