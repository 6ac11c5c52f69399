"""Bad settings and bad `bot.toml` end the CLI with one line naming the problem, exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "SLACK_", "DISCORD_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**clean, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"DATABASE_URL": "nosuch://x"}, "DATABASE_URL"),
        ({"ANTHROPIC_BASE_URL": "ftp://example"}, "ANTHROPIC_BASE_URL"),
        ({"ANSWER_MAX_TOKENS": "lots"}, "ANSWER_MAX_TOKENS"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"BOT_CONFIG_PATH": "/nonexistent/bot.toml"}, "BOT_CONFIG_PATH"),
        ({"KB_PATH": "/nonexistent/kb"}, "KB_PATH"),
    ],
)
def test_bad_setting_names_the_variable_and_exits_2(tmp_path: Path, env: dict[str, str], names: str) -> None:
    result = run_cli("ask", "hello", env={"DATABASE_URL": f"sqlite:///{tmp_path}/s.db", **env})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and names in lines[0]
    assert "Traceback" not in result.stderr


def test_a_secret_in_a_bad_setting_is_never_echoed(tmp_path: Path) -> None:
    result = run_cli("ask", "hi", env={"ANTHROPIC_BASE_URL": "sk-ant-secret-value"})
    assert result.returncode == 2
    assert "sk-ant-secret-value" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[limits]\nmax_input_chars = -5\n", "limits.max_input_chars"),
        ("[limits]\nsurprise = 1\n", "limits.surprise"),
        ("[agent\n", "not valid TOML"),
    ],
)
def test_bad_bot_toml_names_the_key_and_exits_2(tmp_path: Path, toml: str, key: str) -> None:
    config = tmp_path / "bot.toml"
    config.write_text(toml)
    result = run_cli(
        "ask", "hello", env={"BOT_CONFIG_PATH": str(config), "DATABASE_URL": f"sqlite:///{tmp_path}/s.db"}
    )
    assert result.returncode == 2
    assert key in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_principal_is_a_usage_error() -> None:
    result = run_cli("ask", "--as", "superuser", "hello")
    assert result.returncode == 2 and "--as" in result.stderr
