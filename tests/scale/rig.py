"""Real ``supportbot slack`` processes (HTTP mode) sharing one PostgreSQL and one Redis, for the scale-out
end-to-end test and ``bench/scale.py``.

Each instance is ``python -m bot slack --port N`` with its own port, KB index and demo-orders file (as each
machine behind a load balancer has its own disk) and the same ``DATABASE_URL``, ``REDIS_URL`` and
``REDIS_PREFIX``, pointed at the fake Slack and the fake Anthropic API. Its log goes to a file, so a busy
instance never blocks on a full pipe.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from fakes.slack import SIGNING_SECRET, EventSender, FakeSlack

ROOT = Path(__file__).resolve().parents[2]
_PREFIXES = ("ANTHROPIC_", "SLACK_", "DISCORD_", "DATABASE_", "REDIS_")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Instance:
    name: str
    process: asyncio.subprocess.Process
    port: int
    sender: EventSender
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def health(self, session: aiohttp.ClientSession, path: str = "/healthz") -> dict[str, Any] | None:
        """The JSON of ``path`` when it answers 200, else None."""
        try:
            async with session.get(f"{self.base_url}{path}") as response:
                if response.status != 200:
                    return None
                body = await response.json()
                return body if isinstance(body, dict) else None
        except aiohttp.ClientConnectionError:
            return None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""


async def start_instance(
    name: str,
    workdir: Path,
    fake_slack: FakeSlack,
    model_url: str,
    *,
    database_url: str,
    redis_url: str | None,
    redis_prefix: str,
    config: Path,
    log_level: str = "WARNING",
    extra_env: dict[str, str] | None = None,
) -> Instance:
    """Start one instance; it is ready once :func:`wait_ready` says so."""
    folder = workdir / name
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(_PREFIXES)}
    env.update(
        PYTHONPATH=str(ROOT),
        DATABASE_URL=database_url,
        REDIS_PREFIX=redis_prefix,
        KB_INDEX_PATH=str(folder / "kb.sqlite3"),
        ORDERS_DB_PATH=str(folder / "orders.sqlite3"),
        BOT_CONFIG_PATH=str(config),
        LOG_LEVEL=log_level,
        SLACK_BOT_TOKEN=fake_slack.bot_token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.api_url,
        ANTHROPIC_API_KEY="test-key",
        ANTHROPIC_BASE_URL=model_url,
        MODEL_MAX_RETRIES="0",
    )
    if redis_url is not None:
        env["REDIS_URL"] = redis_url
    env.update(extra_env or {})
    log_path = folder / "supportbot.log"
    with log_path.open("wb") as log:  # the child keeps its own copy of the descriptor
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "slack",
            "--port",
            str(port),
            cwd=ROOT,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
    sender = fake_slack.event_sender(f"http://127.0.0.1:{port}/slack/events")
    return Instance(name, process, port, sender, log_path)


async def wait_ready(instances: list[Instance], seconds: float = 60.0) -> None:
    """Until every instance is ready (``/readyz``: store, model key and Slack front end all up, so events
    are taken); ``RuntimeError`` with its log if one exits or is late."""
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        for instance in instances:
            while await instance.health(session, "/readyz") is None:
                if instance.process.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"instance {instance.name} did not come up:\n{instance.log()}")
                await asyncio.sleep(0.1)


async def wait_idle(instances: list[Instance], seconds: float = 60.0) -> None:
    """Until no instance has work in progress (``/healthz`` ``in_progress`` 0) twice in a row."""
    deadline = time.monotonic() + seconds
    quiet = 0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        while quiet < 2:
            if time.monotonic() > deadline:
                raise TimeoutError("the instances did not become idle")
            states = [await instance.health(session) for instance in instances]
            busy = any(state is None or state.get("in_progress", 0) for state in states)
            quiet = 0 if busy else quiet + 1
            await asyncio.sleep(0.1)


async def stop_instance(instance: Instance, seconds: float = 30.0) -> int:
    """SIGTERM, then wait; the exit status (killed after ``seconds``)."""
    if instance.process.returncode is None:
        instance.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(instance.process.wait(), seconds)
        except TimeoutError:
            instance.process.kill()
            await instance.process.wait()
    assert instance.process.returncode is not None
    return instance.process.returncode
