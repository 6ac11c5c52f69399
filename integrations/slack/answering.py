"""Answering one Slack message (docs/architecture.md §4): who asks, the stream, then the core (``bot.gate``
decides whether to answer at all).

The core's ``SupportService`` does the rest: dedup on the message (every delivery of a message, retries
and an ``app_mention`` next to its ``message`` event alike, has one key), stepping back in escalated
threads, one reply per thread, the streamed render and the store.
"""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.web.async_client import AsyncWebClient

from bot.gate import Admission, Gate
from bot.runtime import App
from integrations.slack.agent_view import AgentView
from integrations.slack.budgets import SlackBudgets
from integrations.slack.history import ThreadHistory
from integrations.slack.inbound import (
    PLATFORM,
    BotIdentity,
    SlackMessage,
    mentioned_users,
    said_text,
)
from integrations.slack.installations import Halted, Installations, StreamWithProgress
from integrations.slack.native_stream import NativeSlackReplyStream, Recipient
from integrations.slack.principals import PrincipalResolver
from integrations.slack.stream import SlackReplyStream

log = logging.getLogger(__name__)


class Answerer:
    def __init__(
        self,
        core: App,
        client: AsyncWebClient,
        people: PrincipalResolver,
        history: ThreadHistory,
        budgets: SlackBudgets,
        agent_view: AgentView,
        installations: Installations,
    ) -> None:
        self._core = core
        self._gate = Gate(core.store)
        self._client = client
        self._people = people
        self._history = history
        self._budgets = budgets
        self._agent_view = agent_view
        self._installations = installations
        self._native = core.config.facts(PLATFORM).streaming == "native"

    async def answer(self, message: SlackMessage, bot: BotIdentity) -> None:
        """Answer ``message``, or keep its turn in a paused channel (``bot.gate``)."""
        admission = await self._gate.admit(message.ref, follow_up=message.follow_up)
        if admission is Admission.IGNORE:
            return
        principal = await self._people.resolve(
            message.user_id,
            team_id=message.team_id,
            enterprise_id=message.enterprise_id,
            bot_name=message.bot_name,
        )
        names: dict[str, str] = {}
        if len(message.text) <= self._core.config.limits.max_input_chars:
            # Size first: a message the limits turn away costs no look-ups (its mentions stay ids).
            names = await self._people.names(u for u in mentioned_users(message.text) if u != bot.user_id)
        text = said_text(message.text, message.files, bot_user_id=bot.user_id, names=names)
        if admission is Admission.KEEP:
            await self._gate.keep(message.to_inbound(principal, text))
            return
        if message.is_dm and message.thread_ts is not None:  # a thread of the agent view
            await self._agent_view.title(message.channel_id, message.thread_ts, text)
        stream = Halted(self._stream(message), self._installations, message.team_id)
        handled = await self._core.service.handle(
            message.to_inbound(principal, text),
            stream,
            self._budgets.for_reply(message.team_id, message.channel_id),
            lambda: self._history.load(message, bot),
            progress=stream,  # the thread's status
        )
        log.info("%s in %s: %s", message.dedup_key, message.ref.key, handled.status)

    def _stream(self, message: SlackMessage) -> StreamWithProgress:
        """Native streaming where it is set and there is a thread to stream in; else posts and edits."""
        thread_ts = message.reply_thread_ts
        if self._native and thread_ts is not None:
            answering = asyncio.current_task()

            def end_answer() -> None:  # the person stopped the streaming message
                if answering is not None:
                    answering.cancel()

            return NativeSlackReplyStream(
                self._client,
                channel_id=message.channel_id,
                thread_ts=thread_ts,
                recipient=Recipient(message.user_id, message.team_id),
                limits=self._budgets.limits,
                on_stopped=end_answer,
            )
        return SlackReplyStream(
            self._client, channel_id=message.channel_id, thread_ts=thread_ts, limits=self._budgets.limits
        )
