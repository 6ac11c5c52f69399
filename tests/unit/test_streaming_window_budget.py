"""WindowBudget on virtual time: a per-minute limit usable at once by first and final texts."""

from __future__ import annotations

import asyncio

import pytest

from bot.streaming.budget import Priority, WindowBudget
from tests.recording_stream import FakeClock


async def _grant_times(clock: FakeClock, budget: WindowBudget, priorities: list[Priority]) -> list[float]:
    times: list[float] = []

    async def one(priority: Priority) -> None:
        await budget.acquire(priority)
        times.append(clock.monotonic())

    await asyncio.gather(*(one(p) for p in priorities))
    return times


async def test_first_texts_use_the_whole_window_at_once_then_wait_for_it_to_slide() -> None:
    clock = FakeClock()
    budget = WindowBudget(5, 60.0, reserve=2, margin=1.0, clock=clock)
    times = await _grant_times(clock, budget, [Priority.FIRST] * 5 + [Priority.FINAL] * 2)
    assert times == pytest.approx([0.0] * 5 + [61.0, 61.0])


async def test_middle_edits_stay_under_the_reserve_and_are_spread_over_the_window() -> None:
    clock = FakeClock()
    budget = WindowBudget(5, 60.0, reserve=2, clock=clock)
    times = await _grant_times(clock, budget, [Priority.MIDDLE] * 4)
    # limit - reserve = 3 in any window, one every 60 / 3 = 20 s; the fourth waits for the first to leave.
    assert times == pytest.approx([0.0, 20.0, 40.0, 60.0])


async def test_the_reserve_stays_free_for_first_and_final_texts() -> None:
    clock = FakeClock()
    budget = WindowBudget(4, 60.0, reserve=2, clock=clock)
    await _grant_times(clock, budget, [Priority.MIDDLE] * 2)  # t = 0 and 30: the middle share is used
    assert clock.monotonic() == pytest.approx(30.0)
    times = await _grant_times(clock, budget, [Priority.FINAL, Priority.FIRST])
    assert times == pytest.approx([30.0, 30.0])


async def test_a_full_window_serves_final_then_first_then_middle() -> None:
    clock = FakeClock()
    budget = WindowBudget(2, 10.0, clock=clock)
    await _grant_times(clock, budget, [Priority.FIRST] * 2)
    served: list[str] = []

    async def wait(name: str, priority: Priority) -> None:
        await budget.acquire(priority)
        served.append(name)

    arrivals = [("middle", Priority.MIDDLE), ("first", Priority.FIRST), ("final", Priority.FINAL)]
    await asyncio.gather(*(wait(name, priority) for name, priority in arrivals))
    assert served == ["final", "first", "middle"]
    assert clock.monotonic() == pytest.approx(20.0)


async def test_a_waiter_that_may_go_sooner_is_not_held_by_the_timer_of_a_later_one() -> None:
    clock = FakeClock()
    budget = WindowBudget(4, 30.0, reserve=1, clock=clock)
    await budget.acquire(Priority.MIDDLE)
    middle = asyncio.create_task(budget.acquire(Priority.MIDDLE))  # spacing 30 / 3: t = 10
    await asyncio.sleep(0)
    final = asyncio.create_task(budget.acquire(Priority.FINAL))
    await final
    assert clock.monotonic() == 0.0
    await middle
    assert clock.monotonic() == pytest.approx(10.0)


async def test_pause_holds_every_priority() -> None:
    clock = FakeClock()
    budget = WindowBudget(50, 60.0, clock=clock)
    await budget.pause(3.0)
    times = await _grant_times(clock, budget, [Priority.FINAL, Priority.FIRST])
    assert times == pytest.approx([3.0, 3.0])


async def test_cancelled_waiters_take_no_permit_and_granted_ones_give_it_back() -> None:
    clock = FakeClock()
    budget = WindowBudget(1, 10.0, clock=clock)
    await budget.acquire(Priority.FIRST)
    leaver = asyncio.create_task(budget.acquire(Priority.FINAL))
    granted_then_gone = asyncio.create_task(budget.acquire(Priority.FIRST))
    stayer = asyncio.create_task(budget.acquire(Priority.MIDDLE))
    for _ in range(3):
        await asyncio.sleep(0)
    leaver.cancel()
    await clock.sleep(10.0)  # the window slides: the permit goes to ``granted_then_gone``, not run yet
    granted_then_gone.cancel()
    await stayer
    assert clock.monotonic() == pytest.approx(10.0)
    assert leaver.cancelled() and granted_then_gone.cancelled()


@pytest.mark.parametrize(
    ("limit", "window", "reserve", "margin"),
    [(0, 60.0, 0, 0.0), (5, 0.0, 0, 0.0), (5, 60.0, 5, 0.0), (5, 60.0, 0, -1.0)],
)
def test_a_window_budget_checks_its_numbers(limit: int, window: float, reserve: int, margin: float) -> None:
    with pytest.raises(ValueError, match="window budget"):
        WindowBudget(limit, window, reserve=reserve, margin=margin, clock=FakeClock())


async def test_replies_streaming_keep_a_permit_each_for_their_final_text() -> None:
    """Five replies stream on a window of five: their middle edits give way, so every final text is shown
    at once when it comes instead of waiting for the window to slide."""
    clock = FakeClock()
    budget = WindowBudget(5, 60.0, reserve=1, clock=clock)
    holds = [budget.holding_final() for _ in range(5)]
    for hold in holds:
        await hold.__aenter__()
    middle = asyncio.ensure_future(budget.acquire(Priority.MIDDLE))
    await clock.sleep(10.0)
    assert not middle.done()  # five grants and five holds: no room for a streaming edit
    assert await _grant_times(clock, budget, [Priority.FINAL] * 5) == pytest.approx([10.0] * 5)
    for hold in holds[:4]:
        await hold.__aexit__(None, None, None)
    await clock.sleep(0)
    assert not middle.done()  # the window is full (five finals), and one reply still holds
    await holds[4].__aexit__(None, None, None)
    await middle
    assert clock.monotonic() == pytest.approx(70.0)  # once the finals left the window


async def test_one_reply_alone_streams_at_its_own_pace_until_a_quarter_of_the_share_is_used() -> None:
    clock = FakeClock()
    budget = WindowBudget(50, 60.0, reserve=10, clock=clock)
    async with budget.holding_final():
        times = await _grant_times(clock, budget, [Priority.MIDDLE] * 12)
    # 40 middle permits a minute: the first 10 whenever asked (the reply's own interval paces them), the
    # rest spread over the minute, one every 1.5 s.
    assert times == pytest.approx([0.0] * 10 + [1.5, 3.0])
