"""`supportbot chat` and `supportbot ask`: the agent in a terminal, rendered by the same streaming
machinery as Slack and Discord."""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import UTC, datetime
from typing import TextIO

from bot.inbound import Budgets, Inbound
from bot.runtime import App
from bot.streaming.budget import EditBudget
from bot.streaming.protocol import ReplyLimits
from bot.streaming.reply import DEFAULT_MARKER, DEFAULT_PLACEHOLDER
from bot.types import Principal, ThreadRef
from integrations.console.stream import ConsoleStream

NO_MODEL_NOTICE = (
    "No ANTHROPIC_API_KEY is set, so the AI model is not available: answers come straight from the "
    "order system and the help articles."
)
CHAT_HELP = "Type a question. /reset starts over, /quit leaves."


class ConsoleSession:
    """One terminal conversation: its thread, its principal, and a stream on ``out``."""

    def __init__(self, app: App, principal: Principal, out: TextIO, *, tty: bool) -> None:
        self._app = app
        self._principal = principal
        self._out = out
        self._tty = tty
        self._ref = ThreadRef("console", "local", "terminal", uuid.uuid4().hex)
        facts = app.config.facts("console")
        self._limits = ReplyLimits(facts.max_message_chars, facts.edit_interval_seconds)
        self._budgets = Budgets(
            edits=EditBudget(rate=facts.edits_per_minute / 60, burst=facts.edit_burst),
            posts=EditBudget(rate=facts.posts_per_second, burst=facts.edit_burst),
        )
        self._count = 0

    async def ask(self, question: str) -> None:
        self._count += 1
        stream = ConsoleStream(
            self._out,
            limits=self._limits,
            placeholder=DEFAULT_PLACEHOLDER,
            marker=DEFAULT_MARKER,
            tty=self._tty,
        )
        message = Inbound(
            ref=self._ref,
            principal=self._principal,
            text=question,
            message_id=f"console-{self._count}",
            sent_at=datetime.now(UTC),
        )
        await self._app.service.handle(message, stream, self._budgets)

    async def reset(self) -> None:
        await self._app.store.clear_turns(self._ref)
        self._ref = ThreadRef("console", "local", "terminal", uuid.uuid4().hex)


async def run_ask(app: App, principal: Principal, question: str, out: TextIO = sys.stdout) -> int:
    if not app.agent.model_available:
        print(NO_MODEL_NOTICE, file=sys.stderr)
    await ConsoleSession(app, principal, out, tty=out.isatty()).ask(question)
    return 0


async def run_chat(app: App, principal: Principal, out: TextIO = sys.stdout) -> int:
    if not app.agent.model_available:
        print(NO_MODEL_NOTICE, file=out)
    print(f"Speaking as {principal.describe()}. {CHAT_HELP}", file=out)
    session = ConsoleSession(app, principal, out, tty=out.isatty())
    while True:
        try:
            line = await asyncio.to_thread(input, "you> ")
        except EOFError:
            print(file=out)
            return 0
        line = line.strip()
        if not line:
            continue
        if line in ("/quit", "/exit"):
            return 0
        if line == "/reset":
            await session.reset()
            print("Started a new conversation.", file=out)
            continue
        out.write("bot> ")
        await session.ask(line)
        out.write("\n")
        out.flush()
