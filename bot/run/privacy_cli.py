"""`supportbot forget PLATFORM:USER_ID` and `supportbot prune`: privacy by hand (``bot.privacy``).

Kept out of ``bot.run.cli`` so the other commands import none of it: the store and the config load when one
of these runs.
"""

from __future__ import annotations

import argparse
import getpass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.settings import Settings

PLATFORMS = ("slack", "discord", "console")


def add_privacy_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    forget = commands.add_parser(
        "forget",
        help="delete what the bot stored about one person: their messages, the answers to them, their "
        "link and votes",
    )
    forget.add_argument(
        "person",
        metavar="PLATFORM:USER_ID",
        help=f"the person's platform ({', '.join(PLATFORMS)}) and user id, e.g. slack:U0123ABCD",
    )
    forget.add_argument(
        "--by", default=None, metavar="NAME", help="who asks, for the leads' audit (default: your login)"
    )
    commands.add_parser(
        "prune", help="delete now what is older than [privacy] retention_days (serve does it hourly)"
    )


def _person(value: str) -> tuple[str, str]:
    platform, _, user_id = value.partition(":")
    user_id = user_id.strip()
    if platform not in PLATFORMS or not user_id or any(c.isspace() for c in user_id):
        raise ConfigError(
            f"forget: {value!r} is not PLATFORM:USER_ID (a platform of {', '.join(PLATFORMS)}, "
            "then the user id, e.g. slack:U0123ABCD)"
        )
    return platform, user_id


def operator_actor(name: str | None) -> str:
    if name is None:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):  # no login name (a container's numeric user)
            name = "unknown"
    return f"operator:{name.strip() or 'unknown'}"


async def run_privacy_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``forget`` or ``prune``; prints what was removed."""
    from bot.config import load_bot_config
    from bot.privacy import describe_forget, describe_prune, prune_older_than
    from bot.store import LeadAction
    from bot.store.open import open_store

    if args.command == "forget":
        platform, user_id = _person(args.person)
        actor = operator_actor(args.by)
        store = await open_store(settings.database_url)
        try:
            report = await store.forget_user(platform, user_id)
            await store.record_lead_action(
                LeadAction(datetime.now(UTC), platform, "", "", actor, "forget", user_id)
            )
        finally:
            await store.close()
        print(f"forgot {platform}:{user_id}: {describe_forget(report)}")
        return 0
    days = load_bot_config(settings.bot_config_path).privacy.retention_days
    store = await open_store(settings.database_url)
    try:
        pruned = await prune_older_than(store, days)
    finally:
        await store.close()
    print(f"pruned what is older than {days} days: {describe_prune(pruned)}")
    return 0


__all__ = ["PLATFORMS", "add_privacy_commands", "run_privacy_command"]
