"""The bot's messages as Block Kit: text in sections, sources, and the buttons under a finished answer.

A section holds at most 3,000 characters; longer mrkdwn is cut at a line end where it can be (the line
break becomes the boundary between two sections, so the text reads the same), and a cut inside a code
block closes the block and reopens it in the next section.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.types import Source
from integrations.slack.mrkdwn import SLACK_MARKUP, plain

Block = dict[str, Any]

SECTION_LIMIT = 3000
TEXT_LIMIT = 3000
"""The ``text`` of a message is only the notification fallback when it has blocks: it is clipped."""
MAX_SOURCES = 5

ACTIONS_BLOCK = "supportbot_feedback"
HELPFUL = "supportbot_helpful"
NOT_HELPFUL = "supportbot_not_helpful"
ESCALATE = "supportbot_escalate"
RESOLVE = "supportbot_resolve"
"""On an escalation post in the leads' channel; its value is the thread's key."""

_FENCE = "```"


def split_sections(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters (see the module docstring); never empty."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        room = limit - len(_FENCE) - 1  # space for closing a code block the cut falls in
        cut = rest.rfind("\n", 0, room + 1)
        skip = 1
        if cut <= 0:
            cut = rest.rfind(" ", 0, room + 1)
            skip = 0 if cut <= 0 else 1
            cut = cut if cut > 0 else room
        piece, rest = rest[:cut], rest[cut + skip :]
        if _in_code(piece):
            piece, rest = f"{piece}\n{_FENCE}", f"{_FENCE}\n{rest}"
        pieces.append(piece)
    pieces.append(rest)
    return [piece if piece.strip() else "\u200b" for piece in pieces]


def _in_code(text: str) -> bool:
    return sum(1 for line in text.split("\n") if line.strip() == _FENCE) % 2 == 1


def section(mrkdwn: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def sources_block(sources: Sequence[Source]) -> Block:
    links = " · ".join(SLACK_MARKUP.link(source.url, plain(source.title)) for source in sources[:MAX_SOURCES])
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Sources: {links}"}]}


def feedback_block(reply_id: str) -> Block:
    return {
        "type": "actions",
        "block_id": ACTIONS_BLOCK,
        "elements": [
            _button("👍 Helpful", HELPFUL, reply_id),
            _button("👎 Not helpful", NOT_HELPFUL, reply_id),
            _button("🙋 Talk to a human", ESCALATE, reply_id),
        ],
    }


def resolve_block(thread_key: str) -> Block:
    return {"type": "actions", "elements": [_button("Mark resolved", RESOLVE, thread_key, style="primary")]}


def fallback_text(mrkdwn: str) -> str:
    """The ``text`` sent next to the blocks (notifications, screen readers): the text, clipped."""
    return mrkdwn if len(mrkdwn) <= TEXT_LIMIT else mrkdwn[: TEXT_LIMIT - 1] + "…"


def _button(label: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style is not None:
        button["style"] = style
    return button
