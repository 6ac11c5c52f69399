"""`supportbot slack`: missing tokens end with one line and exit status 2; the real process serves Slack."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import pytest
import yaml
from fakes.anthropic import FakeAnthropic, Reply
from fakes.slack import SIGNING_SECRET, FakeSlack
from pydantic import SecretStr

from bot.errors import ConfigError
from bot.settings import load_settings
from integrations.slack.app import COMMAND
from integrations.slack.commands import HELP
from integrations.slack.server import EVENTS_PATH, SlackCredentials
from tests.serve.rig import environment
from tests.serve.rig import run_quietly as run
from tests.slack.rig import ROOT, reply_text

SECRET_TOKEN = "xoxb-very-secret-token-value"


@pytest.mark.parametrize(
    ("args", "env", "name"),
    [
        (["slack"], {}, "SLACK_BOT_TOKEN"),
        (["slack"], {"SLACK_BOT_TOKEN": SECRET_TOKEN}, "SLACK_SIGNING_SECRET"),
        (["slack", "--socket"], {"SLACK_BOT_TOKEN": SECRET_TOKEN}, "SLACK_APP_TOKEN"),
        (["slack", "--port", "99999"], {}, "--port"),
    ],
)
async def test_a_missing_or_bad_setting_is_one_line_and_exit_2(
    tmp_path: Path, args: list[str], env: dict[str, str], name: str
) -> None:
    status, output = await run(tmp_path, *args, **env)
    assert status == 2, output
    assert name in output and "Traceback" not in output and SECRET_TOKEN not in output
    if not name.startswith("--"):
        assert len(output.strip().splitlines()) == 1, output


@pytest.mark.parametrize(("name", "value"), [("PORT", "http"), ("PORT", "0"), ("SLACK_API_URL", "ftp://x")])
def test_bad_slack_settings_name_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load_settings(_env_file=None)


def test_the_api_url_gets_its_trailing_slash_and_tokens_stay_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv("SLACK_BOT_TOKEN", SECRET_TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", "")
    settings = load_settings(_env_file=None)
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"
    assert settings.slack_app_token is None and SECRET_TOKEN not in repr(settings)
    credentials = SlackCredentials.from_settings(
        settings.model_copy(update={"slack_signing_secret": SecretStr("s")}), socket=False
    )
    assert SECRET_TOKEN not in repr(credentials)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def start_supportbot(
    tmp_path: Path, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic, *args: str, **env: str
) -> asyncio.subprocess.Process:
    """``python -m bot slack ARGS`` against the fakes."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "slack",
        *args,
        cwd=ROOT,
        env=environment(
            tmp_path,
            SLACK_BOT_TOKEN=fake_slack.bot_token,
            SLACK_API_URL=fake_slack.api_url,
            ANTHROPIC_API_KEY="test-key",
            ANTHROPIC_BASE_URL=fake_anthropic.base_url,
            **{"LOG_LEVEL": "WARNING", **env},
        ),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def stop_supportbot(process: asyncio.subprocess.Process) -> str:
    """SIGTERM, then the exit status must be 0; returns what it logged."""
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    return stderr.decode()


async def ask_and_see_the_answer(
    fake_slack: FakeSlack, fake_anthropic: FakeAnthropic, deliver: Deliver
) -> None:
    fake_anthropic.script(Reply.text("Order ORD-10001 is **on its way**.", tokens_per_second=200))
    ann = fake_slack.add_user(name="ann")
    post = fake_slack.post_as_user(fake_slack.general.id, ann.id, "<@U0BOT> where is ORD-10001?")
    await deliver(post.event)
    await fake_slack.wait_for(
        lambda: any(m.blocks and len(m.blocks) > 1 for m in fake_slack.bot_messages()),
        seconds=20,
        what="the final answer",
    )
    replies = [m for m in fake_slack.bot_messages() if m.thread_ts == post.ts]
    assert reply_text(replies) == "Order ORD-10001 is *on its way*."


Deliver = Callable[[dict[str, Any]], Awaitable[None]]


async def test_supportbot_slack_serves_the_events_api_until_sigterm(
    tmp_path: Path, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    port = free_port()
    process = await start_supportbot(
        tmp_path, fake_slack, fake_anthropic, "--port", str(port), SLACK_SIGNING_SECRET=SIGNING_SECRET
    )
    base = f"http://127.0.0.1:{port}"
    sender = fake_slack.event_sender(f"{base}/slack/events")

    async def deliver(event: dict[str, Any]) -> None:
        assert (await sender.send_event(event)).status == 200

    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                try:
                    async with session.get(f"{base}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            else:
                pytest.fail("supportbot slack did not come up")
        await ask_and_see_the_answer(fake_slack, fake_anthropic, deliver)
    finally:
        log = await stop_supportbot(process)
    assert SIGNING_SECRET not in log and fake_slack.bot_token not in log


async def test_supportbot_slack_socket_mode_until_sigterm(
    tmp_path: Path, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    process = await start_supportbot(
        tmp_path, fake_slack, fake_anthropic, "--socket", SLACK_APP_TOKEN=fake_slack.app_token
    )
    sender = fake_slack.event_sender("http://unused")

    async def deliver(event: dict[str, Any]) -> None:
        ack = await fake_slack.send_socket_mode("events_api", sender.envelope(event))
        assert "envelope_id" in ack

    try:
        await fake_slack.wait_for(
            lambda: fake_slack.socket_connected, seconds=30, what="a Socket Mode connection"
        )
        await ask_and_see_the_answer(fake_slack, fake_anthropic, deliver)
        ann = fake_slack.users[next(u for u in fake_slack.users if fake_slack.users[u].name == "ann")]
        url = fake_slack.new_response_url(channel_id=fake_slack.general.id, user_id=ann.id)
        command = {
            "team_id": fake_slack.team_id,
            "channel_id": fake_slack.general.id,
            "user_id": ann.id,
            "command": "/support",
            "text": "help",
            "response_url": url,
        }
        await fake_slack.send_socket_mode("slash_commands", command)
        await fake_slack.wait_for(lambda: bool(fake_slack.response_posts(url)), what="the /support reply")
        assert fake_slack.response_posts(url)[0]["text"] == HELP
    finally:
        log = await stop_supportbot(process)
    assert fake_slack.app_token not in log and fake_slack.bot_token not in log


def manifest_list(text: str, key: str) -> list[str]:
    """The items of the YAML list under ``key:`` (the manifest is plain enough to read line by line)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == f"{key}:")
    items = []
    for line in lines[start + 1 :]:
        if not line.strip().startswith("- "):
            break
        items.append(line.strip()[2:].split("#")[0].strip())
    return items


def test_the_manifest_asks_for_what_the_app_uses() -> None:
    text = (ROOT / "config" / "slack-manifest.yml").read_text(encoding="utf-8")
    assert set(manifest_list(text, "bot")) == {
        "app_mentions:read",
        "channels:history",
        "groups:history",
        "im:history",
        "mpim:history",
        "chat:write",
        "commands",
        "users:read",
        "usergroups:read",
        "files:read",
        "assistant:write",
    }
    assert set(manifest_list(text, "bot_events")) == {
        "app_mention",
        "message.channels",
        "message.groups",
        "message.im",
        "message.mpim",
        "assistant_thread_started",
        "assistant_thread_context_changed",
        "app_home_opened",
        "app_uninstalled",
        "tokens_revoked",
    }
    assert f"command: {COMMAND}" in text and "should_escape: true" in text
    urls = [
        line.split(":", 1)[1].strip()
        for line in text.splitlines()
        if line.strip().startswith(("url:", "request_url:"))
    ]
    assert len(urls) == 3 and all(url.endswith(EVENTS_PATH) for url in urls)
    assert "is_enabled: true" in text  # interactivity, for the buttons


@pytest.mark.parametrize("schema", sorted((ROOT / "tests" / "slack" / "manifest_schema").glob("*.json")))
def test_the_manifest_validates_against_slacks_schema(schema: Path) -> None:
    """Slack's manifest schema (slackapi/manifest-schema v0.5.0, MIT), both versions: the agent view (not
    the legacy assistant view) with its description, the Home tab on."""
    manifest = yaml.safe_load((ROOT / "config" / "slack-manifest.yml").read_text(encoding="utf-8"))
    jsonschema.validate(manifest, json.loads(schema.read_text(encoding="utf-8")))
    features = manifest["features"]
    assert "assistant_view" not in features
    assert 0 < len(features["agent_view"]["agent_description"]) <= 300
    assert features["app_home"]["home_tab_enabled"] is True


def test_the_schema_check_refuses_a_legacy_view_without_its_description() -> None:
    """The check above can fail: Slack's schema requires the legacy view's description, and checks types."""
    manifest = yaml.safe_load((ROOT / "config" / "slack-manifest.yml").read_text(encoding="utf-8"))
    manifest["features"]["assistant_view"] = {"suggested_prompts": []}
    schema = json.loads(
        (ROOT / "tests" / "slack" / "manifest_schema" / "slack-manifest-schema.2.0.0.json").read_text()
    )
    with pytest.raises(jsonschema.ValidationError, match="assistant_description"):
        jsonschema.validate(manifest, schema)
