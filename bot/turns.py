"""Building a conversation's turns from a platform's messages: what every front end does the same way."""

from __future__ import annotations

from collections.abc import Sequence

from bot.types import Turn


def merge_turns(turns: Sequence[Turn]) -> list[Turn]:
    """Consecutive turns of one role as one turn (the first's id and time), tool exchanges kept apart.

    Users' turns of different people keep each person's name in the text; attachments are kept.
    """
    merged: list[Turn] = []
    for turn in turns:
        previous = merged[-1] if merged else None
        if previous is None or previous.role != turn.role or previous.exchange or turn.exchange:
            merged.append(turn)
            continue
        if turn.role == "assistant" or previous.author == turn.author:
            author, text = previous.author, f"{previous.text}\n\n{turn.text}"
        else:
            author, text = "", f"{_said(previous)}\n\n{_said(turn)}"
        attachments = previous.attachments + turn.attachments
        merged[-1] = Turn(turn.role, author, text, previous.message_id, previous.sent_at, (), attachments)
    return merged


def _said(turn: Turn) -> str:
    return f"{turn.author}: {turn.text}" if turn.author else turn.text
