"""The checks of `supportbot doctor` for everything but the chat platforms: the files, the store, the
knowledge base, the orders, the model and the helpdesk outbox (``bot.doctor`` runs them)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.agent.llm import AnthropicLLM, ModelMisconfigured, ModelRejected, ModelUnavailable
from bot.config import load_bot_config
from bot.doctor import Check, Result
from bot.errors import ConfigError
from bot.orders import OrderBackendError
from bot.run.app import build_llm, open_orders
from bot.settings import Settings
from bot.store import Store
from bot.store.open import StoreUnavailable, open_store

if TYPE_CHECKING:
    from bot.kb.index import KnowledgeBase

MODEL_TIMEOUT = 10.0
PROBE_ORDER_ID = "ORD-DOCTOR-CHECK"
"""An order id no one has: the order service must answer "not found", which proves it answers."""
HANDOFF_WAIT_WARN = timedelta(minutes=15)
"""An escalation still not delivered to a helpdesk after this long: ``supportbot doctor`` warns (with the
default back-off it has failed some eight times by then)."""


def core_checks(settings: Settings) -> list[Check]:
    """The checks of everything but the chat platforms, in the order they are run."""

    async def bot_toml() -> Result:
        config = load_bot_config(settings.bot_config_path)
        channels = len(config.channels)
        return Result("ok", f"{settings.bot_config_path} is valid ({channels} channel override(s))")

    async def system_prompt() -> Result:
        path = settings.system_prompt_path
        if not path.is_file():
            return Result("fail", f"{path} does not exist", "set SYSTEM_PROMPT_PATH to the prompt file")
        if not path.read_text(encoding="utf-8").strip():
            return Result("fail", f"{path} is empty", "write the system prompt into it")
        return Result("ok", str(path))

    return [
        Check("bot.toml", bot_toml),
        Check("system prompt", system_prompt),
        Check("store", lambda: _store(settings)),
        Check("knowledge base", lambda: _knowledge_base(settings)),
        Check("knowledge search", lambda: _knowledge_search(settings)),
        Check("orders", lambda: _orders(settings)),
        Check("model", lambda: _model(settings)),
        Check("hand-off", lambda: _handoff(settings)),
    ]


def _where(url: str) -> str:
    """A database URL without its credentials."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


@asynccontextmanager
async def _opened_store(settings: Settings) -> AsyncIterator[Store]:
    """The store of ``DATABASE_URL`` for one check, closed after it; ``StoreUnavailable`` or ``ValueError``
    when it cannot be opened."""
    store = await open_store(settings.database_url)
    try:
        yield store
    finally:
        await store.close()


async def _store(settings: Settings) -> Result:
    where = _where(settings.database_url)
    try:
        async with _opened_store(settings) as store:
            await store.pending_replies("doctor")
    except (StoreUnavailable, ValueError) as exc:
        return Result("fail", str(exc), "check DATABASE_URL and that the database is up")
    return Result("ok", f"{where} opened; schema migrations are current")


async def _knowledge_base(settings: Settings) -> Result:
    """Each configured source's last sync, as the store recorded it (``supportbot kb sync`` writes it)."""
    from bot.kb.sources.kinds import KnowledgeConfig

    kb_config: KnowledgeConfig = load_bot_config(settings.bot_config_path).kb
    if not kb_config.sources and not settings.kb_path.is_dir():
        return Result("fail", f"KB_PATH {settings.kb_path} is not a folder", "point KB_PATH at the articles")
    names = [source.name for source in kb_config.configured(settings.kb_path)]
    try:
        async with _opened_store(settings) as store:
            statuses = {status.source: status for status in await store.source_statuses()}
    except (StoreUnavailable, ValueError) as exc:
        return Result("fail", f"cannot read the sources' syncs: {exc}", "check DATABASE_URL")
    lines: list[str] = []
    failed: list[str] = []
    never: list[str] = []
    for name in names:
        status = statuses.get(name)
        if status is None:
            never.append(name)
            lines.append(f"{name}: never synced")
            continue
        success = (
            "never" if status.last_success_at is None else f"{status.last_success_at:%Y-%m-%d %H:%M} UTC"
        )
        if status.last_error is not None:
            failed.append(name)
            lines.append(
                f"{name}: the sync at {status.last_attempt_at:%Y-%m-%d %H:%M} UTC FAILED "
                f"({status.last_error}); {status.articles} article(s) kept from the last success ({success})"
            )
        else:
            lines.append(f"{name}: {status.articles} article(s), synced {success}")
    detail = "; ".join(lines)
    if failed:
        return Result("fail", detail, f"fix {', '.join(failed)}, then run `supportbot kb sync`")
    if never:
        return Result("warn", detail, "run `supportbot kb sync` (the bot syncs folder sources on start)")
    return Result("ok", detail)


async def _knowledge_search(settings: Settings) -> Result:
    """Whether the index file can be read, and whether search is hybrid or lexical only because the
    embedding model cannot load (and why)."""
    from bot.kb.embeddings import MODEL_NAME, shared_embedder, unavailable_reason
    from bot.kb.index import KnowledgeBase, UnreadableIndex

    path = settings.kb_index_path
    if path.exists():
        try:
            await asyncio.to_thread(_read_index, KnowledgeBase(path))
        except UnreadableIndex as exc:
            return Result(
                "fail", str(exc), "stop the bot, delete the file and start it: it is filled from the store"
            )
    if await asyncio.to_thread(shared_embedder) is None:
        return Result(
            "warn",
            f"lexical only: the embedding model cannot load ({unavailable_reason()})",
            "reinstall supportbot's dependencies (the wordllama package carries the model)",
        )
    return Result("ok", f"hybrid: full text and {MODEL_NAME} vectors")


def _read_index(kb: KnowledgeBase) -> None:
    """Read every page of the index (:meth:`KnowledgeBase.check`), then close it."""
    try:
        kb.check()
    finally:
        kb.close()


async def _orders(settings: Settings) -> Result:
    if settings.orders_api_url:
        what = f"order service at {_where(settings.orders_api_url)}"
        fix = "check ORDERS_API_URL and ORDERS_API_TOKEN"
    else:
        what = f"demo orders from {settings.demo_orders_path}"
        fix = "set DEMO_ORDERS_PATH, or ORDERS_API_URL for an order service"
    try:
        orders = await open_orders(settings)
    except ConfigError as exc:
        return Result("fail", str(exc), fix)
    try:
        await orders.get_order(PROBE_ORDER_ID)
    except OrderBackendError as exc:
        return Result("fail", f"{what}: {exc}", fix)
    finally:
        await orders.close()
    return Result("ok", f"{what}: ok")


async def _model(settings: Settings) -> Result:
    llm = build_llm(settings)
    if not isinstance(llm, AnthropicLLM):
        return Result(
            "warn",
            "ANTHROPIC_API_KEY is not set: the bot answers from the order system and the articles directly",
            "set ANTHROPIC_API_KEY to answer with Claude",
        )
    try:
        for model in dict.fromkeys((settings.answer_model, settings.summary_model)):
            await llm.verify(model, request_timeout=MODEL_TIMEOUT)
    except ModelRejected as exc:
        fix = (
            exc.fix
            if isinstance(exc, ModelMisconfigured)
            else "check ANTHROPIC_API_KEY (console.anthropic.com > API Keys), ANSWER_MODEL and SUMMARY_MODEL"
        )
        return Result("fail", str(exc), fix)
    except ModelUnavailable as exc:
        return Result(
            "fail", f"cannot reach the model API: {exc}", "check ANTHROPIC_BASE_URL and the network"
        )
    finally:
        await llm.close()
    return Result(
        "ok", f"the API accepts ANTHROPIC_API_KEY and knows {settings.answer_model}, {settings.summary_model}"
    )


async def _handoff(settings: Settings) -> Result:
    """What waits in the helpdesk outbox (``bot.handoff``) for each target, and for how long."""
    targets = load_bot_config(settings.bot_config_path).handoff.targets
    if not targets:
        return Result("skip", "not configured (no [handoff] targets in bot.toml)")
    try:
        async with _opened_store(settings) as store:
            backlog = {item.target: item for item in await store.handoff_backlog()}
    except (StoreUnavailable, ValueError) as exc:
        return Result("fail", f"cannot read the outbox: {exc}", "check DATABASE_URL")
    now = datetime.now(UTC)
    lines: list[str] = []
    late: list[str] = []
    for target in targets:
        item = backlog.get(target)
        if item is None:
            lines.append(f"{target}: nothing waiting")
            continue
        waited = now - item.oldest_at
        if waited > HANDOFF_WAIT_WARN:
            late.append(target)
        line = f"{target}: {item.pending} waiting, the oldest for {_how_long(waited)}"
        if item.failing:
            line += f", the last attempt failed for {item.failing} ({item.last_error})"
        lines.append(line)
    orphans = [item for target, item in backlog.items() if target not in targets]
    lines += [
        f"{item.target}: {item.pending} waiting, the oldest for {_how_long(now - item.oldest_at)}, not sent "
        "(no longer a [handoff] target)"
        for item in orphans
    ]
    fixes: list[str] = []
    if late:
        fixes.append(
            "make sure `supportbot serve` runs (it delivers them) and that the helpdesk takes its requests "
            f"({', '.join(late)}: the URL in [handoff], the secret in .env; serve logs each refusal); they "
            "are kept and retried meanwhile"
        )
    if orphans:
        fixes.append(
            f"add {' and '.join(item.target for item in orphans)} back to [handoff] targets to send them"
        )
    detail = "; ".join(lines)
    return Result("warn", detail, "; ".join(fixes)) if fixes else Result("ok", detail)


def _how_long(delta: timedelta) -> str:
    """``delta`` roughly, in the largest unit that fits: "40 s", "12 min", "2 h 5 min", "3 days"."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} days"
