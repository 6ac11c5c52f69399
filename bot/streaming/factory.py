"""Where a front end gets its rate budgets from: in-process ones, or ones shared by every instance.

A front end asks for the budget of a bucket by a name that is unique for what the platform limits together
(``slack:edits:T123`` for a Slack workspace's ``chat.update``); it keeps the budget it gets (e.g. in a
``BudgetRegistry``). ``LocalBudgets`` makes ``WindowBudget``/``EditBudget`` objects, which count only this
process's calls; ``bot.coordination.budget_redis.RedisBudgets`` makes budgets counted in Redis, so several
instances together stay under one platform limit.
"""

from __future__ import annotations

from typing import Protocol

from bot.streaming.budget import Budget, EditBudget, WindowBudget


class BudgetFactory(Protocol):
    def window(
        self, name: str, limit: int, window: float, *, reserve: int = 0, margin: float = 0.0
    ) -> Budget:
        """At most ``limit`` permits in any ``window`` seconds, with ``WindowBudget``'s priorities."""
        ...

    def rate(self, name: str, rate: float, burst: int = 1) -> Budget:
        """About ``rate`` permits a second, at most ``burst`` at once."""
        ...


class LocalBudgets:
    """Budgets of this process only (one instance)."""

    def window(
        self, name: str, limit: int, window: float, *, reserve: int = 0, margin: float = 0.0
    ) -> Budget:
        return WindowBudget(limit, window, reserve=reserve, margin=margin)

    def rate(self, name: str, rate: float, burst: int = 1) -> Budget:
        return EditBudget(rate=rate, burst=burst)
