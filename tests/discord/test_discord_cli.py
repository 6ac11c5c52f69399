"""`supportbot discord`: a missing or refused token ends with one line and exit status 2; the real process
answers on Discord and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest
from fakes.anthropic import FakeAnthropic, Reply
from fakes.discord import FakeDiscord

from bot.errors import ConfigError
from bot.settings import load_settings
from integrations.discord.app import DiscordCredentials
from tests.serve.rig import environment
from tests.serve.rig import run_quietly as run

ROOT = Path(__file__).resolve().parents[2]
SECRET_TOKEN = "MTIzNDU2Nzg5.very-secret.token-value"


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


async def test_a_missing_or_bad_setting_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for env, name in [({}, "DISCORD_TOKEN"), ({"DISCORD_API_URL": "ftp://x"}, "DISCORD_API_URL")]:
        status, output = await run(
            tmp_path, "discord", **{"DISCORD_TOKEN": SECRET_TOKEN, **env} if env else {}
        )
        assert status == 2, output
        assert name in output and "Traceback" not in output and SECRET_TOKEN not in output
        assert len(output.strip().splitlines()) == 1, output


async def test_a_refused_token_or_intent_is_one_line_and_exit_2(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    status, output = await run(tmp_path, "discord", **fake_env(fake_discord, DISCORD_TOKEN=SECRET_TOKEN))
    assert status == 2 and output.strip().splitlines()[-1].startswith(
        "supportbot: DISCORD_TOKEN: Discord refused"
    )
    assert SECRET_TOKEN not in output and "Traceback" not in output
    async with FakeDiscord(allowed_intents=0) as strict:
        status, output = await run(tmp_path, "discord", **fake_env(strict))
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


async def test_supportbot_discord_answers_until_sigterm(
    tmp_path: Path, fake_discord: FakeDiscord, fake_anthropic: FakeAnthropic
) -> None:
    fake = fake_discord
    env = fake_env(fake, ANTHROPIC_API_KEY="test-key", ANTHROPIC_BASE_URL=fake_anthropic.base_url)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "discord",
        cwd=tmp_path,
        env=environment(tmp_path, LOG_LEVEL="WARNING", **env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await fake.wait_for(
            lambda: fake.commands(fake.guild), seconds=30, what="/support synced to the guild"
        )
        assert [c["name"] for c in fake.commands(fake.guild)] == ["support"]
        fake_anthropic.script(Reply.text("Order ORD-10001 is **on its way**.", tokens_per_second=200))
        question = await fake.post_as_user(
            fake.support, fake.alice, f"{fake.bot_user.mention} where is ORD-10001?"
        )
        await fake.wait_for(
            lambda: [m for m in fake.bot_messages() if m.components], seconds=20, what="the final answer"
        )
        [answer] = fake.bot_messages(fake.channels[question.id])
        assert answer.content == "Order ORD-10001 is **on its way**."
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    assert fake.token not in stderr.decode()
