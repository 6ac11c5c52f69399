"""`supportbot init`, `--version` and `completion`: what an operator sees."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def supportbot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SUPPORTBOT_HOME"}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**env, "PYTHONPATH": str(ROOT), "XDG_DATA_HOME": str(cwd / "xdg")},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_version_is_the_one_in_pyproject(tmp_path: Path) -> None:
    result = supportbot("--version", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == f"supportbot {VERSION}"


def test_init_writes_an_editable_copy_and_never_overwrites(tmp_path: Path) -> None:
    result = supportbot("init", "site", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    site = tmp_path / "site"
    for name in ("bot.toml", "prompts/system.md", "demo/orders.json", "slack-manifest.yml", "kb/warranty.md"):
        assert (site / "config" / name).read_bytes() == (ROOT / "config" / name).read_bytes(), name
    env = (site / ".env").read_text()
    assert "# --- Model" in env and "DATABASE_URL=sqlite:///data/supportbot.db" in env
    assert "Copy to .env" not in env  # the example's own instructions are left out
    assert (site / ".env").stat().st_mode & 0o077 == 0  # it will hold tokens
    assert "supportbot doctor" in result.stdout

    (site / "config" / "bot.toml").write_text("# mine\n")
    again = supportbot("init", str(site), cwd=tmp_path)
    assert again.returncode == 1
    assert "already exist" in again.stderr and "nothing was written" in again.stderr
    assert (site / "config" / "bot.toml").read_text() == "# mine\n"

    only_env = tmp_path / "other"
    only_env.mkdir()
    (only_env / ".env").write_text("SLACK_BOT_TOKEN=mine\n")
    refused = supportbot("init", cwd=only_env)
    assert refused.returncode == 1 and ".env" in refused.stderr
    assert not (only_env / "config").exists()


def test_doctor_passes_in_a_fresh_copy(tmp_path: Path) -> None:
    assert supportbot("init", "site", cwd=tmp_path).returncode == 0
    site = tmp_path / "site"
    result = supportbot("doctor", cwd=site)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{site / 'config' / 'bot.toml'} is valid" in result.stdout
    assert "✗" not in result.stdout
    assert (site / "data" / "supportbot.db").is_file()


def test_completion_scripts_name_the_commands(tmp_path: Path) -> None:
    bash = supportbot("completion", "bash", cwd=tmp_path)
    assert bash.returncode == 0
    for command in ("chat", "ask", "kb", "serve", "doctor", "stats", "init", "completion"):
        assert command in bash.stdout, command
    assert "complete " in bash.stdout  # bash's builtin that registers it
    zsh = supportbot("completion", "zsh", cwd=tmp_path)
    assert zsh.returncode == 0 and zsh.stdout.startswith("#compdef supportbot")
    assert supportbot("completion", "fish", cwd=tmp_path).returncode == 2
