"""The Discord rate budgets every reply and notice draws on, tuned by Discord's own headers
(docs/architecture.md §5).

Discord limits message posts and message edits per route and channel (a thread is a channel of its
own), commonly 5 in 5 s each, and says so on every answer: ``X-RateLimit-Limit`` calls per window, the
window resetting in ``X-RateLimit-Reset-After`` seconds. discord.py reads the same headers and, when a
call leaves ``Remaining: 0``, sleeps until the window resets before that call returns. So each channel has
two token buckets here (posts, edits), shared by every reply streaming in it, and each is kept a little
under the header's limit: one permit at a time and ``limit - 1`` per window and a tenth, so the
streaming never runs a bucket dry and never waits inside discord.py on the way to the first or the final
text. Until a channel's first answer arrives, the numbers of ``[platforms.discord]`` in
``config/bot.toml`` apply.

Discord also limits all of a bot's requests together (``requests_per_second``, 50 a second; interactions
are not counted), which discord.py does not pace. One more bucket, a little under that limit, holds every
REST request back until it may go: a sliding window, so that a burst of first texts goes out at once,
with the typing indicators spread out over at most half of it.

Both are driven by an ``aiohttp.TraceConfig`` on discord.py's HTTP session (:meth:`DiscordBudgets.trace`):
a request waits for the global budget as it starts; its answer's headers retune its channel's budget. A
429 (discord.py waits it out and retries) pauses the budget it belongs to, so the other replies hold back
meanwhile.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from types import SimpleNamespace

import aiohttp

from bot.config import PlatformFacts
from bot.inbound import Budgets
from bot.streaming.budget import BudgetRegistry, EditBudget, Priority, WindowBudget
from bot.streaming.clock import Clock
from bot.streaming.protocol import ReplyLimits

log = logging.getLogger(__name__)

SLACK = 0.1
"""How much longer than Discord's window ours is: a little under the limit, whatever the network's jitter."""
MIN_WINDOW = 0.05
"""Shorter windows in the headers are the tail of one, not its length: ignored."""
MAX_CHANNELS = 10_000
"""Channels whose budgets are kept (the least recently used are forgotten beyond that)."""

_MESSAGE_ROUTE = re.compile(r"/channels/(?P<channel>\d+)/messages(?:/(?P<message>\d+))?$")
_NOT_COUNTED = re.compile(r"/(?:interactions|webhooks)/")


def tuned(limit: int, window: float) -> tuple[float, int]:
    """The (rate, burst) of a token bucket that stays under ``limit`` calls per ``window`` seconds."""
    calls = max(1, limit - 1)
    return calls / (window * (1 + SLACK)), 1


class HeaderBudget:
    """A channel's bucket for one route: an ``EditBudget`` retuned from the headers Discord sends."""

    def __init__(self, rate: float, burst: int, *, clock: Clock | None = None) -> None:
        self._budget = EditBudget(rate, burst, clock=clock)
        self._limit = 0
        self._window = 0.0

    @property
    def rate(self) -> float:
        return self._budget.rate

    @property
    def burst(self) -> int:
        return self._budget.burst

    async def acquire(self, priority: Priority) -> None:
        await self._budget.acquire(priority)

    async def pause(self, seconds: float) -> None:
        await self._budget.pause(seconds)

    def observe(self, limit: int, reset_after: float) -> None:
        """What a successful answer on the route said: ``limit`` calls, the window ends in ``reset_after``.

        The window's length is the longest ``reset_after`` seen (the first call of a window sees all of it).
        """
        window = max(self._window, reset_after)
        if limit < 1 or window < MIN_WINDOW or (limit, window) == (self._limit, self._window):
            return
        self._limit, self._window = limit, window
        rate, burst = tuned(limit, window)
        self._budget.update(rate=rate, burst=burst)
        log.debug("budget tuned to %d per %.2f s: %.3f/s, burst %d", limit, window, rate, burst)


def global_budget(per_second: int, *, clock: Clock | None = None) -> WindowBudget:
    """At most nine tenths of ``per_second`` requests in any second and a tenth (Discord counts a request
    when it arrives); typing indicators get at most half of them, so that when many answers start at once
    their first texts are not held back by the indicators (which stop when the text is posted)."""
    limit = max(1, per_second * 9 // 10)
    return WindowBudget(limit, 1.0, reserve=limit // 2, margin=SLACK, clock=clock)


class DiscordBudgets:
    def __init__(self, facts: PlatformFacts, *, clock: Clock | None = None) -> None:
        self.limits = ReplyLimits(facts.max_message_chars, facts.edit_interval_seconds, placeholder=False)
        per_second = facts.requests_per_second
        self.requests = None if per_second is None else global_budget(per_second, clock=clock)
        """All REST requests but interactions (None: not limited)."""
        self._edits: BudgetRegistry[HeaderBudget] = BudgetRegistry(
            lambda channel: HeaderBudget(facts.edits_per_minute / 60, facts.edit_burst, clock=clock),
            max_size=MAX_CHANNELS,
        )
        self._posts: BudgetRegistry[HeaderBudget] = BudgetRegistry(
            lambda channel: HeaderBudget(facts.posts_per_second, 1, clock=clock), max_size=MAX_CHANNELS
        )

    def edits(self, channel_id: str) -> HeaderBudget:
        """Message edits in one channel (or thread)."""
        return self._edits.get(channel_id)

    def posts(self, channel_id: str) -> HeaderBudget:
        """Messages posted in one channel (or thread)."""
        return self._posts.get(channel_id)

    def for_channel(self, channel_id: str) -> Budgets:
        """The budgets of a reply in ``channel_id``."""
        return Budgets(edits=self.edits(channel_id), posts=self.posts(channel_id))

    def trace(self) -> aiohttp.TraceConfig:
        """An ``http_trace`` for discord.py's client that feeds the headers of its answers to the budgets."""
        config = aiohttp.TraceConfig()
        config.on_request_start.append(self._on_request_start)
        config.on_request_end.append(self._on_request_end)
        return config

    async def _on_request_start(
        self,
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        await self.admit(params.url.path)

    async def admit(self, path: str) -> None:
        """Wait until the global budget lets a request to ``path`` go (REST only: not the gateway, files
        on the CDN or interactions)."""
        if self.requests is None or "/api/" not in path or _NOT_COUNTED.search(path):
            return
        await self.requests.acquire(Priority.MIDDLE if path.endswith("/typing") else Priority.FIRST)

    async def _on_request_end(
        self, session: aiohttp.ClientSession, context: SimpleNamespace, params: aiohttp.TraceRequestEndParams
    ) -> None:
        response = params.response
        await self.observe(params.method, params.url.path, response.status, response.headers)

    async def observe(self, method: str, path: str, status: int, headers: Mapping[str, str]) -> None:
        """Tune (or, on a 429, pause) the budget of the route of one answered request."""
        if status == 429 and _is_global(headers):
            if self.requests is not None:
                await self.requests.pause(_seconds(headers))
            return
        match = _MESSAGE_ROUTE.search(path)
        if match is None:
            return
        method = method.upper()
        if method == "PATCH" and match["message"] is not None:
            budget = self.edits(match["channel"])
        elif method == "POST" and match["message"] is None:
            budget = self.posts(match["channel"])
        else:
            return
        try:
            if status == 429:
                await budget.pause(_seconds(headers))
                return
            if 200 <= status < 300 and "X-RateLimit-Limit" in headers:
                budget.observe(int(headers["X-RateLimit-Limit"]), float(headers["X-RateLimit-Reset-After"]))
        except (KeyError, ValueError) as exc:
            log.debug("unreadable rate-limit headers on %s %s: %s", method, path, exc)


def _is_global(headers: Mapping[str, str]) -> bool:
    return headers.get("X-RateLimit-Global", "").lower() == "true"


def _seconds(headers: Mapping[str, str]) -> float:
    """How long a 429 asks to wait: its bucket's reset, else ``Retry-After``."""
    return float(headers.get("X-RateLimit-Reset-After") or headers.get("Retry-After") or 1.0)
