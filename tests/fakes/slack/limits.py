"""Slack's limits (:class:`SlackLimits`), a hand-stepped clock, and the rate limiters of the Web API."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .args import _ApiError, _opt_str

if TYPE_CHECKING:
    from .state import JSON


# --------------------------------------------------------------------------------------------------
# configuration and clock


@dataclass
class SlackLimits:
    """Slack's limits as the fake enforces them; mutable, so a test may tighten them mid-run."""

    post_message_per_second: float = 1.0
    """Sustained ``chat.postMessage`` rate per channel."""
    post_message_burst: int = 2
    """How many posts one channel may take at once before the per-second rate applies."""
    update_limit: int = 50
    """``chat.update`` calls allowed per ``update_window`` for the whole workspace."""
    update_window: float = 60.0
    replies_limit: int | None = None
    """``conversations.replies`` calls per ``replies_window`` (None: unlimited; 1 for some app types)."""
    replies_window: float = 60.0
    max_text_chars: int = 4000
    """Longer ``text`` gets ``msg_too_long``."""
    max_section_text_chars: int = 3000
    max_section_field_chars: int = 2000
    max_header_text_chars: int = 150
    max_blocks: int = 50

    @classmethod
    def relaxed(cls) -> SlackLimits:
        """Limits no ordinary test reaches (message size limits stay real)."""
        return cls(post_message_per_second=1000.0, post_message_burst=1000, update_limit=1_000_000)


class ManualClock:
    """A clock for the rate limiters that moves only when told: ``FakeSlack(clock=clock)``."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RateLimits:
    """The rate limits of :class:`SlackLimits`, applied per method before its handler runs."""

    @property
    def rate_limited_count(self) -> int:
        """How many 429 answers were served (by the limiters or injected)."""
        return self._rate_limited

    # ---------------------------------------------------------------- rate limits

    def _ratelimited(self, wait: float) -> _ApiError:
        retry_after = max(1, math.ceil(wait - 1e-9))
        return _ApiError("ratelimited", status=429, headers={"Retry-After": str(retry_after)})

    def _sliding_window(self, times: deque[float], limit: int, window: float, now: float) -> None:
        while times and times[0] <= now - window:
            times.popleft()
        if len(times) >= limit:
            raise self._ratelimited(times[0] + window - now)
        times.append(now)

    def _check_rate_limit(self, method: str, args: JSON) -> None:
        now = self._clock()
        limits = self.limits
        if method == "chat.postMessage":
            target = self._find_post_target(_opt_str(args, "channel") or "")
            key = target.id if target is not None else (_opt_str(args, "channel") or "")
            rate, burst = limits.post_message_per_second, max(1, limits.post_message_burst)
            tokens, last = self._post_buckets.get(key, (float(burst), now))
            tokens = min(float(burst), tokens + (now - last) * rate)
            if tokens < 1.0:
                self._post_buckets[key] = (tokens, now)
                raise self._ratelimited((1.0 - tokens) / rate)
            self._post_buckets[key] = (tokens - 1.0, now)
        elif method == "chat.update":
            channel = self.channels.get(_opt_str(args, "channel") or "")
            team = (channel.team_id if channel is not None else None) or self.team_id
            times = self._update_times.setdefault(team, deque())
            self._sliding_window(times, limits.update_limit, limits.update_window, now)
        elif method == "conversations.replies" and limits.replies_limit is not None:
            self._sliding_window(self._replies_times, limits.replies_limit, limits.replies_window, now)
