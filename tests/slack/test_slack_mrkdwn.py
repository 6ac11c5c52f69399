"""Markdown to Slack mrkdwn, mass mentions made harmless, and text cut into section blocks."""

from __future__ import annotations

import re

import pytest
from fakes.slack import validate_blocks
from hypothesis import given
from hypothesis import strategies as st

from bot.types import Source
from integrations.slack.blocks import SECTION_LIMIT, sources_block, split_sections
from integrations.slack.mrkdwn import RULE, SLACK_MARKUP, WORD_JOINER, plain, to_mrkdwn
from integrations.slack.stream import message_blocks


@pytest.mark.parametrize(
    ("markdown", "mrkdwn"),
    [
        ("**bold** and __bold__", "*bold* and *bold*"),
        ("*italic* and _italic_", "_italic_ and _italic_"),
        ("***both***", "*_both_*"),
        ("~~gone~~", "~gone~"),
        ("**bold with *italic* inside**", "*bold with _italic_ inside*"),
        ("2 * 3 * 4 and snake_case_name and a__b", "2 * 3 * 4 and snake_case_name and a__b"),
        ("[the docs](https://x.example/a?b=1&c=2)", "the docs (<https://x.example/a?b=1&amp;c=2>)"),
        ("![a chart](https://x.example/c.png)", "a chart (<https://x.example/c.png>)"),
        ("<https://x.example/auto>", "<https://x.example/auto>"),
        ("[**bold** label](https://x.example)", "bold label (<https://x.example>)"),
        ("[a|b](https://x.example/p|q)", "a|b (<https://x.example/p%7Cq>)"),
        ("[relative](/path) and [js](javascript:alert(1))", "relative (/path) and js (javascript:alert(1))"),
        ("# Title\n## Sub **bold**", "*Title*\n*Sub bold*"),
        ("- one\n  - nested\n* two\n+ three", "• one\n  ◦ nested\n• two\n• three"),
        ("1. first\n2) second", "1. first\n2. second"),
        ("- [ ] to do\n- [x] done", "☐ to do\n☑ done"),
        ("> quoted **text**", "&gt; quoted *text*"),
        ("---\n* * *", f"{RULE}\n{RULE}"),
        ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
        ("`a < b` and `**not bold**`", "`a &lt; b` and `**not bold**`"),
        ("unfinished **bold and [link](https://x", "unfinished **bold and [link](https://x"),
    ],
)
def test_markdown_becomes_mrkdwn(markdown: str, mrkdwn: str) -> None:
    assert to_mrkdwn(markdown) == mrkdwn


@pytest.mark.parametrize(
    ("markdown", "mrkdwn"),
    [
        (
            "[Track your parcel](https://evil.example/?d=1Z999)",
            "Track your parcel (<https://evil.example/?d=1Z999>)",
        ),
        ("[https://shop.example/track](https://evil.example/x)", "<https://evil.example/x>"),
        ("[shop.example/track](https://evil.example/x)", "<https://evil.example/x>"),
        ("[Track at **shop.example**](https://evil.example/x)", "<https://evil.example/x>"),
        ("[help@shop.example](mailto:help@evil.example)", "<mailto:help@evil.example>"),
        ("[https://shop.example/t](https://shop.example/t)", "<https://shop.example/t>"),
        ("[](https://x.example/empty)", "<https://x.example/empty>"),
        ("![https://cdn.example/a.png](https://evil.example/p.png)", "<https://evil.example/p.png>"),
        ("<https://evil.example/x|https://shop.example>", "<https://evil.example/x%7Chttps://shop.example>"),
    ],
)
def test_a_link_always_shows_its_real_target(markdown: str, mrkdwn: str) -> None:
    assert to_mrkdwn(markdown) == mrkdwn


@given(
    st.text(alphabet="[]()<>|:/.ab -", max_size=40),
    st.sampled_from(["https://evil.example/x|y", "http://e.x"]),
)
def test_no_link_is_ever_labelled_with_anything_but_its_target(label: str, url: str) -> None:
    assert not re.search(r"<[^<>]*\|[^<>]*>", to_mrkdwn(f"[{label}]({url}) and <{url}|{label}>"))


def test_the_bots_own_links_show_a_title_only_when_it_is_no_address() -> None:
    assert SLACK_MARKUP.link("https://x.example/t", "this thread") == "<https://x.example/t|this thread>"
    assert SLACK_MARKUP.link("https://evil.example/x", "shop.example/track") == "<https://evil.example/x>"
    block = sources_block(
        [
            Source("https://evil.example", "https://help.example/a"),
            Source("Returns", "https://help.example/r"),
        ]
    )
    assert (
        block["elements"][0]["text"] == "Sources: <https://help.example/a> · <https://help.example/r|Returns>"
    )


def test_code_blocks_lose_their_language_keep_their_text_and_are_escaped() -> None:
    markdown = "Try:\n```python\nif a < b and **c**:\n    print('&')\n```\nDone."
    assert to_mrkdwn(markdown) == "Try:\n```\nif a &lt; b and **c**:\n    print('&amp;')\n```\nDone."


def test_a_code_block_still_being_written_is_closed_so_it_renders() -> None:
    assert to_mrkdwn("Here:\n~~~\nline one ▍") == "Here:\n```\nline one ▍\n```"


def test_a_longer_closing_fence_closes_and_a_shorter_one_does_not() -> None:
    assert to_mrkdwn("````\n```\nstill code\n`````\nout") == "```\n```\nstill code\n```\nout"


@pytest.mark.parametrize(
    "markdown",
    [
        "Hey @here",
        "ping @channel now",
        "@everyone!",
        "<!everyone> and <!here|here>",
        "<@U0LEAD> <!subteam^S1>",
    ],
)
def test_no_mass_mention_or_control_sequence_survives(markdown: str) -> None:
    mrkdwn = to_mrkdwn(markdown)
    for word in ("@here", "@channel", "@everyone", "<!", "<@"):
        assert word not in mrkdwn
    assert mrkdwn.replace(WORD_JOINER, "").replace("&lt;", "<").replace("&gt;", ">") == markdown


def test_email_addresses_and_handles_are_left_alone() -> None:
    assert to_mrkdwn("write to help@here.example or @heretic") == "write to help@here.example or @heretic"


def test_plain_escapes_and_neutralises_untrusted_text() -> None:
    assert plain("*Ann* <@U1> @here & co") == f"*Ann* &lt;@U1&gt; @{WORD_JOINER}here &amp; co"


def test_sections_cut_at_a_line_end_so_the_text_reads_the_same() -> None:
    text = "\n".join(f"line {i:04d} " + "x" * 40 for i in range(200))
    pieces = split_sections(text)
    assert len(pieces) > 1
    assert all(0 < len(piece) <= SECTION_LIMIT for piece in pieces)
    assert "\n".join(pieces) == text


def test_a_cut_inside_a_code_block_closes_and_reopens_it() -> None:
    code = "\n".join(f"print({i})" for i in range(600))
    pieces = split_sections(f"Intro\n```\n{code}\n```\nOutro")
    assert len(pieces) > 1
    for piece in pieces:
        fences = [line for line in piece.split("\n") if line == "```"]
        assert len(fences) % 2 == 0, piece[-100:]
    rejoined = "\n".join(pieces).replace("\n```\n```\n", "\n")
    assert rejoined == f"Intro\n```\n{code}\n```\nOutro"


def test_one_long_line_is_cut_between_words_or_hard() -> None:
    words = " ".join(["word"] * 2000)
    assert all(len(p) <= SECTION_LIMIT for p in split_sections(words))
    assert "".join(split_sections("y" * 7000)) == "y" * 7000


@given(st.text(alphabet=st.sampled_from("ab *_~`#->[]()<&\n@"), max_size=9000))
def test_any_converted_text_makes_valid_blocks(markdown: str) -> None:
    if not markdown.strip():
        return
    blocks = message_blocks(to_mrkdwn(markdown), None)
    assert validate_blocks(blocks) == []
