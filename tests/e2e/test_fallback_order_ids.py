"""The fallback responder (no key: `supportbot chat` / `ask` in a subprocess) recognises the ways people
write an order id (`#10009`, `order #10009`, `order 10009`, `ord10009`, `ORD 10009`) as ORD-10009, and
looks it up through the same tool, with the same authorization, as the model would."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.e2e.test_console_cli import NOT_AVAILABLE, cli, cli_env
from tools.orders import not_found_text

ORD_10009_TRACKING = "9400111899223856745318"  # ORD-10009 belongs to customer C-1008
WRITTEN = [
    "Where is #10009?",
    "any news on order #10009",
    "my order 10009 has not arrived",
    "status of ord10009 please",
    "ORD 10009?",
    "Order number: 10009",
]


async def test_each_way_of_writing_an_order_id_gets_its_status_for_its_owner_only(tmp_path: Path) -> None:
    questions = "".join(f"{question}\n/reset\n" for question in WRITTEN) + "/quit\n"
    owner, other = await asyncio.gather(
        cli(cli_env(tmp_path / "owner"), "chat", "--as", "customer:C-1008", stdin=questions),
        cli(cli_env(tmp_path / "other"), "chat", "--as", "customer:C-1001", stdin=questions),
    )

    assert owner.code == 0, owner.stderr
    answers = owner.stdout.split("Started a new conversation.")
    assert len(answers) == len(WRITTEN) + 1
    for question, answer in zip(WRITTEN, answers, strict=False):
        assert NOT_AVAILABLE in answer, (question, answer)
        assert "Order ORD-10009: shipped" in answer and ORD_10009_TRACKING in answer, (question, answer)

    assert other.code == 0, other.stderr
    answers = other.stdout.split("Started a new conversation.")
    for question, answer in zip(WRITTEN, answers, strict=False):
        assert not_found_text("ORD-10009") in answer, (question, answer)
    assert ORD_10009_TRACKING not in other.stdout + other.stderr
    assert "Carbon Trekking Poles" not in other.stdout + other.stderr


async def test_ask_with_order_hash_number_answers_from_the_order_system(tmp_path: Path) -> None:
    run = await cli(cli_env(tmp_path), "ask", "--as", "customer:C-1008", "Where", "is", "order", "#10009?")

    assert run.code == 0, run.stderr
    assert "Order ORD-10009: shipped" in run.stdout and ORD_10009_TRACKING in run.stdout
