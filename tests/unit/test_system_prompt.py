"""The system prompt names the tools the bot has, by their real names: a renamed or a new tool without a
word in the prompt would leave the model guessing when to use it."""

from __future__ import annotations

import re
from pathlib import Path

from tools.escalation import EscalateToHuman
from tools.kb import SearchKb
from tools.orders import ListMyOrders, LookupOrder

PROMPT = (Path(__file__).resolve().parents[2] / "config" / "prompts" / "system.md").read_text("utf-8")
TOOLS = {tool.name for tool in (LookupOrder, ListMyOrders, SearchKb, EscalateToHuman)}


def test_the_prompt_names_every_tool_and_no_other() -> None:
    named = set(re.findall(r"`([a-z]+(?:_[a-z]+)+)`", PROMPT))
    assert named == TOOLS
