"""Turning a conversation into Messages API messages (pure functions, unit-tested)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from bot.types import Turn

Message = dict[str, Any]


def turns_to_messages(turns: Sequence[Turn]) -> list[Message]:
    """Messages for the model: users' turns carry their names, the bot's turns replay their tool rounds.

    Consecutive messages of one role are merged and the list starts with a user message, as the API
    requires.
    """
    messages: list[Message] = []
    for turn in turns:
        if turn.role == "assistant" and turn.exchange:
            for message in turn.exchange:
                _append(messages, message["role"], list(message["content"]))
            continue
        text = turn.text.strip()
        if not text:
            continue
        if turn.role == "user" and turn.author:
            text = f"{turn.author}: {text}"
        _append(messages, turn.role, [{"type": "text", "text": text}])
    while messages and messages[0]["role"] != "user":
        messages.pop(0)
    return messages


def _append(messages: list[Message], role: str, content: list[dict[str, Any]]) -> None:
    if messages and messages[-1]["role"] == role:
        merged = [*messages[-1]["content"], *content]
        # Tool results must lead a user message's content.
        merged.sort(key=lambda block: block.get("type") != "tool_result")
        messages[-1] = {"role": role, "content": merged}
    else:
        messages.append({"role": role, "content": content})


def with_cache_breakpoint(messages: list[Message]) -> list[Message]:
    """A copy whose last content block carries the conversation-prefix cache breakpoint."""
    if not messages:
        return messages
    out = list(messages)
    last = copy.copy(out[-1])
    content = [dict(block) for block in last["content"]]
    content[-1]["cache_control"] = {"type": "ephemeral"}
    last["content"] = content
    out[-1] = last
    return out


def last_user_text(turns: Sequence[Turn]) -> str:
    for turn in reversed(turns):
        if turn.role == "user":
            return turn.text
    return ""
