"""Text for the terminal: escape sequences and control characters from the model never reach it."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.streaming.protocol import Footer, ReplyLimits
from bot.types import Source
from integrations.console.stream import ConsoleStream
from integrations.console.terminal import MAX_SEQUENCE, clean


def acts_on(text: str) -> list[str]:
    """The characters in ``text`` a terminal would act on (all but newline and tab among the controls)."""
    return [c for c in text if (c < " " and c not in "\n\t") or "\x7f" <= c <= "\x9f" or c in "\u202e\u2066"]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("copy \x1b]52;c;cm0gLXJmIH4K\x07this", "copy this"),
        ("copy \x1b]52;c;cm0gLXJmIH4K\x1b\\this", "copy this"),
        ("link \x1b]8;;https://evil.example\x1b\\here\x1b]8;;\x1b\\ done", "link here done"),
        ("gone\x1b[2J\x1b[H\x1b[3J and \x1bc reset", "gone and  reset"),
        ("\x1b[31mred\x1b[0m \x1b[10;20Hmoved \x1b[?25lhidden", "red moved hidden"),
        (
            "dcs \x1bPq#0;2;0;0;0\x1b\\apc \x1b_payload\x1b\\pm \x1b^x\x1b\\sos \x1bXy\x1b\\end",
            "dcs apc pm sos end",
        ),
        ("c1 \x9b2Jcsi \x9d52;c;eA==\x9cosc \x85nel \x90dcs\x9c.", "c1 csi osc nel ."),
        ("charset \x1b(Bok \x1b7saved\x1b8", "charset ok saved"),
        ("lone \x1b\nnext line\tand a tab", "lone \nnext line\tand a tab"),
        ("Total: $100\b\b\b999\r\x00\x07\x7fFAKE", "Total: $100999FAKE"),
        ("user \u202egnp.exe\u202c and \u2066isolated\u2069", "user gnp.exe and isolated"),
        ("broken \x1b[12\nline", "broken \nline"),
        ("Emoji 📦 and ünïcödé stay", "Emoji 📦 and ünïcödé stay"),
    ],
)
def test_what_a_terminal_would_act_on_is_removed(raw: str, shown: str) -> None:
    assert clean(raw) == shown


@pytest.mark.parametrize(
    "tail", ["\x1b", "\x1b[", "\x1b[2", "\x1b]52;c;QUJD", "\x1b]52;c;x\x1b", "\x9b1", "\x1b("]
)
def test_a_sequence_still_open_at_the_end_is_held_back(tail: str) -> None:
    assert clean("text " + tail) == "text "


def test_what_is_held_back_is_bounded() -> None:
    payload = "A" * (2 * MAX_SEQUENCE)
    shown = clean("x\x1b]52;c;" + payload)
    assert shown.startswith("x") and shown.endswith("A" * MAX_SEQUENCE)  # the rest is text again
    assert acts_on(shown) == []


@given(st.text(alphabet="\x1b[]();?\\\x07\x9b\x9c\x9dPX_^0123JmHcab \n\b\r\u202e", max_size=80), st.data())
def test_text_cleaned_as_it_grows_only_ever_grows(text: str, data: st.DataObject) -> None:
    cut = data.draw(st.integers(min_value=0, max_value=len(text)))
    early, late = clean(text[:cut]), clean(text)
    assert late.startswith(early)
    assert acts_on(late) == []


async def test_a_sequence_split_across_two_edits_never_reaches_a_pipe() -> None:
    out = io.StringIO()
    stream = ConsoleStream(out, limits=ReplyLimits(max_chars=1000), placeholder="_T_", marker=" ▍", tty=False)
    ref = await stream.post("Your order \x1b]5 ▍")
    await stream.edit(ref, "Your order \x1b]52;c;cm0g ▍")
    await stream.edit(ref, "Your order \x1b]52;c;cm0gLXJm\x07shipped\x1b[2 ▍")
    await stream.edit(
        ref,
        "Your order \x1b]52;c;cm0gLXJm\x07shipped\x1b[2J.",
        Footer("r1", (Source("\x1b[2JTrack", "https://x/t"),)),
    )
    assert out.getvalue() == "Your order shipped.\n\nSources:\n  - Track: https://x/t\n"
