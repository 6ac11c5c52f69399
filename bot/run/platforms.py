"""The chat platforms whose tokens are set: their front ends for `supportbot serve` and `supportbot slack`,
and their `supportbot doctor` checks.

A composition root, like ``bot.run.app``: with the CLI, the only core module that knows the integrations. Each
integration is imported only when its tokens are set, so the console runs without the platform extras.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from bot.errors import ConfigError

if TYPE_CHECKING:
    # Types only: the doctor (asyncio), the process runner (aiohttp) and the app are loaded when used.
    from bot.doctor import Check, Result
    from bot.run.serve import FrontEnd
    from bot.runtime import App
    from bot.settings import Settings
    from integrations.discord.app import DiscordCredentials
    from integrations.slack.server import SlackCredentials

PLATFORMS = ("slack", "discord")
"""The platforms `supportbot serve --only` accepts."""

FrontEndFactory = Callable[["App"], "FrontEnd"]
"""Builds a front end once the app is built; made only after the front end's settings were checked."""


def _slack_credentials(settings: Settings, *, socket: bool) -> SlackCredentials:
    try:
        from integrations.slack.server import SlackCredentials
    except ImportError as exc:
        if exc.name not in ("slack_bolt", "slack_sdk"):
            raise
        raise ConfigError(
            "the Slack front end needs slack-bolt and slack-sdk: pip install 'supportbot[slack]'"
        ) from None
    return SlackCredentials.from_settings(settings, socket=socket)


def slack_front_end(settings: Settings, *, socket: bool) -> FrontEndFactory:
    """Slack over HTTP (bot token and signing secret) or Socket Mode (bot and app-level tokens)."""
    credentials = _slack_credentials(settings, socket=socket)

    def build(core: App) -> FrontEnd:
        from integrations.slack.server import SlackRunner

        return SlackRunner(core, credentials, socket=socket)

    return build


def _discord_credentials(settings: Settings) -> DiscordCredentials:
    try:
        from integrations.discord.app import DiscordCredentials
    except ImportError as exc:
        if exc.name != "discord":
            raise
        raise ConfigError(
            "the Discord front end needs discord.py: pip install 'supportbot[discord]'"
        ) from None
    return DiscordCredentials.from_settings(settings)


def discord_front_end(settings: Settings) -> FrontEndFactory:
    """Discord over the gateway, with DISCORD_TOKEN (the shards of DISCORD_SHARD_IDS, when set)."""
    credentials = _discord_credentials(settings)

    def build(core: App) -> FrontEnd:
        from integrations.discord.app import DiscordFrontEnd

        return DiscordFrontEnd(core, credentials)

    return build


def configured_front_ends(settings: Settings, only: Collection[str] = ()) -> list[FrontEndFactory]:
    """Every front end whose tokens are set (of ``only``, when given; naming one without tokens is an error).

    Slack takes its events over Socket Mode when SLACK_APP_TOKEN is set, else over HTTP; Discord comes over
    its gateway, with DISCORD_TOKEN.
    """
    factories: list[FrontEndFactory] = []
    if "slack" in only or (not only and settings.slack_bot_token is not None):
        factories.append(slack_front_end(settings, socket=settings.slack_app_token is not None))
    if "discord" in only or (not only and settings.discord_token is not None):
        factories.append(discord_front_end(settings))
    return factories


def platform_checks(settings: Settings) -> list[Check]:
    """`supportbot doctor`'s checks of the chat platforms."""
    from bot.doctor import Check, Result

    async def slack() -> Result:
        if settings.slack_bot_token is None:
            return Result("skip", "not configured (SLACK_BOT_TOKEN is not set)")
        try:
            from integrations.slack.doctor import check_slack
        except ImportError as exc:
            if exc.name not in ("slack_bolt", "slack_sdk"):
                raise
            return Result(
                "fail", "slack-bolt and slack-sdk are not installed", "pip install 'supportbot[slack]'"
            )
        return await check_slack(settings)

    async def discord() -> Result:
        if settings.discord_token is None:
            return Result("skip", "not configured (DISCORD_TOKEN is not set)")
        from integrations.discord.doctor import check_discord

        return await check_discord(settings)

    return [Check("Slack", slack), Check("Discord", discord)]
