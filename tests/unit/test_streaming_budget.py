"""EditBudget and BudgetRegistry on virtual time."""

from __future__ import annotations

import asyncio

import pytest

from bot.streaming.budget import BudgetRegistry, EditBudget, Priority
from tests.recording_stream import FakeClock


async def _grant_times(clock: FakeClock, budget: EditBudget, priorities: list[Priority]) -> list[float]:
    times: list[float] = []

    async def one(priority: Priority) -> None:
        await budget.acquire(priority)
        times.append(clock.monotonic())

    await asyncio.gather(*(one(p) for p in priorities))
    return times


async def test_permits_up_to_burst_at_once_then_at_the_rate() -> None:
    clock = FakeClock()
    budget = EditBudget(rate=2.0, burst=3, clock=clock)
    times = await _grant_times(clock, budget, [Priority.MIDDLE] * 7)
    assert times == pytest.approx([0.0, 0.0, 0.0, 0.5, 1.0, 1.5, 2.0])


async def test_unused_time_refills_up_to_burst_only() -> None:
    clock = FakeClock()
    budget = EditBudget(rate=1.0, burst=2, clock=clock)
    await _grant_times(clock, budget, [Priority.MIDDLE] * 2)
    await clock.sleep(10.0)
    times = await _grant_times(clock, budget, [Priority.MIDDLE] * 3)
    assert times == pytest.approx([10.0, 10.0, 11.0])


async def test_waiters_are_served_by_priority_then_in_arrival_order() -> None:
    clock = FakeClock()
    budget = EditBudget(rate=1.0, burst=1, clock=clock)
    await budget.acquire(Priority.MIDDLE)  # the bucket is empty now
    served: list[str] = []

    async def wait(name: str, priority: Priority) -> None:
        await budget.acquire(priority)
        served.append(name)

    arrivals = [
        ("middle-1", Priority.MIDDLE),
        ("first-1", Priority.FIRST),
        ("middle-2", Priority.MIDDLE),
        ("final", Priority.FINAL),
        ("first-2", Priority.FIRST),
    ]
    await asyncio.gather(*(wait(name, priority) for name, priority in arrivals))
    assert served == ["final", "first-1", "first-2", "middle-1", "middle-2"]
    assert clock.monotonic() == pytest.approx(5.0)


async def test_pause_holds_every_permit_for_its_duration() -> None:
    clock = FakeClock()
    budget = EditBudget(rate=10.0, burst=5, clock=clock)
    await budget.acquire(Priority.MIDDLE)
    await budget.pause(3.0)
    times = await _grant_times(clock, budget, [Priority.FINAL, Priority.MIDDLE])
    assert min(times) >= 3.0
    assert times == pytest.approx([3.1, 3.2])


async def test_a_longer_pause_during_a_pause_extends_it() -> None:
    clock = FakeClock()
    budget = EditBudget(rate=10.0, burst=1, clock=clock)
    await budget.pause(1.0)
    waiter = asyncio.create_task(budget.acquire(Priority.FINAL))
    await clock.sleep(0.5)
    await budget.pause(2.0)  # until 2.5
    await waiter
    assert clock.monotonic() == pytest.approx(2.6)


async def test_update_to_a_faster_rate_applies_to_who_already_waits() -> None:
    clock = FakeClock()
    budget = EditBudget(rate=0.1, burst=1, clock=clock)
    await budget.acquire(Priority.MIDDLE)
    waiter = asyncio.create_task(budget.acquire(Priority.MIDDLE))
    await clock.sleep(1.0)  # 0.1 of a permit earned at the old rate
    budget.update(rate=1.0, burst=5)
    await waiter
    assert clock.monotonic() == pytest.approx(1.9)
    assert (budget.rate, budget.burst) == (1.0, 5)


async def test_a_cancelled_waiter_takes_no_permit() -> None:
    clock = FakeClock()
    budget = EditBudget(rate=1.0, burst=1, clock=clock)
    await budget.acquire(Priority.MIDDLE)
    leaver = asyncio.create_task(budget.acquire(Priority.FINAL))
    stayer = asyncio.create_task(budget.acquire(Priority.MIDDLE))
    await asyncio.sleep(0)
    leaver.cancel()
    await stayer
    assert clock.monotonic() == pytest.approx(1.0)
    assert leaver.cancelled()


async def test_a_permit_granted_to_a_caller_cancelled_meanwhile_goes_to_the_next() -> None:
    clock = FakeClock()
    budget = EditBudget(rate=1.0, burst=1, clock=clock)
    await budget.acquire(Priority.MIDDLE)
    first = asyncio.create_task(budget.acquire(Priority.FIRST))
    second = asyncio.create_task(budget.acquire(Priority.MIDDLE))
    for _ in range(3):
        await asyncio.sleep(0)  # both wait now, and so does the budget's timer
    # Woken right after the timer: the permit of t=1 is granted to ``first``, which has not run yet.
    await clock.sleep(1.0)
    first.cancel()
    await second
    assert clock.monotonic() == pytest.approx(1.0)


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1), (-1.0, 1), (1.0, 0)])
def test_a_budget_needs_a_positive_rate_and_burst(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="rate > 0"):
        EditBudget(rate=rate, burst=burst, clock=FakeClock())


async def test_registry_makes_one_budget_per_key_on_first_use() -> None:
    clock = FakeClock()
    made: list[str] = []

    def factory(key: str) -> EditBudget:
        made.append(key)
        return EditBudget(rate=1.0, burst=1, clock=clock)

    registry = BudgetRegistry(factory)
    workspace = registry.get("slack:T1")
    assert registry.get("slack:T1") is workspace
    assert registry.get("slack:T2") is not workspace
    assert made == ["slack:T1", "slack:T2"]
    assert len(registry) == 2


async def test_budgets_of_different_keys_do_not_share_permits() -> None:
    clock = FakeClock()
    registry = BudgetRegistry(lambda key: EditBudget(rate=1.0, burst=1, clock=clock))
    await registry.get("a").acquire(Priority.MIDDLE)
    await registry.get("b").acquire(Priority.MIDDLE)
    assert clock.monotonic() == 0.0
