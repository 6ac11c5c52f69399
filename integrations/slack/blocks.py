"""The bot's messages as Block Kit: text in sections, sources, and the buttons under a finished answer.

Under an answer, "helpful" and "not helpful" are Slack's own feedback buttons (a ``feedback_buttons``
element, which only a ``context_actions`` block may hold); "Talk to a human" is an ordinary button in an
``actions`` block of its own. A feedback button's value is its vote and the reply's id (``vote_value``).

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

FEEDBACK_BLOCK = "supportbot_feedback"
ACTIONS_BLOCK = "supportbot_actions"
FEEDBACK = "supportbot_feedback"
"""The action id of the feedback buttons; the value of the one clicked says which (``parse_vote``)."""
HELPFUL = "supportbot_helpful"
NOT_HELPFUL = "supportbot_not_helpful"
ESCALATE = "supportbot_escalate"
RESOLVE = "supportbot_resolve"
"""On an escalation post in the leads' channel; its value is the thread's key."""
DRAFT_KB = "supportbot_draft_kb"
"""On an escalation post once resolved: draft a KB article from the thread (its value is the thread's key)."""

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


def feedback_blocks(reply_id: str) -> list[Block]:
    """The buttons under a finished answer: Slack's feedback buttons, then "Talk to a human"."""
    return [
        {
            "type": "context_actions",
            "block_id": FEEDBACK_BLOCK,
            "elements": [
                {
                    "type": "feedback_buttons",
                    "action_id": FEEDBACK,
                    "positive_button": _feedback_button(
                        "👍 Helpful", HELPFUL, reply_id, "This answer helped"
                    ),
                    "negative_button": _feedback_button(
                        "👎 Not helpful", NOT_HELPFUL, reply_id, "This answer did not help"
                    ),
                }
            ],
        },
        {
            "type": "actions",
            "block_id": ACTIONS_BLOCK,
            "elements": [_button("🙋 Talk to a human", ESCALATE, reply_id)],
        },
    ]


def vote_value(vote: str, reply_id: str) -> str:
    return f"{vote}:{reply_id}"


def parse_vote(value: str) -> tuple[bool, str] | None:
    """(helpful?, reply id) from a feedback button's value; None when it is not one of ours."""
    vote, _, reply_id = value.partition(":")
    if vote not in (HELPFUL, NOT_HELPFUL) or not reply_id:
        return None
    return vote == HELPFUL, reply_id


def resolve_block(thread_key: str) -> Block:
    return {"type": "actions", "elements": [_button("Mark resolved", RESOLVE, thread_key, style="primary")]}


def resolved_blocks(blocks: Sequence[Block], resolver: str, thread_key: str) -> list[Block]:
    """An escalation post's ``blocks`` once resolved: its "Mark resolved" button gives way to who did it
    (``resolver``, mrkdwn), and to a "Draft KB article" button (``bot.quality.drafts``)."""
    kept = [
        block
        for block in blocks
        if not (
            block.get("type") == "actions"
            and any(element.get("action_id") == RESOLVE for element in block.get("elements") or ())
        )
    ]
    done = f"✅ Resolved by {resolver}"
    draft = {"type": "actions", "elements": [_button("📝 Draft KB article", DRAFT_KB, thread_key)]}
    return [*kept, {"type": "context", "elements": [{"type": "mrkdwn", "text": done}]}, draft]


def fallback_text(mrkdwn: str) -> str:
    """The ``text`` sent next to the blocks (notifications, screen readers): the text, clipped."""
    return mrkdwn if len(mrkdwn) <= TEXT_LIMIT else mrkdwn[: TEXT_LIMIT - 1] + "…"


def _feedback_button(label: str, vote: str, reply_id: str, description: str) -> Block:
    return {
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "value": vote_value(vote, reply_id),
        "accessibility_label": description,
    }


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
