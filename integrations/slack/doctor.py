"""`supportbot doctor`'s Slack check: the bot token by ``auth.test``, the app-level token (Socket Mode) by
``apps.connections.open``, and that the settings for one of the two ways of taking events are there."""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.doctor import Result
from bot.settings import Settings

TIMEOUT = 10


async def check_slack(settings: Settings) -> Result:
    """What ``auth.test`` says of SLACK_BOT_TOKEN (and, when set, Slack of SLACK_APP_TOKEN)."""
    if settings.slack_bot_token is None:
        return Result("skip", "not configured (SLACK_BOT_TOKEN is not set)")
    if settings.slack_app_token is None and settings.slack_signing_secret is None:
        return Result(
            "fail",
            "SLACK_BOT_TOKEN is set, but neither SLACK_SIGNING_SECRET (events over HTTP) nor "
            "SLACK_APP_TOKEN (Socket Mode)",
            "set one of them (README, Slack, step 2)",
        )
    async with aiohttp.ClientSession() as session:
        bot = AsyncWebClient(
            token=settings.slack_bot_token.get_secret_value(),
            base_url=settings.slack_api_url,
            session=session,
            timeout=TIMEOUT,
        )
        try:
            identity = await bot.auth_test()
        except SlackApiError as exc:
            return Result(
                "fail",
                f"auth.test refused SLACK_BOT_TOKEN ({exc.response.get('error', 'error')})",
                "copy the Bot User OAuth Token (xoxb-…) again from OAuth & Permissions",
            )
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            return Result(
                "fail",
                f"cannot reach Slack at SLACK_API_URL: {type(exc).__name__} {exc}".strip(),
                "check SLACK_API_URL and the network",
            )
        who = f"@{identity.get('user')} in {identity.get('team')} ({identity.get('team_id')})"
        if settings.slack_app_token is None:
            return Result("ok", f"auth.test: {who}; events over HTTP (POST /slack/events)")
        try:
            await bot.apps_connections_open(app_token=settings.slack_app_token.get_secret_value())
        except SlackApiError as exc:
            return Result(
                "fail",
                f"auth.test: {who}, but Slack refused SLACK_APP_TOKEN ({exc.response.get('error', 'error')})",
                "generate an app-level token (xapp-…) with the connections:write scope",
            )
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            return Result(
                "fail",
                f"auth.test: {who}, but apps.connections.open failed: {type(exc).__name__} {exc}".strip(),
                "check SLACK_API_URL and the network",
            )
        return Result("ok", f"auth.test: {who}; Socket Mode with SLACK_APP_TOKEN")
