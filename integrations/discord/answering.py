"""Answering one Discord message (DESIGN.md §4): whether to, who asks, where the answer goes, then the core.

The core's ``SupportService`` does the rest: dedup on the message id (a message delivered twice is
answered once), stepping back in escalated threads, one reply per thread, the limits, the streamed render
and the store. The history is read from Discord when the core asks for it (with the thread's lock held),
and the typing indicator starts then, until the answer's first text is posted.
"""

from __future__ import annotations

import logging

from bot.runtime import App
from bot.types import Turn
from integrations.discord.budgets import DiscordBudgets
from integrations.discord.events import PLATFORM, DiscordMessage, Trigger, thread_name
from integrations.discord.history import ThreadHistory
from integrations.discord.principals import PrincipalResolver
from integrations.discord.stream import Destination, DiscordReplyStream, NewThread

log = logging.getLogger(__name__)


class Answerer:
    def __init__(
        self,
        core: App,
        people: PrincipalResolver,
        history: ThreadHistory,
        budgets: DiscordBudgets,
    ) -> None:
        self._core = core
        self._store = core.store
        self._people = people
        self._history = history
        self._budgets = budgets

    async def answer(self, message: DiscordMessage) -> None:
        """Answer ``message`` unless its channel is paused or it is a follow-up where the bot is not."""
        ref = message.ref
        if await self._store.is_paused(PLATFORM, ref.space_id, ref.channel_id):
            log.debug("%s: paused in %s", message.dedup_key, ref.channel_id)
            return
        if message.trigger is Trigger.FOLLOW_UP and not await self._answers_in(message):
            return
        principal = await self._people.resolve(message.source.author)
        if message.trigger is Trigger.MENTION:
            destination: Destination = NewThread(message.source, thread_name(message.text))
        else:
            destination = Destination(message.source.channel)
        channel = await destination.channel()  # opens the thread, so the budgets are the thread's
        stream = DiscordReplyStream(destination, limits=self._budgets.limits)

        async def history() -> list[Turn]:
            stream.start_typing()
            return await self._history.load(message)

        try:
            handled = await self._core.service.handle(
                message.to_inbound(principal),
                stream,
                self._budgets.for_channel(str(getattr(channel, "id", ref.thread_id))),
                history,
            )
        finally:
            await stream.close()
        log.info("%s in %s: %s", message.dedup_key, ref.key, handled.status)

    async def _answers_in(self, message: DiscordMessage) -> bool:
        """The bot has answered in the message's thread before."""
        return any(turn.role == "assistant" for turn in await self._store.load_turns(message.ref))
