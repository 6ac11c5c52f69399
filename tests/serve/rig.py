"""`supportbot` as a real process for the end-to-end tests of `serve`, `doctor` and `stats`: the environment
(nothing from the developer's), start, readiness, signals, and what it logged."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from fakes.anthropic import FakeAnthropic
from fakes.slack import SIGNING_SECRET, FakeSlack

ROOT = Path(__file__).resolve().parents[2]


OUTSIDE_SETTINGS = ("ANTHROPIC_", "SLACK_", "DISCORD_", "LOG_", "DRAIN_", "DATABASE_", "REDIS_")
OUTSIDE_SETTINGS += ("DASHBOARD_", "PUBLIC_URL")
"""The prefixes of the settings a run never takes from the developer's environment."""


def environment(tmp_path: Path, **values: str) -> dict[str, str]:
    """The environment of a run: no setting from outside, every file in ``tmp_path``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(OUTSIDE_SETTINGS)}
    return {
        **clean,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'supportbot.db'}",
        "KB_PATH": str(ROOT / "config" / "kb"),
        "KB_INDEX_PATH": str(tmp_path / "kb.sqlite3"),
        "BOT_CONFIG_PATH": str(ROOT / "config" / "bot.toml"),
        "SYSTEM_PROMPT_PATH": str(ROOT / "config" / "prompts" / "system.md"),
        "DEMO_ORDERS_PATH": str(ROOT / "config" / "demo" / "orders.json"),
        "ORDERS_DB_PATH": str(tmp_path / "orders.sqlite3"),
        "MODEL_MAX_RETRIES": "0",
        **values,
    }


def slack_environment(fake_slack: FakeSlack, fake_anthropic: FakeAnthropic) -> dict[str, str]:
    """Slack over HTTP and the model, both pointed at the fakes."""
    return {
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "ANTHROPIC_API_KEY": "test-key-for-the-fake",
        "ANTHROPIC_BASE_URL": fake_anthropic.base_url,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def run(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, str]:
    """``python -m bot ARGS`` to its end: exit status, stdout, stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=tmp_path,
        env=environment(tmp_path, **env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 90)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def run_quietly(tmp_path: Path, *args: str, **env: str) -> tuple[int, str]:
    """``python -m bot ARGS`` logging warnings only, to its end: exit status and all it printed."""
    status, stdout, stderr = await run(tmp_path, *args, **{"LOG_LEVEL": "WARNING", **env})
    return status, stdout + stderr


@dataclass
class Supportbot:
    """A running ``supportbot serve`` (or ``slack``) on ``port``."""

    process: asyncio.subprocess.Process
    port: int
    stderr: list[str] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, tmp_path: Path, *args: str, **env: str) -> Supportbot:
        port = free_port()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *(args or ("serve",)),
            cwd=tmp_path,
            env=environment(tmp_path, PORT=str(port), **env),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        bot = cls(process, port)
        bot._reader = asyncio.create_task(bot._read_stderr())
        return bot

    async def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        async for line in self.process.stderr:
            self.stderr.append(line.decode().rstrip("\n"))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def get(self, path: str) -> tuple[int, Any]:
        """``GET path``: the status and the body (JSON when it is JSON)."""
        async with aiohttp.ClientSession() as session, session.get(self.url + path) as response:
            body = await response.text()
            if response.content_type == "application/json":
                return response.status, json.loads(body)
            return response.status, body

    async def wait_ready(self, seconds: float = 60.0) -> dict[str, Any]:
        """Until ``GET /readyz`` answers 200; its report."""
        status, report = 0, None
        async with asyncio.timeout(seconds):
            while True:
                if self.process.returncode is not None:
                    raise AssertionError(f"supportbot exited with {self.process.returncode}: {self.log}")
                with contextlib.suppress(aiohttp.ClientConnectionError):
                    status, report = await self.get("/readyz")
                if status == 200:
                    return dict(report)
                await asyncio.sleep(0.1)

    async def wait_up(self, seconds: float = 60.0) -> None:
        """Until ``GET /healthz`` answers."""
        async with asyncio.timeout(seconds):
            while True:
                try:
                    if (await self.get("/healthz"))[0] == 200:
                        return
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)

    async def stop(self, signum: signal.Signals = signal.SIGTERM, seconds: float = 60.0) -> int:
        """Send ``signum``; the exit status once the process ended."""
        if self.process.returncode is None:
            self.process.send_signal(signum)
        await asyncio.wait_for(self.process.wait(), seconds)
        if self._reader is not None:
            await self._reader
        assert self.process.returncode is not None
        return self.process.returncode

    @property
    def log(self) -> str:
        return "\n".join(self.stderr)

    def json_lines(self) -> list[dict[str, Any]]:
        """Every line of the log, each parsed as JSON (a line that is not JSON fails the test)."""
        return [json.loads(line) for line in self.stderr if line.strip()]
