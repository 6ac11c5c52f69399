"""The composition root: builds the running bot from settings. The only core module that knows the
concrete tools and outside-service clients."""

from __future__ import annotations

import logging
import os

from bot.agent.circuit import CircuitBreaker
from bot.agent.context import ContextBudget, ContextBuilder, Summarizer
from bot.agent.fallback import FallbackResponder
from bot.agent.llm import LLM, AnthropicLLM
from bot.agent.loop import Agent, AgentOptions
from bot.agent.toolbox import ToolBox
from bot.channels import load_channel_scopes
from bot.config import load_bot_config
from bot.coordination.open import open_coordination
from bot.errors import ConfigError
from bot.escalations import EscalationNotifiers
from bot.handoff.config import HandoffSecrets
from bot.handoff.outbox import Helpdesk
from bot.handoff.targets import open_targets
from bot.kb.follow import KnowledgeFollower
from bot.kb.index import KnowledgeBase
from bot.kb.schedule import KnowledgeSync, open_sources
from bot.kb.sources.kinds import DRAFTS_SOURCE
from bot.metrics import BotMetrics
from bot.orders import OrderBackend, SqliteOrderBackend
from bot.run.platforms import PLATFORMS
from bot.runtime import App
from bot.service import SupportService
from bot.settings import Settings
from bot.store import Store
from bot.store.open import StoreUnavailable, open_store
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
        from integrations.orders_http import HttpOrderBackend  # aiohttp: loaded only when it is used

        token = settings.orders_api_token.get_secret_value() if settings.orders_api_token else None
        return HttpOrderBackend(settings.orders_api_url, token)
    if not settings.demo_orders_path.exists():
        raise ConfigError(f"DEMO_ORDERS_PATH: {settings.demo_orders_path} does not exist")
    return await SqliteOrderBackend.open(settings.orders_db_path, seed=settings.demo_orders_path)


async def build_app(settings: Settings, *, llm: LLM | None = None, metrics: bool = True) -> App:
    """Everything the front ends need. ``llm`` overrides the client built from the settings (tests);
    ``metrics=False`` records no Prometheus metrics (the terminal commands, which serve no ``/metrics``)."""
    config = load_bot_config(settings.bot_config_path)
    handoff_secrets = HandoffSecrets.from_env(config.handoff, os.environ)
    try:
        system_prompt = settings.system_prompt_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"SYSTEM_PROMPT_PATH: {settings.system_prompt_path} does not exist") from None
    if not config.kb.sources and not settings.kb_path.is_dir():
        raise ConfigError(f"KB_PATH: {settings.kb_path} is not a folder of Markdown articles")
    sources = open_sources(config.kb, settings.kb_path, settings.bot_config_path.parent)
    channels = load_channel_scopes(  # before anything opens: a bad kb or prompt ends the start here
        config,
        config_path=settings.bot_config_path,
        prompts_dir=settings.system_prompt_path.parent,
        sources=[*(source.name for source in sources), DRAFTS_SOURCE],  # published KB drafts too
    )
    kb = KnowledgeBase(settings.kb_index_path)
    store = await _open_store(settings)
    try:
        coordination = await open_coordination(settings, store)
    except BaseException:
        await store.close()
        raise
    knowledge = KnowledgeSync(sources, store, KnowledgeFollower(kb, store), coordination.sync_claims)
    try:
        await knowledge.start()  # the folder sources synced, the local index caught up with the store
    except BaseException:
        await coordination.close()
        await store.close()
        raise
    orders = await open_orders(settings)
    recorded = BotMetrics(platforms=PLATFORMS) if metrics else None
    helpdesk = Helpdesk(
        store,
        config.handoff,
        open_targets(config.handoff, handoff_secrets),
        coordination.locks,
        inbound_secret=handoff_secrets.inbound,
        metrics=recorded,
    )
    notifiers = EscalationNotifiers(helpdesk if helpdesk.enabled else None)
    toolbox = ToolBox(
        [LookupOrder(orders), ListMyOrders(orders), SearchKb(kb), EscalateToHuman(notifiers)],
        store,
        timeout=config.agent.tool_timeout_seconds,
        metrics=recorded,
        channels=channels,
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
            max_model_calls=config.agent.max_model_calls_per_answer,
            answer_timeout=config.agent.answer_timeout_seconds,
        ),
        config=config,
        fallback=FallbackResponder(toolbox),
        breaker=CircuitBreaker(),
        channels=channels,
    )
    summarizer = None
    if model is not None:
        summarizer = Summarizer(
            model, model=settings.summary_model, max_tokens=settings.summary_max_tokens, config=config
        )
    history_budget = ContextBudget(tokens=config.agent.history_token_budget, turns=config.agent.history_turns)
    service = SupportService(
        store=store,
        agent=agent,
        locks=coordination.locks,
        dedup=coordination.dedup,
        context=ContextBuilder(store, history_budget, summarizer),
        limits=config.limits,
        rate_limiter=coordination.rate_limiter,
        metrics=recorded,
    )
    return App(
        settings,
        config,
        store,
        kb,
        orders,
        toolbox,
        agent,
        service,
        notifiers,
        model,
        recorded,
        coordination,
        knowledge,
        helpdesk,
    )


async def _open_store(settings: Settings) -> Store:
    """The store of ``DATABASE_URL``; a bad URL or an unreachable database is a one-line ``ConfigError``."""
    try:
        return await open_store(
            settings.database_url,
            pool_min_size=settings.database_pool_min_size,
            pool_max_size=settings.database_pool_max_size,
        )
    except (StoreUnavailable, ValueError) as exc:
        raise ConfigError(f"DATABASE_URL: {exc}") from None
