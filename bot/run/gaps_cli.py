"""`supportbot gaps [--days N] [--platform P] [--json]`: the coverage gaps of the last days
(``bot.quality.gaps``), read from the store the bot writes to; nothing else is loaded.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from bot.quality.gaps import DEFAULT_DAYS, MAX_DAYS

if TYPE_CHECKING:
    from bot.settings import Settings

PLATFORMS = ("slack", "discord", "console")


def _days(value: str) -> int:
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of days (1-{MAX_DAYS})")
    return int(value)


def add_gaps_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gaps = commands.add_parser(
        "gaps",
        help="the questions the bot could not answer well (nothing found, not helpful, escalated), "
        "grouped into topics, largest first",
    )
    gaps.add_argument(
        "--days", type=_days, default=DEFAULT_DAYS, help=f"the last N days (1-{MAX_DAYS}, default 7)"
    )
    gaps.add_argument("--platform", default=None, choices=PLATFORMS, help="one platform only (%(choices)s)")
    gaps.add_argument("--json", action="store_true", help="print one JSON object instead of text")


async def run_gaps_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.quality.gaps import find_gaps, format_gaps
    from bot.store.open import open_store

    store = await open_store(settings.database_url)
    try:
        report = await find_gaps(store, args.days, platform=args.platform)
    finally:
        await store.close()
    print(json.dumps(report.to_json(), ensure_ascii=False, indent=2) if args.json else format_gaps(report))
    return 0


__all__ = ["add_gaps_command", "run_gaps_command"]
