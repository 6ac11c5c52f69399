"""Answering one Discord message (docs/architecture.md §4): who asks, where the answer goes, then the core
(``bot.gate`` decides whether to answer at all, then ``integrations.discord.step_back`` whether this
person is answered in the thread).

The core's ``SupportService`` does the rest: dedup on the message id (a message delivered twice is
answered once), stepping back in escalated threads, one reply per thread, the limits, the streamed render
and the store. The history is read from Discord when the core asks for it (with the thread's lock held),
and the typing indicator starts then, until the answer's first text is posted.

An edited question (``revise``) restarts its answer while that is not final (the cancelled answer's
messages are settled, then deleted) and is answered as a follow-up once it is; at most
``MAX_EDIT_ANSWERS`` edits of one message are answered.

Nothing is sent to Discord before the core posts: the thread of a mention is opened with the first post,
so a message the core leaves without a reply (a flood over the rate limit, say) costs no call at all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

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

MAX_EDIT_ANSWERS = 3
"""An edited message is answered again at most this many times; later edits are left alone."""
REVISIONS_KEPT = 10_000


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
        self._running: dict[int, _Running] = {}
        """The answers in progress, by the id of the message they answer (one per message)."""
        self._revisions: dict[int, int] = {}
        """How many edits of a message were taken up, by its id (the newest ``REVISIONS_KEPT``)."""

    async def revise(self, message: DiscordMessage) -> None:
        """``message`` was edited: while its answer is not final, that answer is cancelled, its messages
        deleted, and the new text answered instead; once it is final, the new text is answered as a
        follow-up. An edited message is answered at most ``MAX_EDIT_ANSWERS`` times."""
        key = message.source.id
        revision = self._revisions.get(key, 0) + 1
        if revision > MAX_EDIT_ANSWERS:
            log.info(
                "%s: edited again, past %d answered edits; left alone", message.dedup_key, MAX_EDIT_ANSWERS
            )
            return
        if key not in self._revisions and len(self._revisions) >= REVISIONS_KEPT:
            del self._revisions[next(iter(self._revisions))]
        self._revisions[key] = revision
        running = self._running.get(key)
        if running is not None and not running.final and not running.task.done():
            log.info("%s: edited before its answer was final; answering the new text", message.dedup_key)
            running.task.cancel()
            await asyncio.wait({running.task})
            if running.stream is not None:
                await running.stream.withdraw()
        await self.answer(replace(message, revision=revision))

    async def answer(self, message: DiscordMessage) -> None:
        """Answer ``message``, or keep its turn in a paused channel (``bot.gate``)."""
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("an answer runs in a task")
        running = _Running(task)
        self._running[message.source.id] = running
        try:
            await self._answer(message, running)
        finally:
            if self._running.get(message.source.id) is running:
                del self._running[message.source.id]

    async def _answer(self, message: DiscordMessage, running: _Running) -> None:
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
        running.stream = stream

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
            running.final = True
        finally:
            await stream.close()
        log.info("%s in %s: %s", message.dedup_key, ref.key, handled.status)


@dataclass
class _Running:
    """An answer in progress: its task, its stream once there is one, and whether it is final."""

    task: asyncio.Task[Any]
    stream: DiscordReplyStream | None = None
    final: bool = False


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
