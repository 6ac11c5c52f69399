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


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"MODEL_TIMEOUT_SECONDS": "1e300"}, "MODEL_TIMEOUT_SECONDS"),
        ({"SLACK_DM_HISTORY_HOURS": "inf"}, "SLACK_DM_HISTORY_HOURS"),
        ({"ANSWER_MAX_TOKENS": str(2**62)}, "ANSWER_MAX_TOKENS"),
        ({"DATABASE_POOL_MAX_SIZE": "0"}, "DATABASE_POOL_MAX_SIZE"),
    ],
)
def test_an_out_of_range_setting_names_the_variable_and_exits_2(
    tmp_path: Path, env: dict[str, str], name: str
) -> None:
    result = run_cli("ask", "hello", env={"DATABASE_URL": f"sqlite:///{tmp_path}/s.db", **env})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def demo_config_with(old: str, new: str) -> str:
    text = (ROOT / "config" / "bot.toml").read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    return text.replace(old, new)


@pytest.mark.parametrize(
    ("old", "new", "names"),
    [
        ("history_turns = 20", f"history_turns = {2**62}", ["agent.history_turns"]),
        ("history_turns = 20", "history_turns = 1", ["agent.history_turns"]),
        ("history_token_budget = 4000", "history_token_budget = 9000000000", ["agent.history_token_budget"]),
        ("tool_timeout_seconds = 10.0", "tool_timeout_seconds = inf", ["agent.tool_timeout_seconds"]),
        ("max_input_chars = 4000", f"max_input_chars = {2**62}", ["limits.max_input_chars"]),
        (
            "messages_per_user_per_minute = 10",
            "messages_per_user_per_minute = 1e9",
            ["limits.messages_per_user_per_minute"],
        ),
        ("input = 3.0", "input = inf", ["prices.claude-sonnet.input"]),
        ("max_message_chars = 1900", "max_message_chars = 2100", ["discord.max_message_chars", "2,000"]),
        ("max_message_chars = 2900", "max_message_chars = 4001", ["slack.max_message_chars", "4,000"]),
        (
            "max_message_chars = 100000",
            f"max_message_chars = {2**62}",
            ["platforms.console.max_message_chars"],
        ),
        ("edits_per_minute = 50", "edits_per_minute = nan", ["platforms.slack.edits_per_minute"]),
        ("requests_per_second = 50", f"requests_per_second = {2**62}", ["discord.requests_per_second"]),
    ],
)
def test_an_out_of_range_bot_toml_value_names_the_key_and_exits_2(
    tmp_path: Path, old: str, new: str, names: list[str]
) -> None:
    config = tmp_path / "bot.toml"
    config.write_text(demo_config_with(old, new), encoding="utf-8")
    env = {"BOT_CONFIG_PATH": str(config), "DATABASE_URL": f"sqlite:///{tmp_path}/s.db"}
    result = run_cli("ask", "hello", env=env)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and all(name in lines[0] for name in names), result.stderr
    assert "Traceback" not in result.stderr


def test_doctor_fails_on_an_out_of_range_bot_toml_value(tmp_path: Path) -> None:
    config = tmp_path / "bot.toml"
    config.write_text(demo_config_with("history_turns = 20", f"history_turns = {2**62}"), encoding="utf-8")
    env = {"BOT_CONFIG_PATH": str(config), "DATABASE_URL": f"sqlite:///{tmp_path}/s.db"}
    result = run_cli("doctor", env=env)
    assert result.returncode != 0
    assert "agent.history_turns" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
