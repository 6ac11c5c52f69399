"""The Slack rate budgets every reply and notice draws on (docs/architecture.md §5).

``chat.update`` is limited per workspace per minute, so one ``WindowBudget`` per workspace is shared by
every reply streaming there; ``chat.postMessage`` is limited per channel, so one token bucket per channel.
The numbers come from ``[platforms.slack]`` in ``config/bot.toml``. The budgets come from the core's
``BudgetFactory``: in-process ones, or (``REDIS_URL``) ones counted in Redis, so that several instances
serving one workspace share Slack's limits instead of each using all of them.
"""

from __future__ import annotations

from bot.config import PlatformFacts
from bot.inbound import Budgets
from bot.streaming.budget import Budget, BudgetRegistry
from bot.streaming.factory import BudgetFactory, LocalBudgets
from bot.streaming.protocol import ReplyLimits

WINDOW = 60.0
MARGIN = 1.0
"""Seconds an edit keeps counting beyond the minute: Slack counts a call when it arrives."""


class SlackBudgets:
    def __init__(self, facts: PlatformFacts, factory: BudgetFactory | None = None) -> None:
        self.limits = ReplyLimits(facts.max_message_chars, facts.edit_interval_seconds)
        limit = max(1, int(facts.edits_per_minute))
        make = factory or LocalBudgets()
        self._edits: BudgetRegistry[Budget] = BudgetRegistry(
            lambda team: make.window(
                f"slack:edits:{team}",
                limit,
                WINDOW,
                reserve=min(facts.edit_reserve, limit - 1),
                margin=MARGIN,
            )
        )
        self._posts: BudgetRegistry[Budget] = BudgetRegistry(
            lambda channel: make.rate(f"slack:posts:{channel}", facts.posts_per_second, burst=1)
        )

    def posts(self, channel_id: str) -> Budget:
        """``chat.postMessage`` in one channel."""
        return self._posts.get(channel_id)

    def for_reply(self, team_id: str, channel_id: str) -> Budgets:
        """The budgets of a reply in ``channel_id`` of workspace ``team_id``."""
        return Budgets(edits=self._edits.get(team_id), posts=self.posts(channel_id))
