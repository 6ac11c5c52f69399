"""The `supportbot` command. Bad settings end with one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence

from bot.app import build_app
from bot.errors import ConfigError
from bot.kb import KnowledgeBase
from bot.runtime import App
from bot.settings import Settings, load_settings
from integrations.console.principals import PRINCIPAL_HELP, parse_principal
from integrations.console.session import run_ask, run_chat

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
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    chat = commands.add_parser("chat", help="talk to the bot in the terminal")
    _principal_arg(chat)

    ask = commands.add_parser("ask", help="ask one question and print the answer")
    _principal_arg(ask)
    ask.add_argument("question", nargs="+", help="the question")

    kb = commands.add_parser("kb", help="the knowledge base")
    kb_commands = kb.add_subparsers(dest="kb_command", required=True, metavar="KB_COMMAND")
    index = kb_commands.add_parser("index", help="index the articles in KB_PATH (only if they changed)")
    index.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    search = kb_commands.add_parser("search", help="search the articles as a given principal")
    search.add_argument("query", nargs="+")
    search.add_argument("--limit", type=int, default=5)
    _principal_arg(search)

    slack = commands.add_parser("slack", help="serve Slack: the Events API over HTTP, or Socket Mode")
    slack.add_argument("--port", type=_port, default=None, help="HTTP port (default: PORT, else 3000)")
    slack.add_argument(
        "--socket", action="store_true", help="connect over Socket Mode with SLACK_APP_TOKEN instead"
    )
    return parser


def _port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number (1-65535)")
    return int(value)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if hasattr(args, "principal"):
        try:
            args.principal = parse_principal(args.principal)
        except ValueError as exc:
            parser.error(f"--as: {exc}")
    try:
        settings = load_settings()
        _configure_logging(settings, quiet=args.command in ("chat", "ask", "kb"))
        return asyncio.run(_dispatch(args, settings))
    except ConfigError as exc:
        print(f"supportbot: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        return 130


def _configure_logging(settings: Settings, *, quiet: bool) -> None:
    level = settings.log_level
    if quiet and level == "INFO":
        level = "WARNING"  # keep the terminal for the conversation; LOG_LEVEL=DEBUG still shows all
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "kb":
        return _kb(args, settings)
    if args.command == "slack":
        return await _slack(args, settings)
    handlers: dict[str, Callable[[App], Awaitable[int]]] = {
        "chat": lambda app: run_chat(app, args.principal),
        "ask": lambda app: run_ask(app, args.principal, " ".join(args.question)),
    }
    app = await build_app(settings)
    try:
        return await handlers[args.command](app)
    finally:
        await app.close()


async def _slack(args: argparse.Namespace, settings: Settings) -> int:
    """`supportbot slack`: imported here, so the console works without the slack extra."""
    try:
        from integrations.slack.server import SlackCredentials, serve
    except ImportError as exc:
        if exc.name not in ("slack_bolt", "slack_sdk"):
            raise
        raise ConfigError(
            "the Slack front end needs slack-bolt and slack-sdk: pip install 'supportbot[slack]'"
        ) from None
    credentials = SlackCredentials.from_settings(settings, socket=args.socket)
    app = await build_app(settings)
    try:
        return await serve(app, credentials, port=args.port or settings.port, socket=args.socket)
    finally:
        await app.close()


def _kb(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.kb_path.is_dir():
        raise ConfigError(f"KB_PATH: {settings.kb_path} is not a folder of Markdown articles")
    kb = KnowledgeBase(settings.kb_index_path, settings.kb_path)
    try:
        if args.kb_command == "index":
            report = kb.rebuild() if args.force else kb.ensure_index()
            print(report)
            return 0
        hits = kb.search(" ".join(args.query), include_internal=args.principal.is_staff, limit=args.limit)
        if not hits:
            print("No articles matched.")
        for hit in hits:
            print(f"{hit.title} [{hit.visibility}] {hit.url}\n    {hit.snippet[:200]}")
        return 0
    finally:
        kb.close()
