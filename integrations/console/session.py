"""`supportbot chat` and `supportbot ask`: the agent in a terminal, rendered by the same streaming
machinery as Slack and Discord.

On a terminal the answer is rendered as Markdown while it streams (``render.MarkdownStream``); on a pipe
only its settled plain text is written (``stream.ConsoleStream``). At a terminal the chat has line editing
and questions recalled between sessions (``line_editing``); Ctrl-C at the prompt leaves, Ctrl-C during an
answer stops that answer and the chat goes on.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from bot.inbound import Budgets, Inbound
from bot.runtime import App
from bot.streaming.budget import EditBudget
from bot.streaming.protocol import ReplyLimits
from bot.streaming.reply import DEFAULT_MARKER, DEFAULT_PLACEHOLDER
from bot.types import Principal, ThreadRef
from integrations.console.line_editing import LineEditing, default_recall_path
from integrations.console.stream import ConsoleStream

if TYPE_CHECKING:
    from integrations.console.render import MarkdownStream

NO_MODEL_NOTICE = (
    "No ANTHROPIC_API_KEY is set, so the AI model is not available: answers come straight from the "
    "order system and the help articles."
)
CHAT_HELP = "Type a question. /help lists the commands, /quit leaves."
COMMANDS = (
    ("/help", "this list"),
    ("/reset", "start a new conversation (the bot forgets this one)"),
    ("/quit", "leave (also /exit, Ctrl-D or Ctrl-C)"),
)
COMMANDS_HELP = "\n".join(
    [
        "Commands:",
        *(f"  {name:<8}{what}" for name, what in COMMANDS),
        "Anything else is a question for the bot. Ctrl-C stops an answer while it is being written.",
    ]
)
PROMPT = "you> "


class ConsoleSession:
    """One terminal conversation: its thread, its principal, and a stream on ``out`` for each answer."""

    def __init__(self, app: App, principal: Principal, out: TextIO, *, tty: bool) -> None:
        self._app = app
        self._principal = principal
        self._out = out
        self._tty = tty
        self._ref = ThreadRef("console", "local", "terminal", uuid.uuid4().hex)
        facts = app.config.facts("console")
        # The interval paces a terminal's re-rendering; a pipe is written only settled text, so nothing
        # there holds the next write back (a one-shot `ask` does not wait an interval for its last edit).
        interval = facts.edit_interval_seconds if tty else 0.0
        self._limits = ReplyLimits(facts.max_message_chars, interval)
        self._budgets = Budgets(
            edits=EditBudget(rate=facts.edits_per_minute / 60, burst=facts.edit_burst),
            posts=EditBudget(rate=facts.posts_per_second, burst=facts.edit_burst),
        )
        self._count = 0
        self._stream: ConsoleStream | MarkdownStream | None = None

    async def ask(self, question: str) -> None:
        self._count += 1
        stream = self._stream = self._new_stream()
        message = Inbound(
            ref=self._ref,
            principal=self._principal,
            text=question,
            message_id=f"console-{self._count}",
            sent_at=datetime.now(UTC),
        )
        # At a terminal the stream's status line shows the answer is coming (its Progress); a pipe has none.
        progress = None if isinstance(stream, ConsoleStream) else stream
        try:
            await self._app.service.handle(message, stream, self._budgets, progress=progress)
        finally:
            if not isinstance(stream, ConsoleStream):
                stream.close()

    def stop(self) -> None:
        """Ctrl-C during an answer: it ends with a short notice (the caller cancels ``ask``)."""
        if self._stream is not None:
            self._stream.stopped = True

    async def reset(self) -> None:
        await self._app.store.clear_turns(self._ref)
        self._ref = ThreadRef("console", "local", "terminal", uuid.uuid4().hex)

    def _new_stream(self) -> ConsoleStream | MarkdownStream:
        if not self._tty:
            return ConsoleStream(
                self._out,
                limits=self._limits,
                placeholder=DEFAULT_PLACEHOLDER,
                marker=DEFAULT_MARKER,
                tty=False,
            )
        from rich.console import Console  # only at a terminal: a pipe needs none of it

        from integrations.console.render import MarkdownStream

        console = Console(file=self._out, highlight=False, emoji=False)
        return MarkdownStream(console, limits=self._limits, marker=DEFAULT_MARKER)


async def run_ask(app: App, principal: Principal, question: str, out: TextIO = sys.stdout) -> int:
    if not app.agent.model_available:
        print(NO_MODEL_NOTICE, file=sys.stderr)
    await ConsoleSession(app, principal, out, tty=out.isatty()).ask(question)
    return 0


async def run_chat(app: App, principal: Principal, out: TextIO = sys.stdout) -> int:
    tty = out.isatty()
    if not app.agent.model_available:
        print(NO_MODEL_NOTICE, file=out)
    print(f"Speaking as {principal.describe()}. {CHAT_HELP}", file=out)
    session = ConsoleSession(app, principal, out, tty=tty)
    editing = LineEditing(app.settings.chat_history_path or default_recall_path())
    if sys.stdin.isatty():
        editing.enable()
    while True:
        try:
            line = read_line(PROMPT)
        except (EOFError, KeyboardInterrupt):  # Ctrl-D, or Ctrl-C at the prompt: leave at once
            print(file=out)
            return 0
        editing.save()
        line = line.strip()
        if not line:
            continue
        if line in ("/quit", "/exit"):
            return 0
        if line in ("/help", "/?"):
            print(COMMANDS_HELP, file=out)
            continue
        if line == "/reset":
            await session.reset()
            print("Started a new conversation.", file=out)
            continue
        if line.startswith("/") and " " not in line and line[1:].isalpha():
            print(f"There is no command {line}. /help lists the commands.", file=out)
            continue
        if tty:
            print(file=out)
        else:
            out.write("bot> ")
        await _answer(session, line)
        out.write("\n")
        out.flush()


def read_line(prompt: str) -> str:
    """``input(prompt)`` with Ctrl-C raising ``KeyboardInterrupt`` in it, so that it ends the wait at once.

    It runs on the event loop's thread (readline edits the line there and restores the terminal when
    interrupted); nothing else runs on the loop between two answers.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return input(prompt)
    finally:
        signal.signal(signal.SIGINT, previous)


async def _answer(session: ConsoleSession, question: str) -> None:
    """``session.ask(question)``, stopped by Ctrl-C (its partial answer settled with a notice)."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(session.ask(question))

    def stop() -> None:
        session.stop()
        task.cancel()

    loop.add_signal_handler(signal.SIGINT, stop)
    try:
        await asyncio.wait([task])
    finally:
        loop.remove_signal_handler(signal.SIGINT)
    if not task.cancelled():
        task.result()
