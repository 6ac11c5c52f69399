"""Turning a conversation into Messages API messages (pure functions, unit-tested)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from bot.names import one_line_name
from bot.types import Turn

Message = dict[str, Any]

SUMMARY_PREFIX = "Summary of the earlier conversation (written by the support bot from the older messages):\n"


def turns_to_messages(
    turns: Sequence[Turn], summary: str | None = None, viewer: str | None = None
) -> list[Message]:
    """Messages for the model: users' turns carry their names (and the images they attached), the bot's
    turns replay their tool rounds when they answered ``viewer`` (the user id of the person asking now).

    A ``summary`` of the older turns comes first, as a user message (never in the system prompt) with its
    own cache breakpoint: it changes only when the thread is summarised again, so the prefix up to it stays
    cached even when a turn adds many blocks. Consecutive messages of one role are merged and the list
    starts with a user message, as the API requires.
    """
    messages: list[Message] = []
    if summary and summary.strip():
        block = {
            "type": "text",
            "text": SUMMARY_PREFIX + summary.strip(),
            "cache_control": {"type": "ephemeral"},
        }
        messages.append({"role": "user", "content": [block]})
    for turn in turns:
        if turn.role == "assistant" and turn.exchange and viewer is not None and turn.answered_for == viewer:
            # Tool results are what the tools let that person see; anyone else gets the visible text.
            for message in turn.exchange:
                _append(messages, message["role"], list(message["content"]))
            continue
        text = turn.text.strip()
        if not text:
            continue
        if turn.role == "user" and turn.author:
            text = f"{one_line_name(turn.author)}: {text}"  # a name is one line of data
        _append(messages, turn.role, [{"type": "text", "text": text}, *map(dict, turn.attachments)])
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
