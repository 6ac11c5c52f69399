"""split_message / split_chunks: limits, preferred cut points, protected constructs and code fences."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.streaming.splitter import Chunk, close_open_fence, split_chunks, split_message

FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.MULTILINE)


def _rejoin(chunks: list[Chunk]) -> str:
    """The chunks' texts with the added fence lines taken off again."""
    parts = []
    for chunk in chunks:
        assert chunk.text.startswith(chunk.reopen) and chunk.text.endswith(chunk.close)
        parts.append(chunk.text[len(chunk.reopen) : len(chunk.text) - len(chunk.close)])
    return "".join(parts)


# --- preferred cut points ------------------------------------------------------------------------------


def test_text_within_the_limit_is_one_chunk() -> None:
    assert split_message("Short answer.", 100) == ["Short answer."]
    assert split_message("", 100) == []


def test_cuts_after_a_blank_line_first() -> None:
    text = "First paragraph here.\nStill first.\n\nSecond paragraph, longer than the rest."
    assert split_message(text, 50) == ["First paragraph here.\nStill first.\n\n", text[36:]]


def test_cuts_at_a_line_end_when_no_paragraph_fits() -> None:
    text = "line one is here\nline two is here\nline three is here"
    assert split_message(text, 40) == ["line one is here\nline two is here\n", "line three is here"]


def test_cuts_after_a_sentence_when_no_line_fits() -> None:
    text = "The order shipped yesterday. It arrives on Monday by courier."
    assert split_message(text, 40) == ["The order shipped yesterday. ", "It arrives on Monday by courier."]


def test_cuts_between_words_when_no_sentence_fits() -> None:
    text = "alpha beta gamma delta epsilon zeta eta theta"
    chunks = split_message(text, 20)
    assert chunks == ["alpha beta gamma ", "delta epsilon zeta ", "eta theta"]


def test_a_far_earlier_paragraph_break_loses_to_a_late_line_break() -> None:
    text = "Hi.\n\n" + "word " * 10 + "\n" + "more " * 10
    first = split_message(text, 60)[0]
    assert first == text[: text.index("\n", 6) + 1]


def test_a_token_longer_than_the_limit_is_cut_hard() -> None:
    assert split_message("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert split_message("a " + "y" * 12, 5) == ["a ", "yyyyy", "yyyyy", "yy"]


@pytest.mark.parametrize(
    "construct",
    [
        "[the returns policy](https://example.com/returns-policy)",
        "<https://example.com/orders/ORD-10001|order ORD-10001>",
        "<https://example.com/a/very/long/path>",
        "<@U0123ABCD>",
        "<#C0123|support>",
        "<!here>",
        "<@&123456789>",
        ":white_check_mark:",
        "`pip install supportbot`",
    ],
)
def test_never_cuts_inside_a_link_mention_emoji_or_inline_code(construct: str) -> None:
    for lead in range(1, 30):
        text = "w" * lead + " " + construct + " tail words here"
        chunks = split_message(text, len(construct) + 4)
        assert any(construct in chunk for chunk in chunks), (lead, chunks)


def test_a_link_still_being_written_at_the_end_is_not_cut() -> None:
    text = "Read more in [the guide to returns and refunds"
    assert split_message(text, 35) == ["Read more in ", "[the guide to returns and refunds"]


# --- code fences -----------------------------------------------------------------------------------------


CODE = (
    "Here is the fix:\n\n```python\n"
    + "".join(f"value_{i} = compute({i})\n" for i in range(12))
    + "```\nDone."
)


def test_a_cut_inside_a_fence_closes_it_and_reopens_it_with_its_language() -> None:
    chunks = split_chunks(CODE, 120)
    assert len(chunks) > 2
    for before, after in itertools.pairwise(chunks):
        if before.close:
            assert before.text.endswith("\n```")
            assert after.reopen == "```python\n"
            assert after.text.startswith("```python\n")
    assert all(len(FENCE_LINE.findall(chunk.text)) % 2 == 0 for chunk in chunks)
    assert all(len(chunk.text) <= 120 for chunk in chunks)
    assert _rejoin(chunks) == CODE


def test_added_fence_lines_count_toward_the_limit() -> None:
    code = "```python\n" + "x = 1\n" * 10 + "```"
    for limit in range(22, 70):
        chunks = split_chunks(code, limit)
        assert max(len(chunk.text) for chunk in chunks) <= limit, limit
        assert _rejoin(chunks) == code


def test_a_long_code_line_is_cut_hard_but_stays_code() -> None:
    code = "```sh\n" + "z" * 50 + "\n```"
    chunks = split_chunks(code, 30)
    assert all(chunk.text.startswith("```sh\n") for chunk in chunks[1:])
    assert all(len(FENCE_LINE.findall(chunk.text)) == 2 for chunk in chunks)
    assert _rejoin(chunks) == code


def test_tilde_fences_and_longer_markers_are_closed_with_their_own_marker() -> None:
    code = "~~~~js\n" + "let a = 1;\n" * 8 + "~~~~\n"
    chunks = split_chunks(code, 50)
    assert chunks[0].close == "~~~~"
    assert chunks[1].reopen == "~~~~js\n"


def test_an_unclosed_fence_at_the_end_stays_open_in_the_last_chunk() -> None:
    code = "```python\n" + "print('hi')\n" * 8
    chunks = split_chunks(code, 60)
    assert chunks[-1].close == ""
    assert chunks[-1].reopen == "```python\n"
    assert _rejoin(chunks) == code


def test_no_cut_right_after_an_opening_or_before_a_closing_fence() -> None:
    text = "Intro line.\n```\nabc\n```\nOutro line that is long enough."
    for limit in range(12, len(text)):
        for chunk in split_chunks(text, limit):
            assert chunk.text.strip() not in ("```", "```\n```"), (limit, chunk)


def test_split_from_an_offset_continues_inside_the_fence() -> None:
    first = split_chunks(CODE, 120)[0]
    rest = split_chunks(CODE, 120, start=first.end)
    assert rest == split_chunks(CODE, 120)[1:]
    assert "".join(chunk.body for chunk in rest) == CODE[first.end :]


def test_close_open_fence() -> None:
    assert close_open_fence("text\n```py\ncode") == "text\n```py\ncode\n```"
    assert close_open_fence("text\n```py\ncode\n") == "text\n```py\ncode\n```"
    assert close_open_fence("a\n```\nb\n```\n") == "a\n```\nb\n```\n"
    assert close_open_fence("no code") == "no code"


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        split_message("text", 0)


# --- properties -------------------------------------------------------------------------------------------

_PIECES = st.sampled_from(
    [
        "word",
        "Order",
        " ",
        "  ",
        "\n",
        "\n\n",
        ". ",
        "! ",
        "[link](https://x.io/a)",
        "<@U1>",
        "<!here>",
        ":tada:",
        "`code`",
        "```",
        "```python\n",
        "\n```\n",
        "~~~\n",
        "x" * 40,
        "é",
        "👍",
        "<",
        "[",
        "(",
        ")",
        ":",
        "\t",
    ]
)
_TEXTS = st.lists(_PIECES, max_size=60).map("".join) | st.text(max_size=300)


@settings(max_examples=300, deadline=None)
@given(text=_TEXTS, limit=st.integers(min_value=1, max_value=120))
def test_chunks_fit_are_never_empty_and_rejoin_to_the_text(text: str, limit: int) -> None:
    chunks = split_chunks(text, limit)
    assert [chunk.text for chunk in chunks] == split_message(text, limit)
    assert all(0 < len(chunk.text) <= limit for chunk in chunks)
    assert all(chunk.body for chunk in chunks)
    assert "".join(chunk.body for chunk in chunks) == text
    assert _rejoin(chunks) == text
    assert all(a.end == b.start for a, b in itertools.pairwise(chunks))


@settings(max_examples=200, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(
            ["word", "reply", "[docs](https://d.io/x)", "<@U42>", ":ok_hand:", "`x=1`", "<#C9|help>"]
        ),
        min_size=1,
        max_size=40,
    ),
    limit=st.integers(min_value=25, max_value=100),
)
def test_tokens_shorter_than_the_limit_are_never_cut(words: list[str], limit: int) -> None:
    text = " ".join(words)
    chunks = split_chunks(text, limit)
    assert [word for chunk in chunks for word in chunk.body.split()] == words


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(st.sampled_from(["x = 1", "if ok:", "    go()", "", "# note"]), min_size=1, max_size=40),
    prose=st.sampled_from(["", "Some text.\n\n", "Intro\n"]),
    language=st.sampled_from(["", "python", "js"]),
    limit=st.integers(min_value=30, max_value=90),
)
def test_every_chunk_has_balanced_fences(lines: list[str], prose: str, language: str, limit: int) -> None:
    text = prose + f"```{language}\n" + "\n".join(lines) + "\n```\n" + prose
    chunks = split_chunks(text, limit)
    assert all(len(FENCE_LINE.findall(chunk.text)) % 2 == 0 for chunk in chunks), chunks
    assert all(chunk.reopen in ("", f"```{language}\n") for chunk in chunks)
    assert _rejoin(chunks) == text


@settings(max_examples=150, deadline=None)
@given(text=_TEXTS, limit=st.integers(min_value=20, max_value=80), cut=st.integers(min_value=0, max_value=60))
def test_splitting_on_from_a_chunk_end_matches_splitting_the_whole(text: str, limit: int, cut: int) -> None:
    chunks = split_chunks(text, limit)
    index = min(cut, len(chunks) - 1) if chunks else 0
    start = chunks[index].start if chunks else 0
    assert split_chunks(text, limit, start=start) == chunks[index:]
