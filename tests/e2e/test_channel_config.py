"""A channel's ``kb`` and ``prompt`` in config/bot.toml are checked at start: a source no one configured, a
prompt file that is missing or not beside the system prompt each end the start with one line naming the key
and exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_console_cli import cli, cli_env

ROOT = Path(__file__).resolve().parents[2]


def config_with(folder: Path, channel: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bot.toml"
    base = (ROOT / "config" / "bot.toml").read_text(encoding="utf-8")
    path.write_text(f'{base}\n[channels."C0PARTNER"]\n{channel}\n', encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("channel", "key", "why"),
    [
        ('kb = ["partner-docs"]', "channels.C0PARTNER.kb", "no knowledge source named 'partner-docs'"),
        ('prompt = "partner.md"', "channels.C0PARTNER.prompt", "partner.md does not exist"),
        ('prompt = "../../etc/passwd"', "channels.C0PARTNER.prompt", "must be a file name"),
        ("kb = []", "channels.C0PARTNER.kb", "at least 1 item"),
    ],
    ids=["unknown source", "missing prompt", "prompt outside the prompts", "empty kb"],
)
async def test_a_bad_channel_setting_names_its_key(tmp_path: Path, channel: str, key: str, why: str) -> None:
    config = config_with(tmp_path / "config", channel)
    run = await cli(cli_env(tmp_path / "data", BOT_CONFIG_PATH=str(config)), "ask", "hello")

    assert run.code == 2, run.stderr
    [line] = run.stderr.strip().splitlines()
    assert key in line and why in line and "Traceback" not in run.stderr
