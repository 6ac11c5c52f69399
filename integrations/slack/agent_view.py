"""Slack's agent view ("Agents & AI Apps"): suggested prompts when a thread starts, a title from its question.

When someone opens the bot in the agent view, Slack starts a thread in their DM with the bot and sends
``assistant_thread_started``; the bot then offers the prompts of ``[platforms.slack] suggested_prompts``
(``assistant.threads.setSuggestedPrompts``). The first question asked in a DM thread becomes the thread's
title in the view's history (``assistant.threads.setTitle``). Both are best effort: a failure is logged
and the answer goes on. The thread status while an answer is prepared is the reply stream's
(:class:`integrations.slack.stream.SlackReplyStream`).
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import SuggestedPrompt

log = logging.getLogger(__name__)

PROMPTS_TITLE = "Try asking"
TITLE_CHARS = 60
"""A title longer than this is cut at a word and ends with "…"."""
TITLED_THREADS = 10_000
"""Threads remembered as titled (the oldest are forgotten first)."""
_SPACE = re.compile(r"\s+")


def thread_title(question: str, limit: int = TITLE_CHARS) -> str:
    """The thread's title: the question's first line, spaces collapsed, cut at a word to ``limit``."""
    first = next((line for line in question.splitlines() if line.strip()), "")
    title = _SPACE.sub(" ", first).strip()
    if len(title) <= limit:
        return title
    cut = title[: limit - 1]
    word_end = cut.rfind(" ")
    if title[len(cut)] != " " and word_end >= limit // 2:  # the cut falls inside a word: before it
        cut = cut[:word_end]
    return cut.rstrip(" ,;:.-") + "…"


def started_thread(event: Mapping[str, Any]) -> tuple[str, str] | None:
    """(channel, thread_ts) of an ``assistant_thread_started`` event, or None when malformed."""
    thread = event.get("assistant_thread")
    if not isinstance(thread, Mapping):
        return None
    channel, thread_ts = thread.get("channel_id"), thread.get("thread_ts")
    if not isinstance(channel, str) or not channel or not isinstance(thread_ts, str) or not thread_ts:
        return None
    return channel, thread_ts


class AgentView:
    """Suggested prompts and thread titles, through the writing client."""

    def __init__(self, client: AsyncWebClient, prompts: tuple[SuggestedPrompt, ...]) -> None:
        self._client = client
        self._prompts = [{"title": p.title, "message": p.message} for p in prompts]
        self._titled: OrderedDict[tuple[str, str], None] = OrderedDict()

    async def thread_started(self, event: Mapping[str, Any]) -> None:
        """Offer the configured prompts in the thread that just started (none configured: nothing)."""
        thread = started_thread(event)
        if thread is None:
            log.warning("dropped a malformed assistant_thread_started event")
            return
        if not self._prompts:
            return
        channel, thread_ts = thread
        try:
            await self._client.assistant_threads_setSuggestedPrompts(
                channel_id=channel, thread_ts=thread_ts, title=PROMPTS_TITLE, prompts=self._prompts
            )
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            log.info("could not suggest prompts in thread %s of %s: %s", thread_ts, channel, exc)

    async def title(self, channel: str, thread_ts: str, question: str) -> None:
        """Title the thread after its first question (later questions leave the title as it is)."""
        key = (channel, thread_ts)
        title = thread_title(question)
        if key in self._titled or not title:
            return
        self._titled[key] = None
        if len(self._titled) > TITLED_THREADS:
            self._titled.popitem(last=False)
        try:
            await self._client.assistant_threads_setTitle(
                channel_id=channel, thread_ts=thread_ts, title=title
            )
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            log.info("could not title thread %s of %s: %s", thread_ts, channel, exc)
