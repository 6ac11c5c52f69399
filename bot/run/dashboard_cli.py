"""`supportbot dashboard-link`: a sign-in link to the leads' dashboard for an operator (``bot.dashboard``)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.errors import ConfigError
from bot.run.privacy_cli import operator_actor

if TYPE_CHECKING:
    from bot.settings import Settings


def add_dashboard_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    link = commands.add_parser(
        "dashboard-link",
        help="print a sign-in link to the leads' dashboard (it works once, for 10 minutes)",
    )
    link.add_argument(
        "--for", dest="who", default=None, metavar="NAME", help="whom it is for (default: your login)"
    )


def dashboard_link(args: argparse.Namespace, settings: Settings) -> int:
    """Print the link: on ``PUBLIC_URL``, else on this machine's ``PORT`` (an operator on the server)."""
    from bot.dashboard.auth import DashboardAccess

    access = DashboardAccess.from_settings(settings)
    if access is None:
        raise ConfigError(
            "DASHBOARD_SECRET: not set, so the dashboard is off (set it in the environment or .env; "
            "see .env.example)"
        )
    print(
        access.link(
            operator_actor(args.who), base_url=settings.public_url or f"http://localhost:{settings.port}"
        )
    )
    return 0
