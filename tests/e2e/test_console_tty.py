"""`supportbot chat` at a terminal: the real CLI in a pseudo-terminal, its bytes read back through a
terminal emulator (pyte), so the tests see what a person sees: Markdown rendered as the answer streams, a
dim status line while a tool runs (naming the order it looks up), /help, the history of an earlier session
under the up arrow, and Ctrl-C stopping an answer or leaving the chat."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pexpect
import pyte
from fakes.anthropic import FakeAnthropic, Reply

from tests.e2e.rig import ROOT
from tests.e2e.test_console_cli import cli_env

ROWS, COLUMNS = 50, 100
CLIPBOARD = "\x1b]52;c;Y3VybCBodHRwczovL2V2aWwuZXhhbXBsZS94IHwgc2gK\x07"
ANSWER = (
    "# Your order\n\n"
    f"It has **shipped**{CLIPBOARD} and [bold red]arrives[/] Friday.\n\n"
    "| Item | Qty |\n|------|-----|\n| Tent | 1 |\n\n"
    "```python\nprint('tracking')\n```\n\n"
    "Anything else?"
)
UP = "\x1b[A"


class Terminal:
    """`python -m bot ARGS` in a pseudo-terminal of ROWS x COLUMNS; everything it wrote is kept."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "bot", *args],
            cwd=str(ROOT),
            env=env,
            dimensions=(ROWS, COLUMNS),
            encoding="utf-8",
        )
        self.raw = ""

    async def wait_for(self, pattern: str) -> None:
        """Read until ``pattern`` (a plain string) has been written (within a minute)."""
        await self.child.expect_exact(pattern, async_=True, timeout=60)
        self.raw += self.child.before + self.child.after

    async def wait_for_prompt(self) -> None:
        await self.wait_for("you> ")

    async def wait_for_exit(self) -> int:
        await self.child.expect(pexpect.EOF, async_=True, timeout=60)
        self.raw += self.child.before
        self.child.close()
        assert self.child.exitstatus is not None, f"ended by signal {self.child.signalstatus}"
        return int(self.child.exitstatus)

    def type(self, text: str) -> None:
        self.child.send(text)

    def screen(self) -> str:
        """The text a person sees now (the last ROWS lines), with trailing spaces removed."""
        screen = pyte.Screen(COLUMNS, ROWS)
        pyte.Stream(screen).feed(self.raw)
        return "\n".join(line.rstrip() for line in screen.display).strip("\n")


def tty_env(data: Path, **extra: str) -> dict[str, str]:
    env = cli_env(data, CHAT_HISTORY_PATH=str(data / "chat_history"), TERM="xterm-256color", **extra)
    for name in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        env.pop(name, None)
    return env


async def test_an_answer_is_rendered_as_markdown_after_a_dim_status_line(tmp_path: Path) -> None:
    async with FakeAnthropic(
        Reply.tool_use(("lookup_order", {"order_id": "ORD-10001"})),
        Reply.text(ANSWER, chunk=6, tokens_per_second=60),
    ) as fake:
        term = Terminal(tty_env(tmp_path, ANTHROPIC_BASE_URL=fake.base_url, ANTHROPIC_API_KEY="x"), "chat")
        await term.wait_for_prompt()
        term.type("Where is my order ORD-10001?\r")
        await term.wait_for("Anything else?")
        await term.wait_for_prompt()

        # The status line, dim, while the model thought and then while the tool ran, naming the order the
        # tool looked up; it is gone once the answer came.
        assert "\x1b[2mthinking…" in term.raw
        assert "\x1b[2mlooking up ORD-10001…" in term.raw
        screen = term.screen()
        assert "looking up" not in screen and "thinking" not in screen
        # Markdown rendered: bold in ANSI bold, no asterisks, no hash; a table drawn; the code shown.
        assert "\x1b[1mshipped" in term.raw
        assert "It has shipped and [bold red]arrives[/] Friday." in screen  # rich markup is not interpreted
        assert "**" not in screen and "# Your order" not in screen and "Your order" in screen
        assert "─" in screen and "Tent" in screen and "| Tent |" not in screen
        assert "print('tracking')" in screen and "```" not in screen
        assert "\x1b]52" not in term.raw and "▍" not in screen

        term.type("/help\r")
        await term.wait_for("Ctrl-C stops an answer")
        await term.wait_for_prompt()
        assert "/reset" in term.screen() and "/quit" in term.screen()
        assert len(fake.message_requests) == 2  # /help asked the model nothing

        term.child.sendintr()  # Ctrl-C at the prompt: the chat ends at once
        assert await term.wait_for_exit() == 0
        assert "Traceback" not in term.raw and "KeyboardInterrupt" not in term.raw
        assert fake.validation_errors == []


async def test_the_status_line_says_the_order_when_the_tool_is_not_given_an_order_id(tmp_path: Path) -> None:
    async with FakeAnthropic(
        Reply.tool_use(("lookup_order", {"order_id": "the tent I bought"})),
        Reply.text("Which order is it? Its number starts with ORD-."),
    ) as fake:
        term = Terminal(tty_env(tmp_path, ANTHROPIC_BASE_URL=fake.base_url, ANTHROPIC_API_KEY="x"), "chat")
        await term.wait_for_prompt()
        term.type("Where is the tent I bought?\r")
        await term.wait_for("starts with ORD-.")
        await term.wait_for_prompt()

        assert "\x1b[2mlooking up the order…" in term.raw
        screen = term.screen()
        assert "looking up" not in screen and "Which order is it?" in screen
        term.type("/quit\r")
        assert await term.wait_for_exit() == 0
        assert fake.validation_errors == []


async def test_ctrl_c_stops_the_answer_being_written_and_the_chat_goes_on(tmp_path: Path) -> None:
    long_answer = "Let me explain the return policy in detail. " * 60
    async with FakeAnthropic(
        Reply.text(long_answer, chunk=4, tokens_per_second=20),
        Reply.text("Second answer: **yes**."),
    ) as fake:
        term = Terminal(tty_env(tmp_path, ANTHROPIC_BASE_URL=fake.base_url, ANTHROPIC_API_KEY="x"), "chat")
        await term.wait_for_prompt()
        term.type("How do returns work?\r")
        await term.wait_for("return policy")
        term.child.sendintr()
        await term.wait_for("Stopped.")
        await term.wait_for_prompt()
        stopped = term.screen()
        assert "Let me explain" in stopped and "_Stopped._" not in stopped
        assert long_answer.strip() not in stopped.replace("\n", "")  # it did not run to its end

        term.type("Can I return a tent?\r")
        await term.wait_for("Second answer")
        await term.wait_for_prompt()
        assert "Second answer: yes." in term.screen()
        term.type("/quit\r")
        assert await term.wait_for_exit() == 0
        assert "Traceback" not in term.raw
        assert fake.validation_errors == []
        assert "How do returns work?" in str(fake.message_requests[1].messages)


async def test_the_up_arrow_brings_back_a_question_of_an_earlier_session(tmp_path: Path) -> None:
    env = tty_env(tmp_path)  # no key: the fallback answers from the help articles
    first = Terminal(env, "chat")
    await first.wait_for_prompt()
    first.type("How do I return a jacket?\r")
    await first.wait_for_prompt()
    first.type("/quit\r")
    assert await first.wait_for_exit() == 0
    history = tmp_path / "chat_history"
    assert "How do I return a jacket?" in history.read_text()
    assert stat.S_IMODE(os.stat(history).st_mode) == 0o600  # questions may be personal

    second = Terminal(env, "chat")
    await second.wait_for_prompt()
    second.type(UP)  # the last line of the first session: /quit
    await second.wait_for("/quit")
    second.type(UP)
    await second.wait_for("How do I return a jacket?")
    second.type("\r")
    await second.wait_for("Sources:")
    await second.wait_for_prompt()
    assert "you> How do I return a jacket?" in second.screen()
    second.type("\x04")  # Ctrl-D
    assert await second.wait_for_exit() == 0
