"""Running the Slack front end: over HTTP (the Events API) or over Socket Mode.

HTTP: ``POST /slack/events`` takes events, slash commands and button clicks (slack-bolt checks Slack's
request signature and its age), ``GET /healthz`` says the process is up. Socket Mode: slack-bolt's
``AsyncSocketModeHandler`` with the app-level token; no public URL needed.

Either runs until SIGINT or SIGTERM, then stops taking requests, waits for the answers in progress and
closes.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass, field

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.errors import ConfigError
from bot.runtime import App
from bot.settings import Settings
from integrations.slack.app import SlackFrontEnd

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
HOST = "0.0.0.0"  # every interface: Slack must reach the server


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


def web_app(front: SlackFrontEnd) -> web.Application:
    async def events(request: web.Request) -> web.Response:
        response = await front.bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

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


async def serve(core: App, credentials: SlackCredentials, *, port: int, socket: bool) -> int:
    """Serve Slack until SIGINT or SIGTERM; the exit status."""
    front = await SlackFrontEnd.start(
        core, bot_token=credentials.bot_token, signing_secret=None if socket else credentials.signing_secret
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        if socket:
            handler = AsyncSocketModeHandler(front.bolt, credentials.app_token, web_client=front.reads)
            await handler.connect_async()  # type: ignore[no-untyped-call]  # slack-bolt leaves it untyped
            log.info("connected to Slack over Socket Mode")
            await stop.wait()
            await handler.close_async()  # type: ignore[no-untyped-call]
        else:
            server = SlackHttpServer(front, HOST, port)
            url = await server.start()
            log.info("serving Slack events on %s%s (health: %s)", url, EVENTS_PATH, HEALTH_PATH)
            await stop.wait()
            await server.stop()
    finally:
        log.info("shutting down")
        await front.close()
    return 0
