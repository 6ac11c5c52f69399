"""The model's Markdown made safe for Discord (pure): a link shows its real target, no URL gets a preview."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.types import Source
from integrations.discord.markup import DISCORD_MARKUP, to_discord
from integrations.discord.ui import sources_embed

ZWSP = "\u200b"
DISCORD_LINK = re.compile(
    r"""\[(?:\[[^\]]*\]|[^\[\]]|\](?=[^\[]*\]))*\]\(\s*<?(?:\([^)]*\)|[^\s\\]|\\.)*?>?(?:\s+['"][\s\S]*?['"])?\s*\)"""
)
"""Discord's masked-link rule (simple-markdown's ``link``): "[", a label (a "[" only in a pair, a "]" only
where another follows before any "["), "](", the target, a title maybe, ")". Searched for anywhere, in
code as well, it stands for every way Discord could read code spans, escapes, emphasis and quotes."""


@pytest.mark.parametrize(
    ("markdown", "shown"),
    [
        (
            "[Track your parcel](https://evil.example/?d=1Z999)",
            "Track your parcel (<https://evil.example/?d=1Z999>)",
        ),
        ("[https://shop.example/track](https://evil.example/x)", "<https://evil.example/x>"),
        ("[shop.example/track](<https://evil.example/x>)", "<https://evil.example/x>"),
        ("[Track at **shop.example**](https://evil.example/x)", "<https://evil.example/x>"),
        ("[https://shop.example/t](https://shop.example/t)", "<https://shop.example/t>"),
        ('[t](https://a.example/c(d)e "title")', "t (<https://a.example/c(d)e>)"),
        ("**[bold](https://e.example/b)**", "**bold (<https://e.example/b>)**"),
        ("[](https://e.example/empty)", "<https://e.example/empty>"),
        ("add https://evil.example/?d=1Z999.", "add <https://evil.example/?d=1Z999>."),
        ("already <https://ok.example/a> fine", "already <https://ok.example/a> fine"),
        ("[relative](/path)", f"[relative]{ZWSP}(/path)"),
        ("[a](/x) and [b](https://e.example)", f"[a]{ZWSP}(/x) and b (<https://e.example>)"),
        (
            "[[in](https://a.example)](https://b.example)",
            f"[in (<https://a.example>)]{ZWSP}(<https://b.example>)",
        ),
        ("`[a](https://x.example)` stays", f"`[a]{ZWSP}(https://x.example)` stays"),
        ("`a*b` and `[x]` stay", "`a*b` and `[x]` stay"),
        (
            "```md\n[a](https://x.example) https://y.example\n```",
            f"```md\n[a]{ZWSP}(https://x.example) https://y.example\n```",
        ),
        ("<https://a.example/x](y>", "<https://a.example/x%5D(y>"),
        ("\\](not a link)", f"\\]{ZWSP}(not a link)"),
        ("\\`[c](https://z.example)`", "\\`c (<https://z.example>)`"),
        ("plain **text**, @here and a list:\n- one", "plain **text**, @here and a list:\n- one"),
    ],
)
def test_a_link_shows_its_real_target_and_no_url_is_bare(markdown: str, shown: str) -> None:
    assert to_discord(markdown) == shown


@pytest.mark.parametrize(
    ("markdown", "shown"),
    [
        # A code span as the label: Discord reads "]" in it as part of the label, so this is a link there
        ("[`]()`](https://evil.example/x)", f"`]{ZWSP}()` (<https://evil.example/x>)"),
        ("[`x`](https://evil.example/x)", "`x` (<https://evil.example/x>)"),
        ("[a `](` b](https://evil.example/x)", f"a `]{ZWSP}(` b (<https://evil.example/x>)"),
        ("[`[`](https://evil.example/x)", f"[`[`]{ZWSP}(<https://evil.example/x>)"),
        # Spans Discord may read otherwise than the renderer (a line break, an emphasis cutting them)
        ("`x\n`[y](https://evil.example/x)`", f"`x\n`[y]{ZWSP}(https://evil.example/x)`"),
        ("*a `b* [y](https://evil.example/x) `c`", f"*a `b* [y]{ZWSP}(https://evil.example/x) `c`"),
    ],
)
def test_a_code_span_in_or_around_a_label_hides_no_target(markdown: str, shown: str) -> None:
    assert to_discord(markdown) == shown
    assert DISCORD_LINK.search(shown) is None  # however Discord reads the code: no masked link
    assert "https://evil.example/x" in shown  # the target shows as it is


def test_a_label_too_long_to_be_taken_for_a_link_here_is_no_link_there_either() -> None:
    shown = to_discord(f"[{'y' * 600}](https://evil.example/q)")
    assert shown.endswith(f"]{ZWSP}(<https://evil.example/q>)")
    assert DISCORD_LINK.search(shown) is None


def test_bare_urls_may_stay_bare_when_the_embeds_are_suppressed() -> None:
    assert to_discord("see https://x.example/a", bracket_urls=False) == "see https://x.example/a"


@given(st.text(alphabet="[]()<>`\\:/.ab -\n*_|~", max_size=60))
@example(label="]`(")
@example(label="`]()`")
@example(label="`x`")
def test_no_label_makes_a_masked_link(label: str) -> None:
    shown = to_discord(f"[{label}](https://evil.example/x) and [{label}](<https://evil.example/y>)")
    assert DISCORD_LINK.search(shown) is None, shown
    assert "https://evil.example/x" in shown and "https://evil.example/y" in shown, shown


PIECES = [*"[]()`<>\\\n*_ a", "](", "](https://e.example/)", "``", "```"]
"""What the model's Markdown is made of below: brackets, code, escapes, emphasis and a web address."""


@given(st.lists(st.sampled_from(PIECES), min_size=3, max_size=40).map("".join), st.booleans())
def test_no_markdown_makes_a_masked_link(markdown: str, bracket_urls: bool) -> None:
    assert DISCORD_LINK.search(to_discord(markdown, bracket_urls=bracket_urls)) is None


def test_the_bots_own_links_show_a_title_only_when_it_is_no_address() -> None:
    assert DISCORD_MARKUP.link("https://x.example/t", "this thread") == "[this thread](<https://x.example/t>)"
    assert DISCORD_MARKUP.link("https://evil.example/x", "shop.example/track") == "<https://evil.example/x>"
    embed = sources_embed(
        [
            Source("https://evil.example", "https://help.example/a"),
            Source("Returns", "https://help.example/r"),
        ]
    )
    assert embed.description == "Sources: <https://help.example/a> · [Returns](https://help.example/r)"
