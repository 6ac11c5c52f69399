"""The limits of ``config/bot.toml`` ``[limits]`` and the notices that tell a person about them.

- the size of a message (``max_input_chars``): a longer one is not read, and is cut to the limit in the
  history of later answers;
- the per-user rate (``messages_per_user_per_minute``), through the (maybe shared) rate limiter; every
  message counts, limited ones too;
- the space's daily token budget (``daily_tokens_per_space``), read from the store's usage rows.

Leads may be exempt from the rate and the budget (``leads_exempt``). A person is told about a limit once
per window (see :meth:`LimitsPolicy.first_notice`): a flood of messages costs one notice. The service
(``bot.service``) asks this policy and posts the notice.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

from bot.config import Limits
from bot.coordination.ratelimit import LocalRateLimiter, RateLimiter
from bot.inbound import Inbound
from bot.store import UsageLog
from bot.types import Principal, ThreadRef, Turn

log = logging.getLogger(__name__)

LimitKind = Literal["size", "rate", "budget"]

RATE_WINDOW_SECONDS = 60.0
SIZE_NOTICE_SECONDS = 30.0
"""A person is told about the size limit at most once in this many seconds (their next long messages
within it get no reply at all)."""
BUDGET_RECHECK_SECONDS = 5.0
"""How stale a space's token count may be: the daily budget may be overrun by a few seconds of answers."""


@dataclass(frozen=True)
class LimitNotice:
    kind: LimitKind
    text: str


class LimitsPolicy:
    """Which limit, if any, a message runs into; ``limits`` None: none (every message is answered)."""

    def __init__(
        self,
        store: UsageLog,
        limits: Limits | None,
        *,
        rate_limiter: RateLimiter | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """The per-user rate is applied only with a ``rate_limiter``; the notices are counted through it
        too (in process without one), so every instance that shares it tells a person once."""
        self._store = store
        self._limits = limits
        self._rate_limiter = rate_limiter
        self._told = rate_limiter or LocalRateLimiter()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._space_tokens: dict[str, tuple[float, datetime, int]] = {}

    def _exempt(self, principal: Principal) -> bool:
        return self._limits is not None and self._limits.leads_exempt and principal.is_lead

    async def on_arrival(self, message: Inbound) -> LimitNotice | None:
        """The per-user rate (every message counts, limited ones too), then the size of the message."""
        limits = self._limits
        if limits is None:
            return None
        if self._rate_limiter is not None and not self._exempt(message.principal):
            per_minute = limits.messages_per_user_per_minute
            key = f"messages:{message.principal.platform}:{message.principal.user_id}"
            wait = await self._rate_limiter.hit(key, per_minute, RATE_WINDOW_SECONDS)
            if wait is not None:
                return LimitNotice("rate", rate_text(per_minute, wait))
        if len(message.text) > limits.max_input_chars:
            return LimitNotice("size", size_text(len(message.text), limits.max_input_chars))
        return None

    def tokens_wanted(self, message: Inbound) -> datetime | None:
        """Since when :meth:`daily_budget` needs the space's tokens read from the store (today's midnight,
        UTC), so that the service reads them in a trip it makes anyway; None: not needed (no limits, an
        exempt lead, or a count read less than ``BUDGET_RECHECK_SECONDS`` ago)."""
        if self._limits is None or self._exempt(message.principal):
            return None
        midnight = self._midnight()
        cached = self._space_tokens.get(message.ref.space_key)
        if (
            cached is not None
            and cached[1] == midnight
            and time.monotonic() - cached[0] < BUDGET_RECHECK_SECONDS
        ):
            return None
        return midnight

    def _midnight(self) -> datetime:
        return self._clock().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)

    async def daily_budget(
        self, message: Inbound, counted: tuple[datetime, int | None] | None = None
    ) -> LimitNotice | None:
        """The space's daily token budget; the service checks it with the thread's lock held (after the
        answer before). ``counted``: the midnight :meth:`tokens_wanted` gave and the space's tokens since
        then, just read by the caller (else they are read here when due)."""
        limits = self._limits
        if limits is None or self._exempt(message.principal):
            return None
        now = self._clock().astimezone(UTC)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        ref = message.ref
        if counted is not None and counted[0] == midnight and counted[1] is not None:
            self._space_tokens[ref.space_key] = (time.monotonic(), midnight, counted[1])
        used = await self._tokens_since(ref, midnight)
        if used < limits.daily_tokens_per_space:
            return None
        log.info("%s: daily token budget used (%d of %d)", ref.space_key, used, limits.daily_tokens_per_space)
        return LimitNotice("budget", budget_text(midnight + timedelta(days=1) - now, ref.platform))

    async def _tokens_since(self, ref: ThreadRef, midnight: datetime) -> int:
        """The space's tokens today, read from the store at most every ``BUDGET_RECHECK_SECONDS``."""
        now = time.monotonic()
        cached = self._space_tokens.get(ref.space_key)
        if cached is not None and cached[1] == midnight and now - cached[0] < BUDGET_RECHECK_SECONDS:
            return cached[2]
        used = await self._store.tokens_used_since(ref.platform, ref.space_id, midnight)
        self._space_tokens[ref.space_key] = (now, midnight, used)
        return used

    async def first_notice(self, message: Inbound, notice: LimitNotice) -> bool:
        """True for the first notice of its kind to the asker in its window, on any instance: the rate
        window, ``SIZE_NOTICE_SECONDS`` for the size, the day (UTC) for the space's daily budget."""
        who = f"{message.principal.platform}:{message.principal.user_id}"
        if notice.kind == "budget":
            now = self._clock().astimezone(UTC)
            midnight = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
            key = f"notice:budget:{message.ref.space_key}:{who}:{now.date().isoformat()}"
            window = max(1.0, (midnight - now).total_seconds())
        else:
            key = f"notice:{notice.kind}:{who}"
            window = SIZE_NOTICE_SECONDS if notice.kind == "size" else RATE_WINDOW_SECONDS
        return await self._told.hit(key, 1, window) is None

    def clip(self, turns: list[Turn]) -> list[Turn]:
        """The users' turns over the size limit, cut to it (they were answered with a notice, not read)."""
        if self._limits is None:
            return turns
        return [_clip(turn, self._limits.max_input_chars) for turn in turns]


def size_text(length: int, limit: int) -> str:
    return (
        f"Your message is {length:,} characters long, and I can read up to {limit:,} at a time. "
        "Please shorten it to the question and the details that matter (an order number, what went wrong) "
        "and send it again."
    )


def rate_text(per_minute: int, wait_seconds: float) -> str:
    seconds = max(1, math.ceil(wait_seconds))
    unit = "second" if seconds == 1 else "seconds"
    return (
        f"You're sending messages faster than I can answer them (up to {per_minute} a minute). "
        f"Please try again in {seconds} {unit}."
    )


def budget_text(until_reset: timedelta, platform: str = "") -> str:
    space = "server" if platform == "discord" else "workspace"
    minutes = max(1, math.ceil(until_reset.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    wait = f"{hours} h {minutes} min" if hours else f"{minutes} min"
    return (
        f"This {space} has used its AI answers for today, so I can't answer right now. "
        f"The limit resets at 00:00 UTC, in {wait}; please try again then."
    )


def _clip(turn: Turn, max_chars: int) -> Turn:
    if turn.role != "user" or len(turn.text) <= max_chars:
        return turn
    return replace(turn, text=turn.text[:max_chars] + " … [cut: over the message size limit]")
