"""A notice (a one-off message) is tried again after a 429 or a server error, and given up on a refusal."""

from __future__ import annotations

import pytest

from bot.streaming.budget import EditBudget
from bot.streaming.notice import post_with_retries
from bot.streaming.protocol import DeliveryError, MessageGone, RateLimited
from bot.streaming.reply import RetryPolicy

QUICK = RetryPolicy(attempts=3, base_delay=0.0)


class Budget(EditBudget):
    """A budget that notes the pauses it is asked for."""

    def __init__(self) -> None:
        super().__init__(1000.0, 1000)
        self.pauses: list[float] = []

    async def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)


def poster(*outcomes: Exception | str) -> tuple[list[str], object]:
    tries: list[str] = []
    queue = list(outcomes)

    async def post() -> str:
        tries.append("post")
        outcome = queue.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return tries, post


async def test_a_429_pauses_the_budget_and_a_server_error_is_tried_again() -> None:
    budget = Budget()
    tries, post = poster(RateLimited(2.0), DeliveryError("HTTP 503"), "m1")
    assert await post_with_retries(post, budget, what="a notice", retry=QUICK) == "m1"  # type: ignore[arg-type]
    assert (len(tries), budget.pauses) == (3, [2.0])


async def test_a_refusal_is_given_up_at_once() -> None:
    tries, post = poster(MessageGone("gone"), "never")
    assert await post_with_retries(post, Budget(), what="a notice", retry=QUICK) is None  # type: ignore[arg-type]
    assert len(tries) == 1


async def test_the_attempts_are_bounded(caplog: pytest.LogCaptureFixture) -> None:
    tries, post = poster(*[DeliveryError("HTTP 500")] * 5)
    assert await post_with_retries(post, Budget(), what="a notice", retry=QUICK) is None  # type: ignore[arg-type]
    assert len(tries) == QUICK.attempts
    assert "a notice failed 3 times; giving up" in caplog.text
