"""Marking a thread solved: the "Mark solved" button under an answer and the "Mark solved" message command
(:func:`solved_menu`, registered with ``/support``).

The asker (``integrations.discord.step_back.is_asker``) or staff may mark a thread solved; anyone else is
told they may not. The thread is recorded once (``SolvedThreads``, counted by ``/support stats``), the
solving message (the answer the button is on, or the message the command was run on) gets a ✅ reaction,
and a forum post gets its forum's ``solved_tag`` and is archived (``DiscordEscalations.close_post``; the
reaction comes first: an archived post's messages take no reactions).
"""

from __future__ import annotations

import logging
from typing import Protocol

import aiohttp
import discord
from discord import app_commands

from bot.store import Conversations, SolvedThreads
from bot.tasks import BackgroundTasks
from bot.types import Principal, ThreadRef
from integrations.discord.escalations import DiscordEscalations
from integrations.discord.inbound import message_thread
from integrations.discord.principals import PrincipalResolver
from integrations.discord.respond import reply_privately
from integrations.discord.step_back import is_asker

log = logging.getLogger(__name__)

SOLVED_EMOJI = "✅"
SOLVED = "Marked solved. Thanks for letting us know!"
ALREADY_SOLVED = "This thread is already marked solved."
NOT_YOURS = "Sorry, only the person who asked or support staff can mark this thread solved."
NOWHERE = "Sorry, I can only mark a thread solved in a server's channel or thread, or in our direct messages."
MENU_NAME = "Mark solved"
FAILURES = (discord.HTTPException, aiohttp.ClientError, TimeoutError)


class SolvedStore(SolvedThreads, Conversations, Protocol):
    """What marking a thread solved reads and writes."""


class Solver:
    def __init__(self, store: SolvedStore, escalations: DiscordEscalations) -> None:
        self._store = store
        self._escalations = escalations

    async def solve(self, ref: ThreadRef, person: Principal, message: discord.Message) -> str:
        """``person`` marks ``ref`` solved on ``message``; the reply only they see."""
        if not person.is_lead and not is_asker(await self._store.load_turns(ref), person.user_id):
            log.info("%s: mark solved by a bystander (%s) refused", ref.key, person.describe())
            return NOT_YOURS
        if not await self._store.mark_solved(ref, person.user_id, str(message.id)):
            return ALREADY_SOLVED
        log.info("%s: marked solved by %s", ref.key, person.describe())
        try:
            await message.add_reaction(SOLVED_EMOJI)
        except FAILURES as exc:
            log.warning("could not react to the solving message %s: %s", message.id, exc)
        await self._escalations.close_post(ref)
        return SOLVED


def solved_menu(
    people: PrincipalResolver, solver: Solver, tasks: BackgroundTasks
) -> app_commands.ContextMenu:
    """The "Mark solved" message command (a context-menu command of type 3: right-click a message > Apps)."""

    async def mark(interaction: discord.Interaction, message: discord.Message) -> None:
        async def work() -> str:
            ref = message_thread(message)
            if ref is None:
                return NOWHERE
            return await solver.solve(ref, await people.resolve(interaction.user), message)

        await reply_privately(interaction, work(), tasks, name=f"mark solved {interaction.id}")

    return app_commands.ContextMenu(name=MENU_NAME, callback=mark)
