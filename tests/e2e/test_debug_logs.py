"""`LOG_LEVEL=DEBUG` shows what the bot does, never what it was told: no system prompt, no tool result,
no key, whichever library logs them (the anthropic SDK, httpx and httpcore log requests at DEBUG)."""

from __future__ import annotations

from pathlib import Path

from fakes.anthropic import FakeAnthropic, Reply

from tests.e2e.rig import ROOT
from tests.e2e.test_console_cli import cli, cli_env

INTERNAL_NOTE = "Customer asked for delivery to the side door."  # ORD-10001's note, for staff only
API_KEY = "sk-ant-debug-test-key-0123456789"


def system_prompt_lines() -> list[str]:
    text = (ROOT / "config" / "prompts" / "system.md").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if len(line.strip()) > 40]


async def test_debug_logs_carry_no_system_prompt_tool_result_or_key(tmp_path: Path) -> None:
    async with FakeAnthropic(
        Reply.tool_use(("lookup_order", {"order_id": "ORD-10001"})),
        Reply.text("Your tent has shipped with UPS."),
    ) as fake:
        env = cli_env(
            tmp_path, ANTHROPIC_BASE_URL=fake.base_url, ANTHROPIC_API_KEY=API_KEY, LOG_LEVEL="DEBUG"
        )
        run = await cli(env, "ask", "--as", "lead", "Where is ORD-10001?")

    assert run.code == 0, run.stderr
    assert "Your tent has shipped with UPS." in run.stdout
    # The tool result did reach the model (so it was there to leak), and DEBUG did log something.
    assert INTERNAL_NOTE in str(fake.message_requests[1].body)
    assert "DEBUG" in run.stderr
    assert INTERNAL_NOTE not in run.stderr
    assert API_KEY not in run.stderr and API_KEY[-12:] not in run.stderr
    leaked = [line for line in system_prompt_lines() if line in run.stderr]
    assert not leaked, leaked[:3]
