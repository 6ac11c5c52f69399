"""The per-user sliding window and the words of the limit notices."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.coordination.ratelimit import LocalRateLimiter
from bot.limits import budget_text, rate_text, size_text


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_window_slides_and_a_refused_hit_is_not_counted() -> None:
    clock = Clock()
    limiter = LocalRateLimiter(clock)
    for second in range(10):
        clock.now = 1000.0 + second
        assert await limiter.hit("u1", 10, 60) is None
    clock.now = 1030.0
    assert await limiter.hit("u1", 10, 60) == pytest.approx(30.0)  # the first hit leaves at 1060
    assert await limiter.hit("u2", 10, 60) is None  # another key has its own window
    clock.now = 1059.5
    assert await limiter.hit("u1", 10, 60) == pytest.approx(0.5)
    clock.now = 1060.0
    assert await limiter.hit("u1", 10, 60) is None  # refused hits did not extend the wait
    assert await limiter.hit("u1", 10, 60) == pytest.approx(1.0)  # the second hit leaves at 1061


async def test_a_limit_below_one_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        await LocalRateLimiter().hit("u1", 0, 60)


def test_the_notices_say_what_happened_and_when_to_try_again() -> None:
    assert "try again in 1 second." in rate_text(10, 0.2)
    assert "try again in 31 seconds." in rate_text(10, 30.4)
    assert "up to 10 a minute" in rate_text(10, 5)
    text = size_text(12345, 4000)
    assert "12,345 characters" in text and "up to 4,000" in text and "shorten" in text
    assert "resets at 00:00 UTC, in 5 h 13 min" in budget_text(
        timedelta(hours=5, minutes=12, seconds=5), "slack"
    )
    assert budget_text(timedelta(seconds=30), "discord").startswith("This server has used")
    assert "in 1 min" in budget_text(timedelta(seconds=30))
