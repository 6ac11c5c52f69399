"""The terminal ReplyStream: what a person sees on a TTY and what a pipe receives."""

from __future__ import annotations

import io

from bot.streaming.protocol import Footer, ReplyLimits
from bot.types import Source
from integrations.console.stream import ConsoleStream

LIMITS = ReplyLimits(max_chars=1000)


def screen(raw: str) -> str:
    """Apply backspaces the way a terminal does, to get what is visible."""
    out: list[str] = []
    cursor = 0
    for ch in raw:
        if ch == "\b":
            cursor = max(0, cursor - 1)
        elif cursor < len(out):
            out[cursor] = ch
            cursor += 1
        else:
            out.append(ch)
            cursor += 1
    return "".join(out).rstrip()


async def test_tty_grows_in_place_and_drops_the_marker_at_the_end() -> None:
    out = io.StringIO()
    stream = ConsoleStream(out, limits=LIMITS, placeholder="_Thinking…_", marker=" ▍", tty=True)
    ref = await stream.post("_Thinking…_")
    await stream.edit(ref, "Your order ▍")
    await stream.edit(ref, "Your order shipped ▍")
    await stream.edit(ref, "Your order shipped.", Footer("r1", (Source("Tracking", "https://x/t"),)))
    lines = screen(out.getvalue()).splitlines()
    assert lines[0].rstrip() == "Your order shipped."
    assert "Sources:" in lines and "  - Tracking: https://x/t" in lines


async def test_pipe_gets_only_settled_text_without_placeholder_or_marker() -> None:
    out = io.StringIO()
    stream = ConsoleStream(out, limits=LIMITS, placeholder="_Thinking…_", marker=" ▍", tty=False)
    ref = await stream.post("_Thinking…_")
    await stream.edit(ref, "Hello ▍")
    await stream.edit(ref, "Hello world ▍")
    await stream.edit(ref, "Hello world!", Footer("r1"))
    assert out.getvalue() == "Hello world!\n"
    assert "\b" not in out.getvalue()


async def test_pipe_prints_a_replaced_answer_whole_on_a_new_line() -> None:
    out = io.StringIO()
    stream = ConsoleStream(out, limits=LIMITS, placeholder="…", marker=" ▍", tty=False)
    ref = await stream.post("…")
    await stream.edit(ref, "Sure, the secret ▍")
    await stream.edit(ref, "I can't help with that.", Footer("r1"))
    assert out.getvalue().splitlines()[-1] == "I can't help with that."


async def test_a_continuation_message_starts_on_its_own_line() -> None:
    out = io.StringIO()
    stream = ConsoleStream(out, limits=LIMITS, placeholder="…", marker=" ▍", tty=False)
    first = await stream.post("…")
    await stream.edit(first, "part one")
    await stream.post("part two", Footer("r1"))
    assert out.getvalue() == "part one\npart two\n"
