"""The `supportbot` command. Bad settings end with one line on stderr and exit status 2.

Each command imports what it needs when it runs (the app, the store, the process runner), so that
`supportbot --help` and the quick commands start fast.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import ConfigError
from bot.home import find_home
from bot.run.completion import SHELLS, completion_script
from bot.run.dashboard_cli import add_dashboard_command
from bot.run.eval_cli import add_eval_command
from bot.run.gaps_cli import add_gaps_command
from bot.run.init import init_project
from bot.run.kb_cli import add_kb_commands
from bot.run.platforms import (
    PLATFORMS,
    FrontEndFactory,
    configured_front_ends,
    discord_front_end,
    platform_checks,
    slack_front_end,
)
from bot.run.privacy_cli import add_privacy_commands
from bot.version import VersionAction
from integrations.console.principals import PRINCIPAL_HELP, parse_principal

if TYPE_CHECKING:
    from bot.runtime import App
    from bot.settings import Settings

DEFAULT_PRINCIPAL = "customer:C-1001"


def _principal_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as",
        dest="principal",
        default=DEFAULT_PRINCIPAL,
        metavar="PRINCIPAL",
        help=f"who is asking: {PRINCIPAL_HELP} (default {DEFAULT_PRINCIPAL})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="supportbot", description="A Claude-powered support bot.")
    parser.add_argument("--version", action=VersionAction)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    chat = commands.add_parser("chat", help="talk to the bot in the terminal")
    _principal_arg(chat)

    ask = commands.add_parser("ask", help="ask one question and print the answer")
    _principal_arg(ask)
    ask.add_argument("question", nargs="+", help="the question")

    add_kb_commands(commands, _principal_arg)

    slack = commands.add_parser(
        "slack", help="short for `serve --only slack`: the Events API over HTTP, or Socket Mode"
    )
    slack.add_argument("--port", type=_port, default=None, help="HTTP port (default: PORT, else 3000)")
    slack.add_argument(
        "--socket",
        action="store_true",
        help="connect over Socket Mode with SLACK_APP_TOKEN instead (and serve no HTTP port)",
    )

    discord = commands.add_parser(
        "discord", help="short for `serve --only discord`: Discord over the gateway (DISCORD_TOKEN)"
    )
    discord.add_argument("--port", type=_port, default=None, help="HTTP port (default: PORT, else 3000)")

    serve = commands.add_parser(
        "serve", help="the production process: every configured front end, health, readiness and metrics"
    )
    serve.add_argument("--port", type=_port, default=None, help="HTTP port (default: PORT, else 3000)")
    serve.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="PLATFORM",
        help=f"run only these front ends ({', '.join(PLATFORMS)}; repeatable or comma-separated); "
        "default: all with tokens",
    )

    commands.add_parser("doctor", help="check the settings, files, store and services; say what to fix")

    stats = commands.add_parser(
        "stats", help="questions, answers, feedback, speed and cost, by day and channel"
    )
    stats.add_argument("--days", type=_days, default=7, help="the last N days (1-365, default 7)")
    stats.add_argument(
        "--platform", default=None, choices=(*PLATFORMS, "console"), help="one platform only (%(choices)s)"
    )
    stats.add_argument(
        "--format",
        default="table",
        choices=("table", "json", "csv"),
        help="tables for people (default), or JSON or CSV for programs",
    )
    add_gaps_command(commands)
    add_privacy_commands(commands)  # forget, prune
    add_dashboard_command(commands)  # dashboard-link
    add_eval_command(commands)

    init = commands.add_parser(
        "init", help="write an editable copy of the defaults (config/ and .env) for a new deployment"
    )
    init.add_argument("folder", nargs="?", default=".", type=Path, help="where (default: here)")

    completion = commands.add_parser("completion", help="print a shell completion script")
    completion.add_argument("shell", choices=SHELLS)
    return parser


def _days(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 365:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of days (1-365)")
    return int(value)


def _platforms(values: Sequence[str]) -> list[str]:
    """`serve --only`'s platforms, repeated or comma-separated; an unknown one is a ConfigError naming it."""
    chosen: list[str] = []
    for value in values:
        for name in value.split(","):
            name = name.strip()
            if name not in PLATFORMS:
                raise ConfigError(f"--only: unknown platform {name!r}; choose from {', '.join(PLATFORMS)}")
            if name not in chosen:
                chosen.append(name)
    return chosen


def _port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number (1-65535)")
    return int(value)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "init":  # neither needs (nor reads) the settings
        return init_project(args.folder)
    if args.command == "completion":
        print(completion_script(parser, args.shell), end="")
        return 0
    if hasattr(args, "principal"):
        try:
            args.principal = parse_principal(args.principal)
        except ValueError as exc:
            parser.error(f"--as: {exc}")
    if args.command == "serve":
        try:
            args.only = _platforms(args.only)
        except ConfigError as exc:
            print(f"supportbot: {exc}", file=sys.stderr)
            return exc.exit_status
    import asyncio

    from bot.doctor import MARKS
    from bot.settings import load_settings
    from bot.store.open import StoreUnavailable

    try:
        settings = load_settings()
    except ConfigError as exc:
        prefix = f"{MARKS['fail']} settings" if args.command == "doctor" else "supportbot"
        print(f"{prefix}: {exc}", file=sys.stdout if args.command == "doctor" else sys.stderr)
        return exc.exit_status
    try:
        _configure_logging(settings, args.command)
        return asyncio.run(_dispatch(args, settings))
    except ConfigError as exc:
        print(f"supportbot: {exc}", file=sys.stderr)
        return exc.exit_status
    except StoreUnavailable as exc:  # opened outside build_app (which names the setting itself)
        print(f"supportbot: DATABASE_URL: {exc}", file=sys.stderr)
        return ConfigError.exit_status
    except KeyboardInterrupt:
        return 130


def _configure_logging(settings: Settings, command: str) -> None:
    """JSON lines for `serve` (unless LOG_FORMAT says otherwise), text for the rest; the terminal commands
    log only warnings at the default level, to keep the terminal for their output."""
    from bot.logs import configure_logging

    log_format = settings.log_format or ("json" if command == "serve" else "text")
    level = settings.log_level
    if (
        command
        in ("chat", "ask", "kb", "doctor", "stats", "forget", "prune", "eval", "dashboard-link", "gaps")
        and level == "INFO"
    ):
        level = "WARNING"  # LOG_LEVEL=DEBUG still shows all
    configure_logging(settings, log_format=log_format, level=level)


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "kb":
        from bot.run.kb_cli import run_kb_command

        return await run_kb_command(args, settings)
    if args.command == "serve":
        return await _serve(settings, configured_front_ends(settings, args.only), args.port or settings.port)
    if args.command == "slack":  # `serve --only slack`, HTTP unless --socket; Socket Mode alone needs no port
        port = None if args.socket else args.port or settings.port
        return await _serve(settings, [slack_front_end(settings, socket=args.socket)], port)
    if args.command == "discord":  # `serve --only discord`
        return await _serve(settings, [discord_front_end(settings)], args.port or settings.port)
    if args.command == "doctor":
        return await _doctor(settings)
    if args.command == "stats":
        return await _stats(args, settings)
    if args.command == "gaps":
        from bot.run.gaps_cli import run_gaps_command

        return await run_gaps_command(args, settings)
    if args.command == "eval":
        from bot.run.eval_cli import run_eval_command

        return await run_eval_command(args, settings)
    if args.command in ("forget", "prune"):
        from bot.run.privacy_cli import run_privacy_command

        return await run_privacy_command(args, settings)
    if args.command == "dashboard-link":
        from bot.run.dashboard_cli import dashboard_link

        return dashboard_link(args, settings)
    from bot.run.app import build_app
    from integrations.console.session import run_ask, run_chat

    handlers: dict[str, Callable[[App], Awaitable[int]]] = {
        "chat": lambda app: run_chat(app, args.principal),
        "ask": lambda app: run_ask(app, args.principal, " ".join(args.question)),
    }
    app = await build_app(settings, metrics=False)  # nothing serves /metrics in the terminal
    try:
        return await handlers[args.command](app)
    finally:
        await app.close()


async def _serve(settings: Settings, front_ends: list[FrontEndFactory], port: int | None) -> int:
    """`supportbot serve`, and its short forms `slack` and `discord`: ``front_ends`` (their settings checked,
    built once the app is) in the one process runner, HTTP on ``port``."""
    from bot.run.app import build_app
    from bot.run.serve import serve

    app = await build_app(settings)
    try:
        built = [build(app) for build in front_ends]
        return await serve(app, built, port=port, drain_seconds=settings.drain_seconds)
    finally:
        await app.close()


async def _doctor(settings: Settings) -> int:
    from bot.doctor import Result, line, run_checks
    from bot.run.doctor_checks import core_checks

    home = find_home()
    env = f" (with {home.env_file})" if home.env_file.is_file() else ""
    print(line("settings", Result("ok", f"loaded{env}; project folder: {home.description}")))
    return await run_checks([*core_checks(settings), *platform_checks(settings)], print)


async def _stats(args: argparse.Namespace, settings: Settings) -> int:
    from bot.stats import format_table, gather_stats, stats_csv, stats_json
    from bot.store.open import open_store

    store = await open_store(settings.database_url)
    try:
        stats = await gather_stats(store, args.platform, args.days)
    finally:
        await store.close()
    if args.format == "json":
        print(json.dumps(stats_json(stats), indent=2))
    elif args.format == "csv":
        sys.stdout.write(stats_csv(stats))
    else:
        # On a terminal the tables fit its width; into a file or a pipe they keep their full lines.
        print(format_table(stats, shutil.get_terminal_size().columns if sys.stdout.isatty() else None))
    return 0
