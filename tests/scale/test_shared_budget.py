"""Platform rate budgets shared by instances: ``RedisWindowBudget`` on a real Redis.

Windows here are short (a second or two) so that the tests run quickly; Redis keeps the time, so the
checks look at what was granted by when, with generous margins, never at how fast.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import pytest

from bot.config import PlatformFacts
from bot.coordination.budget_redis import RedisBudgets, RedisWindowBudget
from bot.coordination.redis_client import SharedRedis
from bot.streaming.budget import EditBudget, Priority, WindowBudget
from bot.streaming.factory import LocalBudgets
from integrations.slack.budgets import SlackBudgets


async def granted_within(tasks: list[asyncio.Task[None]], seconds: float) -> int:
    await asyncio.wait(tasks, timeout=seconds)
    return sum(1 for task in tasks if task.done())


async def test_the_limit_holds_across_instances(two_instances: tuple[SharedRedis, SharedRedis]) -> None:
    a, b = (RedisWindowBudget(shared, "slack:edits:T1", 5, 1.0) for shared in two_instances)
    tasks = [asyncio.create_task((a if n % 2 else b).acquire(Priority.FINAL)) for n in range(8)]
    assert await granted_within(tasks, 0.4) == 5  # the whole window at once, then nothing
    assert await granted_within(tasks, 5) == 8  # the rest as the first grants leave the window


async def test_middle_edits_are_spaced_and_leave_the_reserve(
    two_instances: tuple[SharedRedis, SharedRedis],
) -> None:
    a, b = (RedisWindowBudget(shared, "slack:edits:T2", 4, 2.0, reserve=2) for shared in two_instances)
    await a.acquire(Priority.MIDDLE)
    second_middle = asyncio.create_task(b.acquire(Priority.MIDDLE))  # spacing: 2 s / (4 - 2) = 1 s
    await asyncio.sleep(0.3)
    assert not second_middle.done()
    await asyncio.wait_for(second_middle, 5)
    # Two in the window: MIDDLE is at its cap (limit - reserve), on every instance ...
    third_middle = asyncio.create_task(a.acquire(Priority.MIDDLE))
    # ... while first and final texts use the reserve at once, on either instance.
    await asyncio.wait_for(asyncio.gather(b.acquire(Priority.FIRST), a.acquire(Priority.FINAL)), 0.5)
    # Four in the window: FINAL is at the limit too.
    final = asyncio.create_task(b.acquire(Priority.FINAL))
    await asyncio.sleep(0.3)
    assert not third_middle.done() and not final.done()
    await asyncio.wait_for(asyncio.gather(third_middle, final), 5)


async def test_a_pause_on_one_instance_holds_every_instance(
    two_instances: tuple[SharedRedis, SharedRedis],
) -> None:
    a, b = (RedisWindowBudget(shared, "slack:edits:T3", 50, 60.0) for shared in two_instances)
    await a.pause(0.6)  # instance A got a 429 with Retry-After
    waiting = asyncio.create_task(b.acquire(Priority.FINAL))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    await asyncio.wait_for(waiting, 5)


async def test_waiters_of_one_instance_are_served_by_priority(shared: SharedRedis) -> None:
    budget = RedisWindowBudget(shared, "slack:edits:T4", 1, 0.5)
    await budget.acquire(Priority.FIRST)
    order: list[str] = []

    async def take(priority: Priority) -> None:
        await budget.acquire(priority)
        order.append(priority.name)

    middle = asyncio.create_task(take(Priority.MIDDLE))
    await asyncio.sleep(0.05)
    final = asyncio.create_task(take(Priority.FINAL))
    await asyncio.wait_for(asyncio.gather(middle, final), 5)
    assert order == ["FINAL", "MIDDLE"]


async def test_a_cancelled_waiter_takes_no_permit(two_instances: tuple[SharedRedis, SharedRedis]) -> None:
    a, b = (RedisWindowBudget(shared, "slack:edits:T5", 2, 1.0) for shared in two_instances)
    await a.acquire(Priority.FINAL)
    await a.acquire(Priority.FINAL)
    waiters = [asyncio.create_task(a.acquire(Priority.FINAL)) for _ in range(3)]
    await asyncio.sleep(0.1)
    for waiter in waiters:
        waiter.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    # Once the two grants leave the window, both permits are free: the cancelled waiters took none.
    await asyncio.sleep(1.1)
    await asyncio.wait_for(asyncio.gather(b.acquire(Priority.FINAL), b.acquire(Priority.FINAL)), 0.5)
    grants = await two_instances[0].client.zcard(
        two_instances[0].key("budget", "{slack:edits:T5}") + ":grants"
    )
    assert grants == 2


async def test_without_redis_the_budget_counts_in_the_instance(
    dead_redis: SharedRedis, caplog: pytest.LogCaptureFixture
) -> None:
    budget = RedisWindowBudget(dead_redis, "slack:edits:T6", 2, 1.0)
    with caplog.at_level(logging.WARNING, logger="bot.coordination.budget_redis"):
        tasks = [asyncio.create_task(budget.acquire(Priority.FINAL)) for _ in range(3)]
        assert await granted_within(tasks, 0.8) == 2  # the in-process window's limit
        assert await granted_within(tasks, 10) == 3
        await budget.pause(0.1)
    assert "counting in this instance" in caplog.text


def test_the_factories_make_the_budgets_they_say(shared: SharedRedis) -> None:
    local = LocalBudgets()
    assert isinstance(local.window("w", 10, 60.0, reserve=2, margin=1.0), WindowBudget)
    assert isinstance(local.rate("r", 1.0), EditBudget)
    redis_budgets = RedisBudgets(shared)
    assert isinstance(redis_budgets.window("w", 10, 60.0, reserve=2), RedisWindowBudget)
    assert isinstance(redis_budgets.rate("r", 2.0, burst=1), RedisWindowBudget)
    with pytest.raises(ValueError, match="reserve"):
        redis_budgets.window("w", 10, 60.0, reserve=10)
    with pytest.raises(ValueError, match="rate"):
        redis_budgets.rate("r", 0.0)


def test_slack_budgets_come_from_the_factory(shared: SharedRedis) -> None:
    facts = PlatformFacts(max_message_chars=3900, edits_per_minute=50, edit_reserve=10, posts_per_second=1.0)
    shared_slack = SlackBudgets(facts, RedisBudgets(shared))
    reply = shared_slack.for_reply("T1", "C1")
    assert isinstance(reply.edits, RedisWindowBudget) and isinstance(reply.posts, RedisWindowBudget)
    assert shared_slack.for_reply("T1", "C2").edits is reply.edits  # one per workspace
    local_slack = SlackBudgets(facts)
    assert isinstance(local_slack.for_reply("T1", "C1").edits, WindowBudget)
    assert isinstance(local_slack.posts("C1"), EditBudget)


async def test_a_rate_budget_spaces_posts_across_instances(
    two_instances: tuple[SharedRedis, SharedRedis],
) -> None:
    a, b = (RedisBudgets(shared).rate("slack:posts:C9", 2.0) for shared in two_instances)  # 1 per 0.5 s
    await a.acquire(Priority.FINAL)
    second = asyncio.create_task(b.acquire(Priority.FINAL))
    await asyncio.sleep(0.2)
    assert not second.done()
    await asyncio.wait_for(second, 5)


async def test_a_better_waiter_arriving_during_a_grant_is_served_too(
    shared: SharedRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    budget = RedisWindowBudget(shared, "slack:edits:T7", 10, 1.0)
    real = shared.run_script
    late: list[asyncio.Task[None]] = []

    async def run_script(lua: str, keys: Sequence[str], args: Sequence[str | int | float]) -> Any:
        if not late:
            # A final text queues (ahead of the middle edit, by priority) while Redis decides on the edit.
            late.append(asyncio.create_task(budget.acquire(Priority.FINAL)))
            await asyncio.sleep(0)
        return await real(lua, keys, args)

    monkeypatch.setattr(shared, "run_script", run_script)
    await asyncio.wait_for(budget.acquire(Priority.MIDDLE), 5)
    await asyncio.wait_for(late[0], 5)


async def test_a_reply_streaming_on_one_instance_keeps_its_final_permit_from_the_others(
    two_instances: tuple[SharedRedis, SharedRedis],
) -> None:
    a, b = (RedisWindowBudget(shared, "slack:edits:T9", 3, 2.0) for shared in two_instances)
    async with a.holding_final(), a.holding_final():
        await b.acquire(Priority.MIDDLE)  # 1 grant + 2 holds = 3: the window's middle share is gone
        blocked = asyncio.create_task(b.acquire(Priority.MIDDLE))
        await asyncio.sleep(0.3)
        assert not blocked.done()
        # Both replies' final texts are shown at once.
        await asyncio.wait_for(asyncio.gather(a.acquire(Priority.FINAL), a.acquire(Priority.FINAL)), 0.5)
    # The replies ended and their grants leave the window: streaming edits go on.
    await asyncio.wait_for(blocked, 5)
