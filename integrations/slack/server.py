"""Running the Slack front end: over HTTP (the Events API) or over Socket Mode.

HTTP: ``POST /slack/events`` takes events, slash commands and button clicks (slack-bolt checks Slack's
request signature and its age). Socket Mode: slack-bolt's ``AsyncSocketModeHandler`` with the app-level
token; no public URL needed.

:class:`SlackRunner` is the front end ``supportbot serve`` and ``supportbot slack`` run (``bot.run.serve``
adds health, readiness, metrics and the graceful shutdown); :class:`SlackHttpServer` serves one front end on
its own, for the tests and the benchmark.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.signature import SignatureVerifier

from bot.errors import ConfigError
from bot.runtime import App
from bot.settings import Settings
from integrations.slack.app import SlackFrontEnd
from integrations.slack.inbound import PLATFORM

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
HOST = "0.0.0.0"  # every interface: Slack must reach the server
START_WAIT = 2.0
"""Seconds a request that comes while the front end starts waits for it, within Slack's 3 s."""


@dataclass(frozen=True)
class SlackCredentials:
    """The tokens a run needs, checked before anything starts; never printed."""

    bot_token: str = field(repr=False)
    signing_secret: str | None = field(repr=False)
    app_token: str | None = field(repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, *, socket: bool) -> SlackCredentials:
        """The tokens for HTTP (bot token, signing secret) or Socket Mode (bot and app-level tokens).

        A missing one is a ``ConfigError`` naming the variable.
        """
        where = "set it in the environment or .env (see the README's Slack section)"
        if settings.slack_bot_token is None:
            raise ConfigError(f"SLACK_BOT_TOKEN: missing; {where}: the app's Bot User OAuth Token, xoxb-…")
        if socket and settings.slack_app_token is None:
            raise ConfigError(
                f"SLACK_APP_TOKEN: missing, and --socket needs it; {where}: an app-level token (xapp-…) "
                "with the connections:write scope"
            )
        if not socket and settings.slack_signing_secret is None:
            raise ConfigError(f"SLACK_SIGNING_SECRET: missing; {where}: Basic Information > Signing Secret")
        return cls(
            bot_token=settings.slack_bot_token.get_secret_value(),
            signing_secret=(
                settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
            ),
            app_token=settings.slack_app_token.get_secret_value() if settings.slack_app_token else None,
        )


async def _dispatch(front: SlackFrontEnd, request: web.Request) -> web.Response:
    """Check the signature first, then let slack-bolt handle the request.

    Nothing of an unsigned body is parsed. A signed body slack-bolt cannot handle is logged and
    acknowledged (200), never a 500: Slack would only send the same malformed request again.
    """
    body = await request.text()
    if front.verifier is not None and not _signed(front.verifier, body, request.headers):
        return web.Response(status=401, text="invalid request signature")
    try:
        response = await front.bolt.async_dispatch(await to_bolt_request(request))
    except Exception:
        log.exception("dropped a signed Slack request that could not be handled")
        return web.Response(status=200, text="ignored: malformed request")
    if response.status >= 500:
        # Our listeners acknowledge at once and work in the background, so a 5xx here is slack-bolt
        # failing on the request's shape (its own log line says where).
        log.warning("dropped a signed Slack request slack-bolt could not handle (HTTP %s)", response.status)
        return web.Response(status=200, text="ignored: malformed request")
    return await to_aiohttp_response(response)


def _signed(verifier: SignatureVerifier, body: str, headers: Mapping[str, str]) -> bool:
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not timestamp.isdecimal() or not timestamp.isascii():
        return False
    return verifier.is_valid(body=body, timestamp=timestamp, signature=signature)


def web_app(front: SlackFrontEnd) -> web.Application:
    """Slack's events and a health check for one front end (the test rig and the benchmark serve it)."""

    async def events(request: web.Request) -> web.Response:
        return await _dispatch(front, request)

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "in_progress": len(front.tasks)})

    app = web.Application()
    app.router.add_post(EVENTS_PATH, events)
    app.router.add_get(HEALTH_PATH, health)
    return app


class SlackHttpServer:
    """The Events API endpoint on ``host:port`` (port 0: any free port, see :attr:`url`)."""

    def __init__(self, front: SlackFrontEnd, host: str = HOST, port: int = 3000) -> None:
        self._runner = web.AppRunner(web_app(front), access_log=None, handle_signals=False)
        self._host = host
        self._port = port
        self.url = ""

    async def start(self) -> str:
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self.url

    async def stop(self) -> None:
        await self._runner.cleanup()


class SlackRunner:
    """The Slack front end as ``bot.run.serve`` runs it (its ``FrontEnd`` shape).

    Over HTTP its ``POST /slack/events`` is served on the shared port; over Socket Mode it keeps a
    connection of its own. Once :meth:`stop` begins, events over HTTP get 503 (Slack delivers them again
    later, to this process after a restart or to another instance) and the Socket Mode connection is
    closed; the answers in progress then get ``drain_seconds`` to finish.
    """

    name = PLATFORM

    def __init__(self, core: App, credentials: SlackCredentials, *, socket: bool) -> None:
        self._core = core
        self._credentials = credentials
        self._socket = socket
        self._front: SlackFrontEnd | None = None
        self._handler: AsyncSocketModeHandler | None = None
        self._started = asyncio.Event()
        self._stopping = False

    def routes(self) -> list[web.RouteDef]:
        return [] if self._socket else [web.post(EVENTS_PATH, self._events)]

    async def start(self) -> None:
        credentials = self._credentials
        self._front = await SlackFrontEnd.start(
            self._core,
            bot_token=credentials.bot_token,
            signing_secret=None if self._socket else credentials.signing_secret,
        )
        try:
            await _check_auth(self._front)
            if self._socket:
                self._handler = AsyncSocketModeHandler(
                    self._front.bolt, credentials.app_token, web_client=self._front.reads
                )
                await self._handler.connect_async()  # type: ignore[no-untyped-call]  # untyped in slack-bolt
        except BaseException:
            await self.stop(0)
            raise
        self._started.set()
        if self._socket:
            log.info("connected to Slack over Socket Mode")
        else:
            log.info("taking Slack events at %s", EVENTS_PATH)

    async def ready(self) -> bool:
        if self._front is None or self._stopping:
            return False
        return self._handler is None or bool(await self._handler.client.is_connected())

    async def stop(self, drain_seconds: float) -> None:
        self._stopping = True
        if self._handler is not None:
            await self._handler.close_async()  # type: ignore[no-untyped-call]
        if self._front is not None:
            await self._front.close(drain_seconds)

    async def ended(self) -> BaseException:
        """Never: over HTTP Slack comes to the server, and slack-bolt reconnects Socket Mode by itself."""
        never: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()
        return await never

    async def _events(self, request: web.Request) -> web.Response:
        """Slack's request; one that comes while the front end is still starting waits for it a little (Slack
        wants an answer within 3 s)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._started.wait(), START_WAIT)
        if self._front is None or not self._started.is_set() or self._stopping:
            return web.Response(status=503, text="starting or shutting down; try again")
        return await _dispatch(self._front, request)


async def _check_auth(front: SlackFrontEnd) -> None:
    """``auth.test``: a bad token or an unreachable Slack stops the start with one line."""
    try:
        await front.reads.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error", "unknown error")
        raise ConfigError(
            f"SLACK_BOT_TOKEN: Slack refused it ({error}); copy the Bot User OAuth Token again"
        ) from None
    except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
        raise ConfigError(f"SLACK_API_URL: cannot reach Slack at {front.reads.base_url}: {exc}") from None
