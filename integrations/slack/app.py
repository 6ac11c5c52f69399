"""The Slack front end: a slack-bolt ``AsyncApp`` wired to the core.

Listeners only read the payload and acknowledge; the work (answering, commands, buttons) runs in tracked
background tasks, so Slack gets its answer at once and shutdown can wait for the work in progress.

Two Web API clients share one HTTP session and point at ``SLACK_API_URL``: ``writes`` posts and edits
and does not retry a 429 (the shared budgets pause instead, and the core resends); ``reads`` (users,
user groups, history, permalinks, and slack-bolt's own ``auth.test``) waits out a 429 once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import App
from bot.tasks import BackgroundTasks
from integrations.slack.actions import ButtonActions
from integrations.slack.agent_view import AgentView
from integrations.slack.answering import Answerer
from integrations.slack.budgets import SlackBudgets
from integrations.slack.commands import SlackCommands
from integrations.slack.escalations import SlackEscalations
from integrations.slack.files import SlackFiles
from integrations.slack.history import ThreadHistory
from integrations.slack.home import DASHBOARD_ACTION, AppHome
from integrations.slack.inbound import (
    PLATFORM,
    BotIdentity,
    click_from_payload,
    command_from_payload,
    installation,
    message_from_event,
)
from integrations.slack.installations import Installations, revoked_bot_tokens
from integrations.slack.principals import PrincipalResolver
from integrations.slack.recovery import settle_interrupted

log = logging.getLogger(__name__)

API_TIMEOUT = 15
SHUTDOWN_GRACE = 30.0
COMMAND = "/support"
_BUTTONS = re.compile(r"^supportbot_")


class SlackFrontEnd:
    """Build it with :meth:`start`; :meth:`close` waits for the work in progress, then lets go."""

    def __init__(
        self,
        core: App,
        *,
        bot_token: str,
        signing_secret: str | None,
        session: aiohttp.ClientSession,
    ) -> None:
        self._core = core
        self._session = session
        self.verifier = SignatureVerifier(signing_secret) if signing_secret is not None else None
        """Checks Slack's request signature before anything reads the body (HTTP mode only)."""
        settings = core.settings
        self._writes = _client(bot_token, settings.slack_api_url, session, retry_rate_limits=False)
        self.reads = _client(bot_token, settings.slack_api_url, session, retry_rate_limits=True)
        self.tasks = BackgroundTasks()
        self._budgets = SlackBudgets(core.config.facts(PLATFORM), core.budgets)
        self._people = PrincipalResolver(self.reads, core.store, core.config.slack)
        self._history = ThreadHistory(
            self.reads,
            core.store,
            self._people,
            dm_window=timedelta(hours=settings.slack_dm_history_hours),
            dm_turns=settings.slack_dm_history_turns,
            files=SlackFiles(session, bot_token, settings.slack_api_url),
        )
        self._escalations = SlackEscalations(self._writes, core.store, self._budgets, core.config.slack)
        core.notifiers.register(PLATFORM, self._escalations)
        self._installations = Installations()
        self._agent_view = AgentView(self._writes, core.config.facts(PLATFORM).suggested_prompts)
        self._answerer = Answerer(
            core,
            self._writes,
            self._people,
            self._history,
            self._budgets,
            self._agent_view,
            self._installations,
        )
        self._commands = SlackCommands(core, self._people, self._escalations)
        self._home = AppHome(core, self._writes, self._people, self._commands)
        self._actions = ButtonActions(core, self._people, self._escalations)
        self.bolt = AsyncApp(
            client=self.reads,
            signing_secret=signing_secret,
            request_verification_enabled=signing_secret is not None,
            logger=logging.getLogger("slack_bolt"),
        )
        self.bolt.event("app_mention")(self._on_message)
        self.bolt.event("message")(self._on_message)
        self.bolt.command(COMMAND)(self._on_command)
        self.bolt.action(_BUTTONS)(self._on_button)
        self.bolt.event("assistant_thread_started")(self._on_thread_started)
        self.bolt.event("assistant_thread_context_changed")(_ignored)  # the bot does not use the context
        self.bolt.event("app_home_opened")(self._on_home_opened)
        self.bolt.action(DASHBOARD_ACTION)(self._on_dashboard_button)
        self.bolt.event("app_uninstalled")(self._on_uninstalled)
        self.bolt.event("tokens_revoked")(self._on_tokens_revoked)

    @classmethod
    async def start(cls, core: App, *, bot_token: str, signing_secret: str | None) -> SlackFrontEnd:
        """The front end, with the replies a previous run left unfinished settled."""
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=API_TIMEOUT))
        try:
            front = cls(core, bot_token=bot_token, signing_secret=signing_secret, session=session)
            await settle_interrupted(core.store, front._writes)
        except BaseException:
            await session.close()
            raise
        return front

    async def close(self, grace: float = SHUTDOWN_GRACE) -> None:
        await self.tasks.drain(grace)
        await self._session.close()

    async def _on_message(self, body: dict[str, Any], context: AsyncBoltContext) -> None:
        bot = _identity(context)
        message = message_from_event(body, bot=bot, channels=self._core.config.channels)
        if message is not None and self._installations.active(message.team_id):
            task = self.tasks.spawn(self._answerer.answer(message, bot), name=f"answer {message.dedup_key}")
            self._installations.track(message.team_id, task)

    async def _on_thread_started(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """Someone opened the bot in the agent view: offer the suggested prompts."""
        if self._installations.active(_team(body)):
            self.tasks.spawn(self._agent_view.thread_started(event), name="assistant thread started")

    async def _on_home_opened(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        user, channel, team = event.get("user"), event.get("channel"), _team(body)
        if event.get("tab") != "home" or not isinstance(user, str) or not self._installations.active(team):
            return
        self.tasks.spawn(
            self._home.publish(
                user,
                team or "",
                str(channel or ""),
                enterprise_id=body.get("context_enterprise_id") or None,
                with_link=False,
            ),
            name=f"home {user}",
        )

    async def _on_dashboard_button(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        """A lead asks the Home tab for a dashboard link: the tab is published again with a fresh one."""
        await ack()
        user = (body.get("user") or {}).get("id")
        team, enterprise = _identity(context).workspace(
            (body.get("team") or {}).get("id"), (body.get("enterprise") or {}).get("id")
        )
        if isinstance(user, str) and self._installations.active(team):
            self.tasks.spawn(
                self._home.publish(user, team, "", enterprise_id=enterprise, with_link=True),
                name=f"home link {user}",
            )

    async def _on_uninstalled(self, body: dict[str, Any]) -> None:
        team = _team(body)
        if team is not None:
            self._installations.stop(team, "the app was uninstalled")

    async def _on_tokens_revoked(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        team = _team(body)
        if team is not None and revoked_bot_tokens(event):
            self._installations.stop(team, "the bot token was revoked")

    async def _on_command(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        await ack()
        command = command_from_payload(body, bot=_identity(context))
        if command is not None:
            self.tasks.spawn(
                _reply(respond, self._commands.run(command)), name=f"{COMMAND} {command.user_id}"
            )

    async def _on_button(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        await ack()
        click = click_from_payload(body, bot=_identity(context))
        if click is not None:
            self.tasks.spawn(
                _reply(respond, self._actions.run(click)), name=f"{click.action_id} {click.user_id}"
            )


async def _ignored() -> None:
    """An event the app subscribes to without acting on it (acknowledged, not logged as unhandled)."""


def _team(body: dict[str, Any]) -> str | None:
    """The installing workspace an event callback is for (see ``inbound.installation``)."""
    try:
        return installation(body, BotIdentity(""))[0]
    except ValueError:
        return body.get("team_id") or None


def _identity(context: AsyncBoltContext) -> BotIdentity:
    """The bot's ids and its installation, from the ``auth.test`` answer slack-bolt authorised with."""
    installed = context.authorize_result
    return BotIdentity(
        context.bot_user_id or "",
        context.bot_id,
        team_id=installed.team_id if installed is not None else None,
        enterprise_id=installed.enterprise_id if installed is not None else None,
    )


async def _reply(respond: AsyncRespond, work: Awaitable[str | None]) -> None:
    """Await ``work`` and show its answer only to the person who asked."""
    text = await work
    if text is not None:
        await respond(
            text=text,
            response_type="ephemeral",
            replace_original=False,
            unfurl_links=False,
            unfurl_media=False,
        )


def _client(
    token: str, base_url: str, session: aiohttp.ClientSession, *, retry_rate_limits: bool
) -> AsyncWebClient:
    handlers: list[AsyncRetryHandler] = [AsyncConnectionErrorRetryHandler()]
    if retry_rate_limits:
        handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    return AsyncWebClient(
        token=token, base_url=base_url, session=session, timeout=API_TIMEOUT, retry_handlers=handlers
    )
