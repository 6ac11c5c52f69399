"""What the agent yields while it answers. The agent knows no platform ids (docs/architecture.md §3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.store import SearchRecord
from bot.types import Source, Usage


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ToolStarted:
    tool_use_id: str
    name: str
    subject: str | None = None  # what the call is about (an order id), for a status a person may see


@dataclass(frozen=True)
class ToolFinished:
    """A tool call ended; ``search`` is what a knowledge-base search found (for ``bot.quality.record``)."""

    tool_use_id: str
    name: str
    ok: bool
    search: SearchRecord | None = None


@dataclass(frozen=True)
class Completed:
    """The answer is complete.

    ``text`` is the whole visible answer. ``exchange`` holds the Messages API messages the bot produced in
    this turn (tool rounds included) for the store. ``note`` is a short line shown under the answer, e.g.
    when the answer was cut at the length limit or came from the fallback responder.
    """

    text: str
    sources: tuple[Source, ...]
    usage: Usage
    stop_reason: str
    exchange: tuple[dict[str, Any], ...] = ()
    note: str | None = None
    model: str | None = None


@dataclass(frozen=True)
class Failed:
    """The answer could not be completed; ``user_message`` is the notice shown to the user."""

    reason: str
    user_message: str
    usage: Usage = field(default_factory=Usage)


AgentEvent = TextDelta | ToolStarted | ToolFinished | Completed | Failed
