"""The Discord buttons (``bot.buttons`` handles them; "Mark solved" ``integrations.discord.solved``): under
an answer (helpful, not helpful, talk to a human, mark solved) and on an escalation's notice (resolve, then
"Draft KB article" once resolved). The reply is shown only to the person who clicked."""

from __future__ import annotations

import logging

import discord

from bot.buttons import Buttons
from bot.quality.drafts import drafts_page
from bot.runtime import App
from bot.tasks import BackgroundTasks
from integrations.discord.escalations import DiscordEscalations
from integrations.discord.inbound import ButtonClick, click_from_interaction, parse_thread_key
from integrations.discord.markup import DISCORD_MARKUP
from integrations.discord.principals import PrincipalResolver
from integrations.discord.respond import reply_privately
from integrations.discord.solved import Solver
from integrations.discord.ui import DRAFT_KB, ESCALATE, HELPFUL, NOT_HELPFUL, RESOLVE, SOLVE

log = logging.getLogger(__name__)


class ButtonActions:
    def __init__(
        self,
        core: App,
        people: PrincipalResolver,
        escalations: DiscordEscalations,
        solver: Solver,
        tasks: BackgroundTasks,
    ) -> None:
        self._people = people
        self._solver = solver
        self._buttons = Buttons(
            core.store, escalations.handover, core.drafts, DISCORD_MARKUP, drafts_page(core.settings)
        )
        self._tasks = tasks

    async def clicked(self, interaction: discord.Interaction) -> None:
        """Answer a click on one of the bot's buttons."""
        click = click_from_interaction(interaction)
        if click is None:
            return
        name = f"{click.action} by {click.user.id}"
        await reply_privately(interaction, self.run(click), self._tasks, name=name)

    async def run(self, click: ButtonClick) -> str | None:
        """Act on ``click``; the reply for the person who clicked, if any."""
        user_id = str(click.user.id)
        if click.action in (HELPFUL, NOT_HELPFUL):
            return await self._buttons.vote(click.value, user_id, helpful=click.action == HELPFUL)
        if click.action not in (ESCALATE, SOLVE, RESOLVE, DRAFT_KB):
            log.info("unknown button %s ignored", click.action)
            return None
        person = await self._people.resolve(click.user)
        if click.action == ESCALATE:
            return await self._buttons.talk_to_human(click.ref, person)
        if click.action == SOLVE:
            message = click.message
            return None if message is None else await self._solver.solve(click.ref, person, message)
        if click.action == DRAFT_KB:
            return await self._buttons.draft_article(parse_thread_key(click.value), person)
        return await self._buttons.resolve(parse_thread_key(click.value), person)
