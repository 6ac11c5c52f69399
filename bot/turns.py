"""A conversation's turns, built the same way for every front end.

A front end reads its platform's thread as turns and merges them (:func:`merge_turns`); the service
(``bot.service``) takes them as the record of what was said (human agents' replies included) and puts the
bot's own turns back as the store keeps them, with their tool blocks (:func:`thread_turns`, :func:`enrich`).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.types import Turn


def thread_turns(platform: Sequence[Turn] | None, stored: Sequence[Turn], newest: int) -> list[Turn]:
    """The thread's ``newest`` turns: the platform's enriched from the store's (``stored``, the newest
    ones), or the store's record alone when the platform gave none."""
    if platform is None:
        return list(stored)
    return enrich(list(platform)[-newest:], stored)


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


def enrich(platform_turns: list[Turn], stored: Sequence[Turn]) -> list[Turn]:
    """The platform's thread, with the bot's own turns replaced by the stored ones that keep tool blocks.

    A long reply shows on the platform as several messages; the stored turn (keyed by the first message)
    holds all of it, so the continuation messages after it are dropped.
    """
    by_id = {turn.message_id: turn for turn in stored if turn.role == "assistant"}
    out: list[Turn] = []
    covering: Turn | None = None
    for turn in platform_turns:
        if turn.role == "assistant":
            if turn.message_id in by_id:
                covering = by_id[turn.message_id]
                out.append(covering)
                continue
            if covering is not None and turn.text.strip() and turn.text.strip()[:80] in covering.text:
                continue
        covering = None
        out.append(turn)
    return out
