"""Answering an interaction (a ``/support`` command, a button click) only to the person, within 3 s.

Discord wants an interaction answered or deferred within 3 seconds. The work runs as a tracked task (the
front end waits for it at shutdown); if it is done within ``ANSWER_WITHIN`` seconds its text is the
answer, otherwise the interaction is deferred ("thinking…", visible only to the person) and the text
follows when the work is done. Long texts go out in several messages of at most 2,000 characters, with
their embeds suppressed (no link in them gets a preview).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

import aiohttp
import discord

from bot.streaming.splitter import split_message
from bot.tasks import BackgroundTasks
from integrations.discord.stream import QUIET

log = logging.getLogger(__name__)

ANSWER_WITHIN = 2.0
"""Seconds of work before the interaction is deferred (Discord's deadline is 3 s)."""
MAX_CHARS = 2000
FAILED = "Sorry, that did not work; please try again in a moment."


async def reply_privately(
    interaction: discord.Interaction,
    work: Coroutine[Any, Any, str | None],
    tasks: BackgroundTasks,
    *,
    name: str,
) -> None:
    """Run ``work`` and show its text (if any) only to the person who started the interaction."""
    outcome: list[str | None] = []

    async def run() -> None:
        try:
            outcome.append(await work)
        except Exception:
            log.exception("%s failed", name)
            outcome.append(FAILED)

    job = tasks.spawn(run(), name=name)
    done, _ = await asyncio.wait({job}, timeout=ANSWER_WITHIN)
    deferred = not done
    try:
        if deferred:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await asyncio.shield(job)
        text = outcome[0] if outcome else FAILED
        if text is None:  # acknowledged, with nothing to say
            if deferred:
                await interaction.delete_original_response()
            else:
                await interaction.response.defer(ephemeral=True)
            return
        await _send(interaction, text, deferred=deferred)
    except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
        log.error("could not answer the interaction %s (%s): %s", interaction.id, name, exc)


async def _send(interaction: discord.Interaction, text: str, *, deferred: bool) -> None:
    pieces = split_message(text, MAX_CHARS)
    first, rest = pieces[0], pieces[1:]
    if deferred:
        await interaction.followup.send(first, ephemeral=True, allowed_mentions=QUIET, suppress_embeds=True)
    else:
        await interaction.response.send_message(
            first, ephemeral=True, allowed_mentions=QUIET, suppress_embeds=True
        )
    for piece in rest:
        await interaction.followup.send(piece, ephemeral=True, allowed_mentions=QUIET, suppress_embeds=True)
