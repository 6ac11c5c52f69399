"""Which workspaces the bot still works for: ``app_uninstalled`` and ``tokens_revoked`` end the work there.

When a workspace removes the app (``app_uninstalled``) or its bot token is revoked (``tokens_revoked``
listing bot users), the token no longer works there. From then on the front end makes no call for that
workspace: new messages, clicks, commands and Home tabs there are ignored, and the answers in progress
there are cancelled, their streams sending nothing more (:class:`Halted`), so nothing fails against a dead
token and nothing is logged for each of them. The stop is logged once per workspace. It lasts for the
process: after a restart with the same token, ``auth.test`` refuses it and the start stops with one line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from bot.streaming.protocol import Footer, MessageRef, Progress, ReplyLimits, ReplyStream

log = logging.getLogger(__name__)

ABANDONED = "abandoned"
"""The ref of a message a halted stream did not post."""


class Installations:
    """The workspaces the bot has stopped working for, and the answers running in each workspace."""

    def __init__(self) -> None:
        self._stopped: set[str] = set()
        self._running: dict[str, set[asyncio.Task[None]]] = {}

    def active(self, team_id: str | None) -> bool:
        return team_id is None or team_id not in self._stopped

    def track(self, team_id: str, task: asyncio.Task[None]) -> None:
        """Remember ``task`` as work for ``team_id`` until it ends (it is cancelled if the team stops)."""
        running = self._running.setdefault(team_id, set())
        running.add(task)

        def forget(done: asyncio.Task[None]) -> None:
            running.discard(done)
            if not running and self._running.get(team_id) is running:
                del self._running[team_id]

        task.add_done_callback(forget)

    def stop(self, team_id: str, why: str) -> None:
        """Stop all work for ``team_id`` (once: a second event for it changes nothing)."""
        if team_id in self._stopped:
            return
        self._stopped.add(team_id)
        running = self._running.pop(team_id, set())
        for task in running:
            task.cancel()
        log.warning(
            "Slack workspace %s: %s; no more calls for it, %d answer(s) in progress abandoned",
            team_id,
            why,
            len(running),
        )


def revoked_bot_tokens(event: Mapping[str, Any]) -> bool:
    """Whether a ``tokens_revoked`` event takes back bot tokens (user tokens alone do not stop the bot)."""
    tokens = event.get("tokens")
    return isinstance(tokens, Mapping) and bool(tokens.get("bot"))


class StreamWithProgress(ReplyStream, Progress, Protocol):
    """A reply stream that is its thread's sign of progress too (Slack's thread status)."""


class Halted:
    """A reply stream that sends nothing once its workspace has stopped: what the cancelled answer would
    still settle (its interrupted notice) is dropped instead of failing against a revoked token."""

    def __init__(self, stream: StreamWithProgress, installations: Installations, team_id: str) -> None:
        self._stream = stream
        self._installations = installations
        self._team = team_id

    @property
    def limits(self) -> ReplyLimits:
        return self._stream.limits

    async def post(self, text: str, footer: Footer | None = None) -> MessageRef:
        if not self._installations.active(self._team):
            return ABANDONED
        return await self._stream.post(text, footer)

    async def edit(self, ref: MessageRef, text: str, footer: Footer | None = None) -> None:
        if self._installations.active(self._team) and ref != ABANDONED:
            await self._stream.edit(ref, text, footer)

    async def show_progress(self, tool: str | None, subject: str | None = None) -> None:
        if self._installations.active(self._team):
            await self._stream.show_progress(tool, subject)

    async def clear_progress(self) -> None:
        if self._installations.active(self._team):
            await self._stream.clear_progress()
