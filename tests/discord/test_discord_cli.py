"""`supportbot serve --only discord` (and its short form `supportbot discord`): a missing or refused token
ends with one line and exit status 2; the real process serves Discord alone, with health, readiness and
metrics, answers there and stops cleanly on SIGTERM; a connection Discord ends for good ends the process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from fakes.anthropic import FakeAnthropic, Reply
from fakes.discord import FakeDiscord
from fakes.slack import FakeSlack

from bot.errors import ConfigError
from bot.settings import load_settings
from integrations.discord.app import DiscordCredentials
from tests.scrape import value
from tests.serve.rig import Supportbot, free_port, slack_environment
from tests.serve.rig import run_quietly as run

ROOT = Path(__file__).resolve().parents[2]
SECRET_TOKEN = "MTIzNDU2Nzg5.very-secret.token-value"
DISCORD_ONLY = [("serve", "--only", "discord"), ("discord",)]


def fake_env(fake: FakeDiscord, **values: str) -> dict[str, str]:
    return {
        "DISCORD_TOKEN": fake.token,
        "DISCORD_API_URL": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "KB_PATH": str(ROOT / "config" / "kb"),
        "BOT_CONFIG_PATH": str(ROOT / "config" / "bot.toml"),
        "SYSTEM_PROMPT_PATH": str(ROOT / "config" / "prompts" / "system.md"),
        "DEMO_ORDERS_PATH": str(ROOT / "config" / "demo" / "orders.json"),
        **values,
    }


@pytest.mark.parametrize("command", DISCORD_ONLY)
async def test_a_missing_or_bad_setting_is_one_line_and_exit_2(tmp_path: Path, command: tuple[str]) -> None:
    for env, name in [({}, "DISCORD_TOKEN"), ({"DISCORD_API_URL": "ftp://x"}, "DISCORD_API_URL")]:
        status, output = await run(
            tmp_path, *command, **{"DISCORD_TOKEN": SECRET_TOKEN, **env} if env else {}
        )
        assert status == 2, output
        assert name in output and "Traceback" not in output and SECRET_TOKEN not in output
        assert len(output.strip().splitlines()) == 1, output


@pytest.mark.parametrize("command", DISCORD_ONLY)
async def test_a_refused_token_or_intent_is_one_line_and_exit_2(
    tmp_path: Path, fake_discord: FakeDiscord, command: tuple[str]
) -> None:
    port = str(free_port())
    env = fake_env(fake_discord, DISCORD_TOKEN=SECRET_TOKEN, PORT=port)
    status, output = await run(tmp_path, *command, **env)
    assert status == 2 and output.strip().splitlines()[-1].startswith(
        "supportbot: DISCORD_TOKEN: Discord refused"
    )
    assert SECRET_TOKEN not in output and "Traceback" not in output
    async with FakeDiscord(allowed_intents=0) as strict:
        status, output = await run(tmp_path, *command, **fake_env(strict, PORT=port))
    assert status == 2 and "Message Content Intent" in output.strip().splitlines()[-1], output
    assert strict.token not in output


def test_the_token_stays_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", SECRET_TOKEN)
    settings = load_settings(_env_file=None)
    assert SECRET_TOKEN not in repr(settings) and SECRET_TOKEN not in repr(
        DiscordCredentials.from_settings(settings)
    )
    monkeypatch.setenv("DISCORD_TOKEN", "")
    with pytest.raises(ConfigError, match="DISCORD_TOKEN: missing"):
        DiscordCredentials.from_settings(load_settings(_env_file=None))


@pytest.mark.parametrize("command", DISCORD_ONLY)
async def test_serve_only_discord_serves_discord_alone_until_sigterm(
    tmp_path: Path,
    fake_discord: FakeDiscord,
    fake_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
    command: tuple[str],
) -> None:
    fake = fake_discord
    slack = slack_environment(fake_slack, fake_anthropic)  # set, but not asked for: Slack stays off
    bot = await Supportbot.start(tmp_path, *command, LOG_LEVEL="WARNING", **fake_env(fake, **slack))
    try:
        report = await bot.wait_ready()
        assert report["front_ends"] == {"discord": True} and report["store"] == "ok", report
        assert [c["name"] for c in fake.commands(fake.guild)] == ["support", "Mark solved"]
        fake_anthropic.script(Reply.text("Order ORD-10001 is **on its way**.", tokens_per_second=200))
        question = await fake.post_as_user(
            fake.support, fake.alice, f"{fake.bot_user.mention} where is ORD-10001?"
        )
        await fake.wait_for(
            lambda: [m for m in fake.bot_messages() if m.components], seconds=20, what="the final answer"
        )
        [answer] = fake.bot_messages(fake.channels[question.id])
        assert answer.content == "Order ORD-10001 is **on its way**."
        answered = {"platform": "discord", "outcome": "answered"}
        for _ in range(200):  # the reply is recorded just after its final edit
            status, metrics = await bot.get("/metrics")
            if value(metrics, "supportbot_replies_total", **answered) == 1:
                break
            await asyncio.sleep(0.05)
        assert status == 200 and value(metrics, "supportbot_replies_total", **answered) == 1, metrics
        async with aiohttp.ClientSession() as session, session.post(f"{bot.url}/slack/events") as response:
            assert response.status == 404  # no Slack front end in this process
    finally:
        assert await bot.stop() == 0, bot.log
    assert fake_slack.calls() == []
    assert fake.token not in bot.log and fake_slack.bot_token not in bot.log


async def test_the_intent_switched_off_while_serving_ends_the_process_with_one_line(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    bot = await Supportbot.start(tmp_path, "serve", "--only", "discord", **fake_env(fake_discord))
    await bot.wait_ready()
    fake_discord.gateway.allowed_intents = 0  # switched off in the developer portal
    await fake_discord.invalidate_sessions()  # the bot must identify again, and is refused
    await asyncio.wait_for(bot.process.wait(), 60)  # it ends by itself
    assert await bot.stop() == 2, bot.log
    last = bot.stderr[-1]
    assert last.startswith("supportbot: Discord refused the Message Content intent"), bot.log
    assert "Traceback" not in bot.log and fake_discord.token not in bot.log
