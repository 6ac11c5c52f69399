"""The Discord front end: a discord.py client wired to the core, and how it runs.

:class:`DiscordFrontEnd` has the shape ``supportbot serve`` runs front ends with (``name``, ``routes()``,
``start()``, ``ready()``, ``stop(drain_seconds)``, ``ended()``); ``supportbot serve --only discord`` (and its
short form ``supportbot discord``) runs it alone.

The client asks for the guilds, guild messages, message content and direct messages intents (Message
Content is privileged: switch it on in the developer portal). Its REST and gateway base URLs come from
``DISCORD_API_URL`` and ``DISCORD_GATEWAY_URL``; discord.py keeps them in two class attributes, which are
set here (only when they differ from Discord's own) while the front end runs, and put back when it stops.

Events are read in ``events`` (edited messages too: ``MESSAGE_UPDATE``) and the work goes to tracked
background tasks (answers) or is answered within Discord's 3 s (``/support`` and the buttons, deferred
when slower), so that :meth:`stop` can wait for the work in progress. On start the replies a previous
run left unfinished are settled, the buttons' handlers are registered (clicks on old messages work) and
``/support`` and the "Mark solved" message command are synced to every guild.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp
import discord
import discord.gateway
import discord.http
import yarl
from aiohttp import web
from discord import app_commands

from bot.errors import ConfigError
from bot.runtime import App
from bot.settings import DISCORD_API_URL, DISCORD_GATEWAY_URL, Settings
from bot.tasks import BackgroundTasks
from integrations.discord.actions import ButtonActions
from integrations.discord.answering import Answerer
from integrations.discord.budgets import DiscordBudgets
from integrations.discord.commands import DiscordCommands
from integrations.discord.escalations import DiscordEscalations
from integrations.discord.history import ThreadHistory
from integrations.discord.inbound import PLATFORM, classify
from integrations.discord.principals import PrincipalResolver
from integrations.discord.recovery import settle_interrupted
from integrations.discord.solved import Solver, solved_menu
from integrations.discord.stream import QUIET
from integrations.discord.ui import DYNAMIC_ITEMS

log = logging.getLogger(__name__)

SHUTDOWN_GRACE = 30.0
READY_TIMEOUT = 60.0
MAX_RATELIMIT_WAIT = 30.0
"""A 429 that asks for a longer wait is not slept through by discord.py (the smallest it allows)."""
PORTAL = "https://discord.com/developers/applications"


def intents() -> discord.Intents:
    """Guilds, guild messages, message content (privileged) and direct messages; nothing else."""
    chosen = discord.Intents.none()
    chosen.guilds = True
    chosen.guild_messages = True
    chosen.message_content = True
    chosen.dm_messages = True
    return chosen


@dataclass(frozen=True)
class DiscordCredentials:
    """The token a run needs, checked before anything starts; never printed."""

    token: str = field(repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> DiscordCredentials:
        if settings.discord_token is None:
            raise ConfigError(
                "DISCORD_TOKEN: missing; set it in the environment or .env (see the README's Discord "
                f"section): the bot's token from {PORTAL} > your application > Bot > Reset Token"
            )
        return cls(settings.discord_token.get_secret_value())


class Endpoints:
    """Where discord.py sends REST calls and opens the gateway; set while the front end runs.

    discord.py reads both from class attributes, so they are process-wide: set them for one client at a
    time. Nothing changes when the settings name Discord's own URLs.
    """

    def __init__(self, api_url: str, gateway_url: str) -> None:
        self._api = api_url.rstrip("/")
        self._gateway = gateway_url
        self._saved: tuple[str, yarl.URL] | None = None

    def apply(self) -> None:
        if self._saved is not None or (
            self._api == DISCORD_API_URL.rstrip("/") and self._gateway == DISCORD_GATEWAY_URL
        ):
            return
        route, socket = discord.http.Route, discord.gateway.DiscordWebSocket
        self._saved = (route.BASE, socket.DEFAULT_GATEWAY)
        route.BASE = self._api
        socket.DEFAULT_GATEWAY = yarl.URL(self._gateway)
        log.info("Discord REST at %s, gateway at %s", self._api, self._gateway)

    def restore(self) -> None:
        if self._saved is not None:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._saved = None


class _Events:
    """The events the clients listen to, handed to the front end (a mixin of both client classes)."""

    front: DiscordFrontEnd
    tree: app_commands.CommandTree[discord.Client]

    async def setup_hook(self) -> None:
        await self.front.set_up()

    async def on_ready(self) -> None:
        await self.front.connected()

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.front.sync_commands(guild)

    async def on_message(self, message: discord.Message) -> None:
        self.front.received(message)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        self.front.edited(payload)

    async def on_support_button(self, interaction: discord.Interaction) -> None:
        await self.front.clicked(interaction)


class SupportClient(_Events, discord.Client):
    def __init__(self, front: DiscordFrontEnd, **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.front = front
        self.tree = app_commands.CommandTree(self)


class ShardedSupportClient(_Events, discord.AutoShardedClient):
    def __init__(self, front: DiscordFrontEnd, **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.front = front
        self.tree = app_commands.CommandTree(self)


class DiscordFrontEnd:
    """The bot on Discord: :meth:`start` logs in and connects, :meth:`stop` waits for the work in progress."""

    name = PLATFORM

    def __init__(
        self,
        core: App,
        credentials: DiscordCredentials,
        *,
        guild_ready_timeout: float = 2.0,
        ready_timeout: float = READY_TIMEOUT,
    ) -> None:
        settings = core.settings
        self._core = core
        self._credentials = credentials
        self._ready_timeout = ready_timeout
        self._endpoints = Endpoints(settings.discord_api_url, settings.discord_gateway_url)
        self.tasks = BackgroundTasks()
        self.budgets = DiscordBudgets(core.config.facts(PLATFORM))
        options: dict[str, object] = {
            "intents": intents(),
            "allowed_mentions": QUIET,
            "http_trace": self.budgets.trace(),
            "max_ratelimit_timeout": MAX_RATELIMIT_WAIT,
            "guild_ready_timeout": guild_ready_timeout,
            "chunk_guilds_at_startup": False,
        }
        if settings.discord_shard_count is not None:
            options["shard_count"] = settings.discord_shard_count
            if settings.discord_shard_ids is not None:
                options["shard_ids"] = list(settings.discord_shard_ids)
            self.client: SupportClient | ShardedSupportClient = ShardedSupportClient(self, **options)
        else:
            self.client = SupportClient(self, **options)
        self._synced: set[int] = set()
        self._connection: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stopping = False
        self._answerer: Answerer | None = None
        self._commands: DiscordCommands | None = None
        self._actions: ButtonActions | None = None

    # ---- running ----------------------------------------------------------------------------------------

    def routes(self) -> Sequence[web.RouteDef]:
        """None: Discord comes over the gateway connection, not over HTTP."""
        return []

    async def start(self) -> None:
        """Log in, connect and wait until the guilds are ready; a refused token or intent is a ConfigError."""
        self._endpoints.apply()
        try:
            await self.client.login(self._credentials.token)
        except discord.LoginFailure:
            await self._abandon()
            raise ConfigError(
                f"DISCORD_TOKEN: Discord refused the token; reset it at {PORTAL} > Bot and copy it again"
            ) from None
        except (aiohttp.ClientError, OSError) as exc:
            await self._abandon()
            raise ConfigError(
                f"DISCORD_API_URL: cannot reach Discord at {discord.http.Route.BASE}: {exc}"
            ) from None
        except BaseException:
            await self._abandon()
            raise
        self._connection = asyncio.create_task(self.client.connect(reconnect=True), name="discord gateway")
        ready = asyncio.create_task(self._ready.wait())
        await asyncio.wait(
            {ready, self._connection}, timeout=self._ready_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        ready.cancel()
        if self._connection.done():
            error = self._connection.exception()
            await self._abandon()
            raise _start_error(error)
        if not self._ready.is_set():
            log.warning(
                "Discord is not ready after %.0f s; carrying on while it connects", self._ready_timeout
            )

    async def ready(self) -> bool:
        return self.is_connected

    @property
    def is_connected(self) -> bool:
        """Connected to the gateway, the guilds known, and taking events."""
        return (
            self._ready.is_set()
            and self.client.is_ready()
            and not self.client.is_closed()
            and not self._stopping
        )

    async def ended(self) -> BaseException:
        """Until the gateway connection ends for good while the front end runs (the token reset, the intent
        switched off), and why: a ConfigError when the operator can fix it."""
        if self._connection is None:
            raise RuntimeError("the Discord front end has not started")
        await asyncio.wait({self._connection})
        return _start_error(None if self._connection.cancelled() else self._connection.exception())

    async def stop(self, drain_seconds: float = SHUTDOWN_GRACE) -> None:
        """Stop taking messages, wait up to ``drain_seconds`` for the work in progress, then disconnect."""
        self._stopping = True
        await self.tasks.drain(drain_seconds)
        await self._abandon()

    async def _abandon(self) -> None:
        with contextlib.suppress(Exception):
            await self.client.close()
        if self._connection is not None and not self._connection.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._connection), 5.0)
            self._connection.cancel()
        if self._connection is not None:
            with contextlib.suppress(BaseException):
                await self._connection
        self._endpoints.restore()

    # ---- events (from the client) -------------------------------------------------------------------------

    async def set_up(self) -> None:
        """After login, before the gateway: the parts that need the bot's id, the buttons, the commands,
        and the replies the last run left unfinished."""
        core, client = self._core, self.client
        user = client.user
        if user is None:
            raise RuntimeError("setup_hook ran before login")
        people = PrincipalResolver(client, core.store, core.config.discord)
        escalations = DiscordEscalations(
            client, core.store, self.budgets, core.config.discord, core.config.channels
        )
        core.notifiers.register(PLATFORM, escalations)
        history = ThreadHistory(client, user.id, core.store, limit=core.config.agent.history_turns + 10)
        self._answerer = Answerer(core, people, history, self.budgets)
        self._commands = DiscordCommands(core, client, people, escalations, self.tasks)
        solver = Solver(core.store, escalations)
        self._actions = ButtonActions(core, people, escalations, solver, self.tasks)
        client.add_dynamic_items(*DYNAMIC_ITEMS)
        client.tree.add_command(self._commands.group())
        client.tree.add_command(solved_menu(people, solver, self.tasks))
        settled = await settle_interrupted(core.store, client)
        if settled:
            log.info("settled %d Discord reply(ies) cut off by the last shutdown", settled)

    async def connected(self) -> None:
        """READY (again, after a reconnect): ``/support`` for the guilds that do not have it yet."""
        for guild in self.client.guilds:
            await self.sync_commands(guild)
        if not self._ready.is_set():
            log.info("connected to Discord as %s in %d guild(s)", self.client.user, len(self.client.guilds))
        self._ready.set()

    async def sync_commands(self, guild: discord.Guild) -> None:
        if guild.id in self._synced:
            return
        tree = self.client.tree
        tree.copy_global_to(guild=guild)
        try:
            await tree.sync(guild=guild)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            log.error("could not register /support in guild %s: %s", guild.id, exc)
            return
        self._synced.add(guild.id)

    def received(self, message: discord.Message) -> None:
        user = self.client.user
        if self._stopping or self._answerer is None or user is None:
            return
        core = self._core
        found = classify(
            message, bot_id=user.id, channels=core.config.channels, dms=core.settings.discord_dms
        )
        if found is not None:
            self.tasks.spawn(self._answerer.answer(found), name=f"answer {found.dedup_key}")

    def edited(self, payload: discord.RawMessageUpdateEvent) -> None:
        """A MESSAGE_UPDATE: a message's text edited by its author (not an embed added by Discord, which
        comes without ``edited_timestamp``) is classified like a new one and handed to ``Answerer.revise``."""
        user = self.client.user
        if self._stopping or self._answerer is None or user is None:
            return
        if "content" not in payload.data or not payload.data.get("edited_timestamp"):
            return
        core = self._core
        found = classify(
            payload.message, bot_id=user.id, channels=core.config.channels, dms=core.settings.discord_dms
        )
        if found is not None:
            self.tasks.spawn(self._answerer.revise(found), name=f"revise {found.dedup_key}")

    async def clicked(self, interaction: discord.Interaction) -> None:
        if self._actions is not None and not self._stopping:
            await self._actions.clicked(interaction)


def _start_error(error: BaseException | None) -> BaseException:
    """The one-line error for a gateway connection that ended (a ConfigError when the operator can fix
    it: the token, the intent, the gateway URL)."""
    if isinstance(error, discord.PrivilegedIntentsRequired):
        return ConfigError(
            f"Discord refused the Message Content intent: switch it on at {PORTAL} > your application > Bot "
            "> Privileged Gateway Intents > Message Content Intent"
        )
    if isinstance(error, discord.LoginFailure):
        return ConfigError(f"DISCORD_TOKEN: Discord refused the token; reset it at {PORTAL} > Bot")
    if isinstance(error, (aiohttp.ClientError, OSError, discord.GatewayNotFound)):
        return ConfigError(f"DISCORD_GATEWAY_URL: cannot connect to the Discord gateway: {error}")
    return error or RuntimeError("the Discord connection ended")
