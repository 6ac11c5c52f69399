"""`supportbot doctor`'s Discord check: the bot token by ``GET /users/@me`` against ``DISCORD_API_URL`` (what
discord.py's login does, without opening the gateway)."""

from __future__ import annotations

import aiohttp

from bot.doctor import Result
from bot.settings import Settings

TIMEOUT = 10
PORTAL = "https://discord.com/developers/applications"


async def check_discord(settings: Settings) -> Result:
    """Who DISCORD_TOKEN logs in as, or what is wrong with it."""
    if settings.discord_token is None:
        return Result("skip", "not configured (DISCORD_TOKEN is not set)")
    url = settings.discord_api_url.rstrip("/") + "/users/@me"
    headers = {"Authorization": f"Bot {settings.discord_token.get_secret_value()}"}
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as session,
            session.get(url, headers=headers) as response,
        ):
            if response.status == 401:
                return Result(
                    "fail",
                    "Discord refused DISCORD_TOKEN (401 Unauthorized)",
                    f"reset the token at {PORTAL} > your application > Bot and copy it again",
                )
            if response.status != 200:
                return Result(
                    "fail", f"GET /users/@me answered HTTP {response.status}", "check DISCORD_API_URL"
                )
            me = await response.json()
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return Result(
            "fail",
            f"cannot reach Discord at DISCORD_API_URL: {type(exc).__name__} {exc}".strip(),
            "check DISCORD_API_URL and the network",
        )
    return Result("ok", f"logged in as {me.get('username')} ({me.get('id')})")
