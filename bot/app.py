"""The composition root: builds the running bot from settings. The only core module that knows the
concrete tools and outside-service clients."""

from __future__ import annotations

import logging

from bot.agent import Agent, AgentOptions
from bot.circuit import CircuitBreaker
from bot.config import load_bot_config
from bot.errors import ConfigError
from bot.escalations import EscalationNotifiers
from bot.fallback import FallbackResponder
from bot.kb import KnowledgeBase
from bot.llm import LLM, AnthropicLLM
from bot.locks import LocalThreadLocks
from bot.orders import OrderBackend, SqliteOrderBackend
from bot.runtime import App
from bot.service import SupportService
from bot.settings import Settings
from bot.store.open import open_store
from bot.tooling import ToolBox
from integrations.orders_http import HttpOrderBackend
from tools.escalation import EscalateToHuman
from tools.kb import SearchKb
from tools.orders import ListMyOrders, LookupOrder

log = logging.getLogger(__name__)


def build_llm(settings: Settings) -> LLM | None:
    if settings.anthropic_api_key is None:
        return None
    return AnthropicLLM.from_key(
        settings.anthropic_api_key.get_secret_value(),
        base_url=settings.anthropic_base_url,
        max_retries=settings.model_max_retries,
        timeout=settings.model_timeout_seconds,
    )


async def open_orders(settings: Settings) -> OrderBackend:
    if settings.orders_api_url:
        token = settings.orders_api_token.get_secret_value() if settings.orders_api_token else None
        return HttpOrderBackend(settings.orders_api_url, token)
    if not settings.demo_orders_path.exists():
        raise ConfigError(f"DEMO_ORDERS_PATH: {settings.demo_orders_path} does not exist")
    return await SqliteOrderBackend.open(settings.orders_db_path, seed=settings.demo_orders_path)


async def build_app(settings: Settings, *, llm: LLM | None = None) -> App:
    """Everything the front ends need. ``llm`` overrides the client built from the settings (tests)."""
    config = load_bot_config(settings.bot_config_path)
    try:
        system_prompt = settings.system_prompt_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"SYSTEM_PROMPT_PATH: {settings.system_prompt_path} does not exist") from None
    if not settings.kb_path.is_dir():
        raise ConfigError(f"KB_PATH: {settings.kb_path} is not a folder of Markdown articles")
    kb = KnowledgeBase(settings.kb_index_path, settings.kb_path)
    report = await kb.aensure_index()
    log.info("knowledge base: %s", report)
    store = await open_store(settings.database_url)
    orders = await open_orders(settings)
    notifiers = EscalationNotifiers()
    toolbox = ToolBox(
        [LookupOrder(orders), ListMyOrders(orders), SearchKb(kb), EscalateToHuman(notifiers)],
        store,
        timeout=config.agent.tool_timeout_seconds,
    )
    model = llm if llm is not None else build_llm(settings)
    agent = Agent(
        llm=model,
        toolbox=toolbox,
        system_prompt=system_prompt,
        options=AgentOptions(
            model=settings.answer_model,
            max_tokens=settings.answer_max_tokens,
            max_tool_rounds=config.agent.max_tool_rounds,
        ),
        config=config,
        fallback=FallbackResponder(toolbox),
        breaker=CircuitBreaker(),
    )
    service = SupportService(
        store=store, agent=agent, locks=LocalThreadLocks(), history_turns=config.agent.history_turns
    )
    return App(settings, config, store, kb, orders, toolbox, agent, service, notifiers, model)
