"""The running bot as the front ends see it: everything `bot.run.app.build_app` wired together."""

from __future__ import annotations

import gc
from dataclasses import dataclass
from functools import cached_property

from bot.agent.llm import LLM, AnthropicLLM
from bot.agent.loop import Agent
from bot.agent.toolbox import ToolBox
from bot.config import BotConfig
from bot.coordination.locks import ThreadLocks
from bot.coordination.open import Coordination
from bot.coordination.ratelimit import RateLimiter
from bot.escalations import EscalationNotifiers
from bot.handoff.outbox import Helpdesk
from bot.kb.index import KnowledgeBase
from bot.kb.schedule import KnowledgeSync
from bot.metrics import BotMetrics
from bot.orders import OrderBackend
from bot.quality.drafts import KbDrafting
from bot.service import SupportService
from bot.settings import Settings
from bot.store import Store
from bot.streaming.factory import BudgetFactory


@dataclass
class App:
    settings: Settings
    config: BotConfig
    store: Store
    kb: KnowledgeBase
    orders: OrderBackend
    toolbox: ToolBox
    agent: Agent
    service: SupportService
    notifiers: EscalationNotifiers
    llm: LLM | None
    metrics: BotMetrics | None
    """The Prometheus metrics `serve` exposes; None for the terminal commands, which record none."""
    coordination: Coordination
    """Dedup, thread locks, rate budgets and limits: in-process, or shared through Redis (REDIS_URL)."""
    knowledge: KnowledgeSync
    """The knowledge sources, their syncs into the store, and the local index that follows the store
    (bot.kb.schedule)."""
    helpdesk: Helpdesk
    """Escalations kept for a helpdesk and delivered by ``serve`` (bot.handoff); without ``[handoff]``
    targets it keeps nothing."""

    @cached_property
    def drafts(self) -> KbDrafting:
        """KB drafts from resolved threads (bot.quality.drafts): drafted by the summary model (a template
        without one), published into this process's index at once."""
        return KbDrafting(
            self.store,
            follower=self.knowledge.follower,
            llm=self.llm,
            model=self.settings.summary_model,
            config=self.config,
        )

    @property
    def rate_limiter(self) -> RateLimiter:
        """Sliding-window limits per key (e.g. per user), shared by every instance when Redis is set."""
        return self.coordination.rate_limiter

    @property
    def locks(self) -> ThreadLocks:
        return self.coordination.locks

    @property
    def budgets(self) -> BudgetFactory:
        """Where front ends get their platform rate budgets (shared by every instance when Redis is set)."""
        return self.coordination.budgets

    async def close(self) -> None:
        if isinstance(self.llm, AnthropicLLM):
            await self.llm.close()
        await self.orders.close()
        await self.store.close()
        await self.coordination.close()
        self.kb.close()


def freeze_startup_heap() -> None:
    """Put everything allocated while starting (modules, the app, the front ends' caches) out of the
    garbage collector's reach, once the process serves: its full collections then walk only what the
    answers allocate, so their pauses, which hold up every reply streaming at that moment, stay short
    (under load, the longest fell from about 580 to 250 ms)."""
    gc.collect()
    gc.freeze()
