"""`supportbot doctor` and `supportbot stats` as an operator runs them, against the fakes: each check's
line, the knowledge sources' syncs, the helpdesk outbox (nothing waiting, a recent failure, escalations
waiting too long or for a target no longer configured, an unreachable store), rejected keys and
unreachable services."""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import struct
import sys
import termios
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fakes.anthropic import FakeAnthropic
from fakes.discord import FakeDiscord
from fakes.slack import FakeSlack

from bot.store import ReplyRecord, UsageRecord
from bot.store.open import open_store
from bot.store.sqlite import SQLiteStore
from bot.types import ThreadRef
from tests.kb.test_kb_index_cli import page_overwritten
from tests.serve.rig import ROOT, environment, free_port, run, slack_environment
from tests.slack.rig import toml_text

CHECKS = [
    "settings",
    "bot.toml",
    "system prompt",
    "store",
    "knowledge base",
    "knowledge search",
    "orders",
    "model",
    "hand-off",
    "Slack",
    "Discord",
]


def marks(output: str) -> dict[str, str]:
    """Each check's mark (✓ ! ✗ -) by its name."""
    found = {}
    for line in output.splitlines():
        mark, _, rest = line.partition(" ")
        found[rest.split(":", 1)[0]] = mark
    return found


async def test_doctor_all_good(tmp_path: Path, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic) -> None:
    env = slack_environment(fake_slack, fake_anthropic)
    assert (await run(tmp_path, "kb", "sync", **env))[0] == 0
    status, output, _ = await run(tmp_path, "doctor", **env)
    assert status == 0, output
    assert list(marks(output)) == CHECKS, output
    assert set(marks(output).values()) == {"✓", "-"} and marks(output)["Discord"] == "-", output
    assert "auth.test: @support" in output and "events over HTTP" in output
    assert fake_slack.bot_token not in output and env["ANTHROPIC_API_KEY"] not in output
    assert [r.path for r in fake_anthropic.requests] == ["/v1/messages/count_tokens"] * 2  # both models


async def test_doctor_reads_the_whole_index_and_names_a_damaged_one(tmp_path: Path) -> None:
    assert (await run(tmp_path, "kb", "sync"))[0] == 0
    assert marks((await run(tmp_path, "doctor"))[1])["knowledge search"] == "✓"
    index = tmp_path / "kb.sqlite3"
    page_overwritten(index)  # a page no start-up read touches
    status, output, _ = await run(tmp_path, "doctor")
    assert status == 1, output
    assert marks(output)["knowledge search"] == "✗", output
    assert f"KB_INDEX_PATH: {index} is a damaged SQLite database" in output
    assert "delete the file and start it" in output and "Traceback" not in output
    assert index.exists()


async def test_doctor_on_a_fresh_machine_without_tokens_passes_with_notes(tmp_path: Path) -> None:
    status, output, _ = await run(tmp_path, "doctor")
    assert status == 0, output
    expected = {
        **dict.fromkeys(CHECKS, "✓"),
        "knowledge base": "!",
        "model": "!",
        "hand-off": "-",
        "Slack": "-",
        "Discord": "-",
    }
    assert marks(output) == expected
    assert "help-center: never synced" in output and "run `supportbot kb sync`" in output
    assert "set ANTHROPIC_API_KEY" in output
    assert "- hand-off: not configured (no [handoff] targets in bot.toml)" in output


async def handed_off(tmp_path: Path, at: datetime, target: str, failure: str | None = None) -> None:
    """An escalation enqueued for ``target`` at ``at`` in the bot's store; its first attempt failed with
    ``failure`` when one is given."""
    store = await SQLiteStore.open(tmp_path / "supportbot.db", clock=lambda: at)
    try:
        ref = ThreadRef("slack", "T1", "C1", f"{at.timestamp():.6f}")
        escalation = await store.open_escalation(ref, "U0ANN", "wants a refund")
        assert escalation is not None
        await store.enqueue_handoff(escalation.id, ref, target, "{}")
        if failure is not None:
            [delivery] = [d for d in await store.due_handoffs(at, 10) if d.escalation_id == escalation.id]
            await store.handoff_failed(delivery.id, at + timedelta(minutes=15), failure)
    finally:
        await store.close()


def handoff_line(output: str) -> str:
    [line] = [line for line in output.splitlines() if line[2:].startswith("hand-off: ")]
    return line


async def test_doctor_says_what_waits_for_the_helpdesk_and_since_when(tmp_path: Path) -> None:
    data = tomllib.loads((ROOT / "config" / "bot.toml").read_text(encoding="utf-8"))
    data["handoff"] = {"targets": ["webhook"], "webhook_url": "https://helpdesk.example/hooks/supportbot"}
    config = tmp_path / "bot.toml"
    config.write_text(toml_text(data), encoding="utf-8")
    env = {"BOT_CONFIG_PATH": str(config)}

    status, output, _ = await run(tmp_path, "doctor", **env)
    assert status == 0 and handoff_line(output) == "✓ hand-off: webhook: nothing waiting", output

    # The helpdesk refused one a moment ago: it is retried, nothing to do yet.
    now = datetime.now(UTC)
    await handed_off(tmp_path, now - timedelta(seconds=30), "webhook", "HTTP 503: Service Unavailable")
    status, output, _ = await run(tmp_path, "doctor", **env)
    line = handoff_line(output)
    assert status == 0 and line.startswith("✓ hand-off: webhook: 1 waiting, the oldest for "), output
    assert line.endswith(" s, the last attempt failed for 1 (HTTP 503: Service Unavailable)"), line

    # One has waited two hours, and another for three days for a target taken out of bot.toml.
    await handed_off(tmp_path, now - timedelta(hours=2, minutes=5), "webhook")
    await handed_off(tmp_path, now - timedelta(days=3, minutes=1), "zendesk")
    status, output, _ = await run(tmp_path, "doctor", **env)
    assert status == 0, output  # a warning, not a failure
    assert handoff_line(output) == (
        "! hand-off: webhook: 2 waiting, the oldest for 2 h 5 min, the last attempt failed for 1 "
        "(HTTP 503: Service Unavailable); zendesk: 1 waiting, the oldest for 3 days, not sent (no longer a "
        "[handoff] target) → make sure `supportbot serve` runs (it delivers them) and that the helpdesk "
        "takes its requests (webhook: the URL in [handoff], the secret in .env; serve logs each refusal); "
        "they are kept and retried meanwhile; add zendesk back to [handoff] targets to send them"
    )

    nowhere = f"postgresql://supportbot@127.0.0.1:{free_port()}/supportbot"
    status, output, _ = await run(tmp_path, "doctor", **env, DATABASE_URL=nowhere)
    assert status == 1 and handoff_line(output).startswith("✗ hand-off: cannot read the outbox: "), output
    assert "→ check DATABASE_URL" in handoff_line(output)


async def test_kb_sync_and_doctor_say_which_source_failed_and_what_it_kept(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "hours.md").write_text("---\ntitle: Opening hours\n---\nWe open at nine.\n", encoding="utf-8")
    config = tmp_path / "bot.toml"
    config.write_text(
        '[[kb.sources]]\nname = "docs"\nkind = "folder"\npath = "docs"\n'
        '[[kb.sources]]\nname = "gone"\nkind = "folder"\npath = "missing"\n',
        encoding="utf-8",
    )
    status, output, _ = await run(tmp_path, "kb", "sync", BOT_CONFIG_PATH=str(config))
    assert status == 1, output
    assert "docs: 1 articles; 1 added, 0 updated, 0 removed, 0 skipped" in output
    assert "gone: FAILED (" in output and "kept its 0 articles" in output

    status, _, error = await run(tmp_path, "kb", "sync", "--source", "nope", BOT_CONFIG_PATH=str(config))
    assert status == 2 and "no knowledge source is named 'nope' (the sources: docs, gone)" in error

    status, output, _ = await run(tmp_path, "doctor", BOT_CONFIG_PATH=str(config))
    assert marks(output)["knowledge base"] == "✗", output
    assert (
        "docs: 1 article(s), synced" in output
        and "gone: the sync at" in output
        and "does not exist" in output
    )


async def test_doctor_names_a_rejected_key_and_how_to_fix_it(tmp_path: Path, fake_slack: FakeSlack) -> None:
    async with FakeAnthropic(api_key="the-right-key") as fake:
        env = {**slack_environment(fake_slack, fake), "ANTHROPIC_API_KEY": "sk-the-wrong-key-0123"}
        env["SLACK_BOT_TOKEN"] = "xoxb-not-a-valid-token"
        status, output, _ = await run(tmp_path, "doctor", **env)
    assert status == 1, output
    found = marks(output)
    assert (found["model"], found["Slack"], found["store"]) == ("✗", "✗", "✓")
    [model] = [line for line in output.splitlines() if line.startswith("✗ model")]
    assert "ANTHROPIC_API_KEY" in model and "→ check ANTHROPIC_API_KEY" in model
    assert "auth.test refused SLACK_BOT_TOKEN (invalid_auth)" in output
    assert "sk-the-wrong-key-0123" not in output and "xoxb-not-a-valid-token" not in output


async def test_doctor_reports_unreachable_services(tmp_path: Path, fake_slack: FakeSlack) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    env = {
        "ANTHROPIC_API_KEY": "sk-some-key-0123",
        "ANTHROPIC_BASE_URL": nowhere,
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_APP_TOKEN": fake_slack.app_token,
        "SLACK_API_URL": nowhere + "/api/",
        "ORDERS_API_URL": nowhere,
    }
    status, output, _ = await run(tmp_path, "doctor", **env)
    assert status == 1, output
    found = marks(output)
    assert (found["model"], found["Slack"], found["orders"]) == ("✗", "✗", "✗"), output
    assert "cannot reach the model API" in output and "→ check ANTHROPIC_BASE_URL" in output
    assert "cannot reach Slack at SLACK_API_URL" in output and "order service unreachable" in output


async def test_doctor_bad_settings_and_config(tmp_path: Path) -> None:
    status, output, _ = await run(tmp_path, "doctor", PORT="http")
    assert status == 2 and output.startswith("✗ settings: PORT:") and len(output.splitlines()) == 1
    broken = tmp_path / "bot.toml"
    broken.write_text("[limits]\nmax_input_chars = 'many'\n", encoding="utf-8")
    status, output, _ = await run(tmp_path, "doctor", BOT_CONFIG_PATH=str(broken))
    assert status == 1 and marks(output)["bot.toml"] == "✗" and "max_input_chars" in output


async def test_stats_prints_tables_by_day_and_channel(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'supportbot.db'}")
    now = datetime.now(UTC)
    slack = ThreadRef("slack", "T1", "C1", "1.0")
    console = ThreadRef("console", "local", "terminal", "s1")
    try:
        await store.record_reply(ReplyRecord("r1", slack, now - timedelta(days=1), 800.0, False, False))
        await store.record_reply(ReplyRecord("r2", slack, now, 400.0, False, True))
        await store.record_reply(ReplyRecord("r3", console, now, None, True, False))
        await store.record_feedback("r1", "U1", True)
        await store.record_usage(UsageRecord(slack, "r1", "claude", 1000, 100, 0, 0, 0.25, now))
        await store.open_escalation(slack, "U1", "help")
    finally:
        await store.close()

    status, output, _ = await run(tmp_path, "stats", "--days", "3")
    assert status == 0, output
    lines = output.splitlines()
    assert lines[0].startswith("Support stats for the last 3 day(s), all platforms (since ")
    total = [line.split() for line in lines if line.startswith("total")]
    assert total[0][:9] == ["total", "3", "2", "1", "1", "0", "1", "0", "1"]  # by day, then by channel
    assert total[0] == total[1] and total[0][-1] == "$0.25"
    assert any(line.startswith("slack:C1 ") for line in lines) and lines[-1] == "Open escalations now: 1"

    status, output, _ = await run(tmp_path, "stats", "--platform", "slack")
    assert status == 0 and "console:terminal" not in output and "last 7 day(s), slack" in output
    status, _, errors = await run(tmp_path, "stats", "--days", "0")
    assert status == 2 and "--days: '0' is not a number of days" in errors
    status, output, errors = await run(tmp_path, "stats", "--platform", "bogus")
    assert status == 2 and output == "" and "--platform: invalid choice: 'bogus'" in errors

    # On an 80-column terminal every line fits; piped (above) the same tables keep their full lines.
    status, shown = await run_on_terminal(tmp_path, 80, "stats", "--days", "3")
    assert status == 0, shown
    assert max(len(line) for line in shown.splitlines()) <= 80 < max(len(line) for line in lines)
    assert "questions" in shown and "cost" in shown and shown.rstrip().endswith("Open escalations now: 1")


async def run_on_terminal(tmp_path: Path, columns: int, *args: str) -> tuple[int, str]:
    """``python -m bot ARGS`` writing to a terminal ``columns`` wide: exit status and what it showed."""
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {
        k: v for k, v in environment(tmp_path, LOG_LEVEL="WARNING").items() if k not in ("COLUMNS", "LINES")
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=tmp_path, env=env, stdout=secondary, stderr=secondary
    )
    os.close(secondary)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = await asyncio.to_thread(os.read, primary, 65536)
        except OSError:  # EIO: the terminal's other end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    status = await asyncio.wait_for(process.wait(), 90)
    return status, b"".join(chunks).decode().replace("\r\n", "\n")


async def test_doctor_checks_the_discord_token(tmp_path: Path, fake_discord: FakeDiscord) -> None:
    env = {"DISCORD_TOKEN": fake_discord.token, "DISCORD_API_URL": fake_discord.api_base}
    status, output, _ = await run(tmp_path, "doctor", **env)
    assert status == 0 and marks(output)["Discord"] == "✓", output
    assert f"logged in as {fake_discord.bot_user.username}" in output

    wrong = fake_discord.token[:-4] + "AAAA"
    status, output, _ = await run(tmp_path, "doctor", **{**env, "DISCORD_TOKEN": wrong})
    assert (
        status == 1 and "✗ Discord: Discord refused DISCORD_TOKEN" in output and "→ reset the token" in output
    )
    assert wrong not in output and fake_discord.token not in output
