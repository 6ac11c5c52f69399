"""Posting a one-off message (a notice) within a budget, tried again after a 429 or a server error.

Used for the messages that are not a streamed answer: limit notices, "something went wrong" notices, and
the escalation notices in a thread and in the leads' channel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.streaming.budget import Budget, Priority
from bot.streaming.protocol import DeliveryError, RateLimited
from bot.streaming.reply import RetryPolicy

log = logging.getLogger(__name__)

T = TypeVar("T")

NOTICE_RETRY = RetryPolicy(attempts=4)


async def post_with_retries(
    post: Callable[[], Awaitable[T]], budget: Budget, *, what: str, retry: RetryPolicy = NOTICE_RETRY
) -> T | None:
    """``post()`` within ``budget`` (first in line, as a final text is); None when it could not be posted.

    A 429 pauses the budget for its Retry-After; an error that may succeed if sent again is tried again
    after the policy's pause, up to its attempts; any other error is given up at once. Failures are
    logged as ``what`` failing; nothing is raised.
    """
    for attempt in range(1, retry.attempts + 1):
        await budget.acquire(Priority.FINAL)
        try:
            return await post()
        except RateLimited as exc:
            await budget.pause(exc.retry_after)
            continue
        except DeliveryError as exc:
            if not exc.retryable:
                log.error("%s failed: %s", what, exc)
                return None
            log.warning("%s failed (attempt %d of %d): %s", what, attempt, retry.attempts, exc)
        if attempt < retry.attempts:
            await asyncio.sleep(retry.delay(attempt))
    log.error("%s failed %d times; giving up", what, retry.attempts)
    return None
