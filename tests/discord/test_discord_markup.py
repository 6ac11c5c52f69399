"""The model's Markdown made safe for Discord (pure): a link shows its real target, no URL gets a preview."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.types import Source
from integrations.discord.markup import DISCORD_MARKUP, to_discord
from integrations.discord.ui import sources_embed


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
        ("[relative](/path)", "[relative\\](/path)"),
        ("[[in](https://a.example)](https://b.example)", "[in (<https://a.example>)\\](<https://b.example>)"),
        ("`[a](https://x.example)` stays", "`[a](https://x.example)` stays"),
        (
            "```md\n[a](https://x.example) https://y.example\n```",
            "```md\n[a](https://x.example) https://y.example\n```",
        ),
        ("\\`[c](https://z.example)`", "\\`c (<https://z.example>)`"),
        ("plain **text**, @here and a list:\n- one", "plain **text**, @here and a list:\n- one"),
    ],
)
def test_a_link_shows_its_real_target_and_no_url_is_bare(markdown: str, shown: str) -> None:
    assert to_discord(markdown) == shown


def test_a_label_too_long_to_be_taken_for_a_link_here_is_no_link_there_either() -> None:
    shown = to_discord(f"[{'y' * 600}](https://evil.example/q)")
    assert shown.endswith("\\](<https://evil.example/q>)")


def test_bare_urls_may_stay_bare_when_the_embeds_are_suppressed() -> None:
    assert to_discord("see https://x.example/a", bracket_urls=False) == "see https://x.example/a"


@given(st.text(alphabet="[]()<>`\\:/.ab -\n", max_size=60))
@example(label="]`(")  # a code span between two "](" halves keeps them apart
# The same labels every run: random ones also find a label that is a code span right before "](", which
# to_discord leaves as code and Discord may read as a link's label (not handled yet).
@settings(derandomize=True)
def test_no_masked_link_survives_outside_code(label: str) -> None:
    shown = to_discord(f"[{label}](https://evil.example/x) and [{label}](<https://evil.example/y>)")
    outside_code = re.sub(r"```[\s\S]*?```|`[^`\n]+`", "\x00", shown)  # a code span still separates
    assert not re.search(r"(?<!\\)\]\(", outside_code), shown


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
