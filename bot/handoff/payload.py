"""What an escalation is sent to a helpdesk as: one JSON object, built when the escalation opens.

``{"event": "escalation.opened", "escalation_id", "opened_at", "thread": {platform, space_id, channel_id,
thread_id, link}, "asker": {user_id, display_name, role}, "summary", "transcript": [{role, author, text,
at}], "transcript_truncated"}``. People's words are masked (``bot.masking``) and the transcript keeps the
newest turns that fit the configured number of turns and characters.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.escalations import SUMMARY_CHARS
from bot.masking import mask
from bot.store import Escalation
from bot.types import Principal, Turn

EVENT = "escalation.opened"


def transcript(turns: Sequence[Turn], max_turns: int, max_chars: int) -> tuple[list[dict[str, str]], bool]:
    """The newest turns, oldest first, within ``max_turns`` and ``max_chars`` of text (a turn that does not
    fit whole is cut); and whether any were left out or cut."""
    kept: list[dict[str, str]] = []
    room = max_chars
    newest = list(turns)[-max_turns:] if max_turns else []
    for turn in reversed(newest):
        if room <= 0:
            break
        text = mask(turn.text) if turn.role == "user" else turn.text
        kept.append(
            {"role": turn.role, "author": turn.author, "text": text[:room], "at": turn.sent_at.isoformat()}
        )
        room -= len(text)
    kept.reverse()
    return kept, len(kept) < len(turns) or room < 0


def escalation_payload(
    escalation: Escalation,
    requester: Principal,
    link: str | None,
    turns: Sequence[Turn],
    *,
    max_turns: int,
    max_chars: int,
) -> dict[str, Any]:
    ref = escalation.ref
    lines, truncated = transcript(turns, max_turns, max_chars)
    return {
        "event": EVENT,
        "escalation_id": escalation.id,
        "opened_at": escalation.opened_at.isoformat(),
        "thread": {
            "platform": ref.platform,
            "space_id": ref.space_id,
            "channel_id": ref.channel_id,
            "thread_id": ref.thread_id,
            "link": link,
        },
        "asker": {
            "user_id": requester.user_id,
            "display_name": requester.display_name,
            "role": requester.describe(),
        },
        "summary": mask(" ".join(escalation.summary.split())[:SUMMARY_CHARS]),
        "transcript": lines,
        "transcript_truncated": truncated,
    }


def encode(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
