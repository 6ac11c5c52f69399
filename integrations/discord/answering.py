"""Answering one Discord message (docs/architecture.md §4): who asks, where the answer goes, then the core
(``bot.gate`` decides whether to answer at all, then ``integrations.discord.step_back`` whether this
person is answered in the thread).

The core's ``SupportService`` does the rest: dedup on the message id (a message delivered twice is
answered once), stepping back in escalated threads, one reply per thread, the limits, the streamed render
and the store. The history is read from Discord when the core asks for it (with the thread's lock held),
and the typing indicator starts then, until the answer's first text is posted.

Nothing is sent to Discord before the core posts: the thread of a mention is opened with the first post,
so a message the core leaves without a reply (a flood over the rate limit, say) costs no call at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.gate import Admission, Gate
from bot.inbound import Budgets
from bot.runtime import App
from bot.streaming.budget import Budget, Priority
from bot.types import Turn
from integrations.discord.budgets import DiscordBudgets
from integrations.discord.history import ThreadHistory
from integrations.discord.inbound import DiscordMessage, Trigger, thread_name
from integrations.discord.principals import PrincipalResolver
from integrations.discord.step_back import Say, StepBack
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
        self._gate = Gate(core.store)
        self._step_back = StepBack(core.store, core.config.channels)
        self._people = people
        self._history = history
        self._budgets = budgets

    async def answer(self, message: DiscordMessage) -> None:
        """Answer ``message``, or keep its turn in a paused channel (``bot.gate``)."""
        ref = message.ref
        admission = await self._gate.admit(ref, follow_up=message.trigger is Trigger.FOLLOW_UP)
        if admission is Admission.IGNORE:
            return
        principal = await self._people.resolve(message.source.author)
        if admission is Admission.KEEP:
            log.debug("%s: paused in %s", message.dedup_key, ref.channel_id)
            await self._gate.keep(message.to_inbound(principal))
            return
        say = await self._step_back.decide(message, principal)
        if say is Say.IGNORE:
            log.debug("%s: not for the bot (no mention, not the asker)", message.dedup_key)
            return
        if say is Say.KEEP:
            await self._gate.keep(message.to_inbound(principal))
            return
        if message.trigger is Trigger.MENTION:
            destination: Destination = NewThread(message.source, thread_name(message.text))
        else:
            destination = Destination(message.source.channel)
        stream = DiscordReplyStream(destination, limits=self._budgets.limits)

        async def history() -> list[Turn]:
            stream.start_typing()
            return await self._history.load(message)

        try:
            handled = await self._core.service.handle(
                message.to_inbound(principal),
                stream,
                Budgets(
                    edits=_OpenedBudget(destination, ref.thread_id, self._budgets.edits),
                    posts=_OpenedBudget(destination, ref.thread_id, self._budgets.posts),
                ),
                history,
            )
        finally:
            await stream.close()
        log.info("%s in %s: %s", message.dedup_key, ref.key, handled.status)


class _OpenedBudget:
    """The budget of the channel the answer goes to, picked when the first call is about to be made: the
    destination is opened then (a mention's new thread), not before the core decided to post."""

    def __init__(self, destination: Destination, fallback_id: str, budget: Callable[[str], Budget]) -> None:
        self._destination = destination
        self._fallback_id = fallback_id
        self._budget = budget

    async def _opened(self) -> Budget:
        channel = await self._destination.channel()
        return self._budget(str(getattr(channel, "id", self._fallback_id)))

    async def acquire(self, priority: Priority) -> None:
        await (await self._opened()).acquire(priority)

    async def pause(self, seconds: float) -> None:
        await (await self._opened()).pause(seconds)
