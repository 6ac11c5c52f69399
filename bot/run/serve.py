"""The production process: every configured front end in one event loop, plus health, readiness and metrics.

One HTTP server on ``PORT`` answers

- ``GET /healthz``: liveness; 200 while the process runs;
- ``GET /readyz``: 200 when the store answers, the model key is accepted (or no key is set: the bot then
  answers without the model) and every front end is connected; 503 otherwise, and from the moment
  shutdown begins, so a load balancer stops sending work. ``model_error`` names an operator error (key,
  billing, model name, URL) the answers met since the last answer the model gave;
- ``GET /metrics``: the Prometheus text format (``bot.metrics``, through ``prometheus_client``);
- ``/dashboard``: the leads' dashboard (``bot.dashboard``; off, saying so, without ``DASHBOARD_SECRET``);
- ``POST /hooks/helpdesk``: a helpdesk's signed call that resolves an escalation (``bot.handoff.inbound``);
- the routes a front end brings, e.g. Slack's ``POST /slack/events``.

A front end is anything with the small :class:`FrontEnd` shape; the composition root (``bot.run.platforms``)
builds the ones whose tokens are set. On SIGTERM or SIGINT the server reports not ready, each front end
stops taking events and waits up to ``drain_seconds`` for the replies in progress; the ones still running
then are cancelled, and the streaming machinery settles their messages with a notice before they end. A
front end whose connection the platform ends for good (Discord's, once an intent is switched off) shuts the
process down the same way: with its ``ConfigError`` when the operator can fix it, else with exit status 1.
The caller closes the store afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from aiohttp import web

from bot.agent.llm import LLM, AnthropicLLM, ModelRejected, ModelUnavailable
from bot.dashboard.auth import DashboardAccess
from bot.dashboard.server import Dashboard
from bot.errors import ConfigError
from bot.handoff.inbound import HelpdeskHook
from bot.metrics import BotMetrics
from bot.privacy import keep_pruning
from bot.runtime import App, freeze_startup_heap
from bot.store import Store

log = logging.getLogger(__name__)

HOST = "0.0.0.0"  # every interface: the platforms and the load balancer must reach the server
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"
STORE_TIMEOUT = 3.0
MODEL_TIMEOUT = 10.0


class FrontEnd(Protocol):
    """One chat platform as the server runs it."""

    name: str

    def routes(self) -> Sequence[web.RouteDef]:
        """HTTP routes to serve on the shared port (none for a front end with its own connection)."""
        ...

    async def start(self) -> None:
        """Connect, and settle the replies a previous run left unfinished."""
        ...

    async def ready(self) -> bool:
        """Connected and taking events."""
        ...

    async def stop(self, drain_seconds: float) -> None:
        """Stop taking events, wait up to ``drain_seconds`` for the work in progress, cancel the rest (its
        messages are settled), then disconnect."""
        ...

    async def ended(self) -> BaseException:
        """Once started: until the front end cannot go on by itself (its connection refused for good), and
        why (a ``ConfigError`` when the operator can fix it). A front end that cannot end so waits forever."""
        ...


class ModelCheck:
    """Whether the model API accepts the key and knows the answer model, asked at most once per period.

    A rejected key (or an unknown model) makes the process not ready; an unreachable API does not, since
    the bot still answers without the model then.
    """

    def __init__(
        self,
        llm: LLM | None,
        model: str,
        *,
        ok_for: float = 300.0,
        failure_for: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._llm = llm
        self._model = model
        self._ok_for = ok_for
        self._failure_for = failure_for
        self._clock = clock
        self._lock = asyncio.Lock()
        self._result: tuple[bool, str] | None = None
        self._until = 0.0

    async def status(self) -> tuple[bool, str]:
        """``(acceptable, what to report)``."""
        if self._llm is None:
            return True, "not configured: answering without the model"
        if not isinstance(self._llm, AnthropicLLM):
            return True, "ok (not checked)"
        async with self._lock:
            if self._result is None or self._clock() >= self._until:
                self._result, verified = await self._ask(self._llm)
                self._until = self._clock() + (self._ok_for if verified else self._failure_for)
            return self._result

    async def _ask(self, llm: AnthropicLLM) -> tuple[tuple[bool, str], bool]:
        """The status, and whether the API confirmed the key (kept longer than a failure)."""
        try:
            await llm.verify(self._model, request_timeout=MODEL_TIMEOUT)
        except ModelRejected as exc:
            return (False, f"rejected: {exc}"), False
        except ModelUnavailable as exc:
            return (True, f"unreachable, answering without the model: {exc}"), False
        return (True, "ok"), True


async def store_answers(store: Store) -> bool:
    """The store answers a read within ``STORE_TIMEOUT`` (any one-row read does; this one is indexed)."""
    try:
        async with asyncio.timeout(STORE_TIMEOUT):
            await store.customer_for("readyz", "readyz")
    except Exception as exc:
        log.warning("readiness: the store does not answer: %s", exc or type(exc).__name__)
        return False
    return True


class Server:
    """The HTTP side of the process; :meth:`application` is its aiohttp app."""

    def __init__(
        self, core: App, front_ends: Sequence[FrontEnd], metrics: BotMetrics, model: ModelCheck
    ) -> None:
        self._core = core
        self._front_ends = front_ends
        self._metrics = metrics
        self._model = model
        self.started = False
        """Every front end has started."""
        self.draining = False
        """Shutdown has begun."""

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_get(HEALTH_PATH, self._health)
        app.router.add_get(READY_PATH, self._ready)
        app.router.add_get(METRICS_PATH, self._render_metrics)
        access = DashboardAccess.from_settings(self._core.settings)
        dashboard = Dashboard(self._core.store, access, self._core.drafts)
        app.router.add_routes(dashboard.routes())
        helpdesk = self._core.helpdesk
        secret = helpdesk.inbound_secret.get_secret_value() if helpdesk.inbound_secret else None
        hook = HelpdeskHook(helpdesk, self._core.store, secret, self._core.config.handoff.replay_seconds)
        app.router.add_routes(hook.routes())
        for front_end in self._front_ends:
            app.router.add_routes(front_end.routes())
        return app

    async def readiness(self) -> tuple[bool, dict[str, object]]:
        store_ok = await store_answers(self._core.store)
        model_ok, model = await self._model.status()
        front_ends = {front_end.name: await front_end.ready() for front_end in self._front_ends}
        ready = self.started and not self.draining and store_ok and model_ok and all(front_ends.values())
        report: dict[str, object] = {
            "ready": ready,
            "starting": not self.started,
            "draining": self.draining,
            "store": "ok" if store_ok else "not answering",
            "model": model,
            "front_ends": front_ends,
        }
        problem = self._core.agent.model_problem
        if problem is not None:
            # What answering met since (e.g. billing refused for answers): shown, the check decides.
            report["model_error"] = problem
        return ready, report

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def _ready(self, request: web.Request) -> web.Response:
        ready, report = await self.readiness()
        return web.json_response(report, status=200 if ready else 503)

    async def _render_metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=self._metrics.render(), headers={"Content-Type": self._metrics.content_type})


async def serve(
    core: App,
    front_ends: Sequence[FrontEnd],
    *,
    port: int | None,
    drain_seconds: float,
    host: str = HOST,
) -> int:
    """Run until SIGTERM or SIGINT; the exit status.

    ``port`` None: no HTTP server (a front end with its own connection, e.g. Slack's Socket Mode, alone).
    """
    if core.metrics is None:
        raise ValueError("serve needs an app that records metrics: build_app(settings, metrics=True)")
    server = Server(core, front_ends, core.metrics, ModelCheck(core.llm, core.settings.answer_model))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner: web.AppRunner | None = None
    started: list[FrontEnd] = []
    # Retention (bot.privacy): a pass at start, then hourly, each bounded; cancelled on the way out.
    retention = asyncio.create_task(
        keep_pruning(core.store, core.config.privacy.retention_days), name="retention"
    )
    # Knowledge (bot.kb.schedule): sources synced on their sync_every, the index following the store.
    knowledge = asyncio.create_task(core.knowledge.run(), name="knowledge")
    # Hand-off (bot.handoff): the outbox delivered to the helpdesk, one instance at a time.
    handoff = asyncio.create_task(core.helpdesk.run(), name="handoff")
    try:
        if port is not None:
            runner = web.AppRunner(server.application(), access_log=None, handle_signals=False)
            await runner.setup()
            await web.TCPSite(runner, host, port).start()
            log.info("listening on %s:%d (%s, %s, %s)", host, port, HEALTH_PATH, READY_PATH, METRICS_PATH)
        for front_end in front_ends:
            await front_end.start()
            started.append(front_end)
            log.info("front end %s started", front_end.name)
        if not front_ends:
            log.warning(
                "no front end is configured (set SLACK_BOT_TOKEN or DISCORD_TOKEN); "
                "serving health and metrics only"
            )
        server.started = True
        freeze_startup_heap()
        status = await _until_stopped(stop, started)
        log.info("shutting down: waiting up to %.0f s for the replies in progress", drain_seconds)
    finally:
        server.draining = True
        retention.cancel()
        knowledge.cancel()
        handoff.cancel()
        results = await asyncio.gather(
            *(front_end.stop(drain_seconds) for front_end in started), return_exceptions=True
        )
        for front_end, result in zip(started, results, strict=True):
            if isinstance(result, BaseException):
                log.error("front end %s did not stop cleanly", front_end.name, exc_info=result)
        if runner is not None:
            await runner.cleanup()
        await asyncio.gather(retention, knowledge, handoff, return_exceptions=True)
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    log.info("stopped")
    return status


async def _until_stopped(stop: asyncio.Event, front_ends: Sequence[FrontEnd]) -> int:
    """Until SIGTERM or SIGINT (0), or until a front end ends by itself: its ``ConfigError`` is raised (the
    process shuts down on the way out), any other reason is logged (1)."""
    signalled = asyncio.create_task(stop.wait())
    ended = {asyncio.create_task(front_end.ended()): front_end for front_end in front_ends}
    try:
        done, _ = await asyncio.wait({signalled, *ended}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (signalled, *ended):
            task.cancel()
    if signalled in done:
        return 0
    task, front_end = next((task, front_end) for task, front_end in ended.items() if task in done)
    error = task.result()
    if isinstance(error, ConfigError):
        raise error
    log.error("front end %s ended: %s", front_end.name, str(error) or type(error).__name__)
    return 1
