"""Scale-out settings as an operator meets them: DATABASE_URL, the pool sizes, REDIS_URL and REDIS_PREFIX.

A database or Redis that cannot be reached stops the real ``supportbot`` process with one line naming the
setting and exit status 2, and never shows the password in the URL.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import load_settings
from tests.scale.rig import ROOT

PASSWORD = "pw-that-must-not-show"


async def supportbot(tmp_path: Path, *args: str, **env: str) -> tuple[int, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "DATABASE_", "REDIS_"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=tmp_path,
        env={
            **clean,
            "PYTHONPATH": str(ROOT),
            "KB_PATH": str(ROOT / "config" / "kb"),
            "KB_INDEX_PATH": str(tmp_path / "kb.sqlite3"),
            "BOT_CONFIG_PATH": str(ROOT / "config" / "bot.toml"),
            "SYSTEM_PROMPT_PATH": str(ROOT / "config" / "prompts" / "system.md"),
            "DEMO_ORDERS_PATH": str(ROOT / "config" / "demo" / "orders.json"),
            "ORDERS_DB_PATH": str(tmp_path / "orders.sqlite3"),
            **env,
        },
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, (stdout + stderr).decode()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"DATABASE_URL": f"postgresql://bot:{PASSWORD}@127.0.0.1:1/support"},
            "supportbot: DATABASE_URL: cannot open the PostgreSQL database bot@127.0.0.1:1/support: ",
        ),
        (
            {"REDIS_URL": f"redis://:{PASSWORD}@127.0.0.1:1/0"},
            "supportbot: REDIS_URL: cannot reach Redis at 127.0.0.1:1/0: ",
        ),
    ],
)
async def test_an_unreachable_server_is_one_line_and_exit_2(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    env.setdefault("DATABASE_URL", f"sqlite:///{tmp_path / 'supportbot.db'}")
    status, output = await supportbot(tmp_path, "ask", "where is ORD-10001?", **env)
    assert status == 2, output
    assert output.startswith(expected), output
    assert len(output.strip().splitlines()) == 1 and "Traceback" not in output
    assert PASSWORD not in output


async def test_an_unknown_postgresql_database_is_named(tmp_path: Path, postgres_url: str) -> None:
    base, _, query = postgres_url.partition("?")
    url = base.rsplit("/", 1)[0] + "/supportbot_missing_db" + (f"?{query}" if query else "")
    status, output = await supportbot(tmp_path, "ask", "hi", DATABASE_URL=url)
    assert status == 2, output
    assert 'database "supportbot_missing_db" does not exist' in output and output.count("\n") == 1


async def test_the_console_answers_on_postgresql_and_redis(
    tmp_path: Path, pg_schema_url: str, redis_url: str, redis_prefix: str
) -> None:
    """The embedded console works the same on the scale-out backends (no model key: the fallback answers)."""
    status, output = await supportbot(
        tmp_path,
        "ask",
        "--as",
        "customer:C-1001",
        "Where is my order ORD-10001?",
        DATABASE_URL=pg_schema_url,
        REDIS_URL=redis_url,
        REDIS_PREFIX=redis_prefix,
    )
    assert status == 0, output
    assert "ORD-10001" in output


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("REDIS_URL", f"http://:{PASSWORD}@cache:6379", "must be a redis://, rediss:// or unix:// URL"),
        ("REDIS_PREFIX", "two words", "must not contain spaces"),
        ("DATABASE_POOL_MAX_SIZE", "0", "greater than or equal to 1"),
        ("DATABASE_URL", "mysql://db/x", "unsupported scheme"),
    ],
)
def test_bad_scale_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name) as info:
        load_settings(_env_file=None)
    assert message in str(info.value) and PASSWORD not in str(info.value)


def test_the_pool_minimum_cannot_exceed_its_maximum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_POOL_MIN_SIZE", "5")
    monkeypatch.setenv("DATABASE_POOL_MAX_SIZE", "2")
    with pytest.raises(
        ConfigError, match=r"DATABASE_POOL_MIN_SIZE: must not be larger than DATABASE_POOL_MAX_SIZE \(2\)"
    ):
        load_settings(_env_file=None)


def test_scale_settings_defaults_and_secrecy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REDIS_URL", "REDIS_PREFIX", "DATABASE_POOL_MIN_SIZE", "DATABASE_POOL_MAX_SIZE"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(_env_file=None)
    assert (settings.redis_url, settings.redis_prefix) == (None, "supportbot:")
    assert (settings.database_pool_min_size, settings.database_pool_max_size) == (1, 10)
    monkeypatch.setenv("REDIS_URL", f"rediss://:{PASSWORD}@cache:6380/2")
    settings = load_settings(_env_file=None)
    assert settings.redis_url is not None and PASSWORD not in repr(settings)
    monkeypatch.setenv("REDIS_URL", "")
    assert load_settings(_env_file=None).redis_url is None
