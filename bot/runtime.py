"""The running bot as the front ends see it: everything `bot.app.build_app` wired together."""

from __future__ import annotations

from dataclasses import dataclass

from bot.agent import Agent
from bot.config import BotConfig
from bot.escalations import EscalationNotifiers
from bot.kb import KnowledgeBase
from bot.llm import LLM, AnthropicLLM
from bot.orders import OrderBackend
from bot.service import SupportService
from bot.settings import Settings
from bot.store import Store
from bot.tooling import ToolBox


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

    async def close(self) -> None:
        if isinstance(self.llm, AnthropicLLM):
            await self.llm.close()
        await self.orders.close()
        await self.store.close()
        self.kb.close()
