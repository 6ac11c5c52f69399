"""Sections and their anchors, and the stemmer the lexical half matches on."""

from __future__ import annotations

import pytest

from bot.kb.lexical import stem
from bot.kb.sections import SPLIT_MIN_CHARS, github_slug, split_sections

FILLER = "Words that make the article long enough to be split into its sections. " * 20


def test_a_short_article_is_one_section_without_a_heading() -> None:
    [section] = split_sections("Intro.\n\n## Only part\n\nShort.")
    assert (section.heading, section.anchor) == (None, None)
    assert "Only part" in section.markdown


def test_a_long_article_is_split_at_its_headings_with_github_anchors() -> None:
    text = (
        f"{FILLER}\n\n## Returns & refunds\n\n{FILLER}\n\n### Step 2: print the label!\n\nPrint it.\n\n"
        f"## Returns & refunds\n\nAgain.\n\n```\n## not a heading inside code\n```\n\n"
        f"Setext heading\n--------------\n\nUnder it.\n\n## Custom id {{#my-id}}\n\nPinned."
    )
    assert len(text) > SPLIT_MIN_CHARS
    sections = split_sections(text)
    assert [(s.heading, s.anchor) for s in sections] == [
        (None, None),
        ("Returns & refunds", "returns--refunds"),
        ("Step 2: print the label!", "step-2-print-the-label"),
        ("Returns & refunds", "returns--refunds-1"),
        ("Setext heading", "setext-heading"),
        ("Custom id", "my-id"),
    ]
    assert "## not a heading inside code" in sections[3].markdown


def test_a_heading_with_nothing_under_it_is_not_a_section() -> None:
    sections = split_sections(f"# Title\n\n## Chapter\n\n### First part\n\n{FILLER}")
    assert [s.heading for s in sections] == ["First part"]


@pytest.mark.parametrize(
    ("heading", "slug"),
    [("Why was my card declined?", "why-was-my-card-declined"), ("Größe & Farbe", "größe--farbe")],
)
def test_github_slugs(heading: str, slug: str) -> None:
    assert github_slug(heading) == slug


@pytest.mark.parametrize(
    "family",
    [
        ("refund", "refunds", "refunded", "refunding"),
        ("ship", "ships", "shipped", "shipping"),
        ("cancel", "cancelled", "canceled", "cancels"),
        ("charge", "charges", "charged", "charging"),
        ("delivery", "deliveries"),
        ("address", "addresses"),
    ],
)
def test_inflections_share_a_stem(family: tuple[str, ...]) -> None:
    assert len({stem(word) for word in family}) == 1, {word: stem(word) for word in family}


@pytest.mark.parametrize(
    ("one", "other"),
    [("customs", "customer"), ("general", "generous"), ("policy", "police"), ("news", "newsletter")],
)
def test_unrelated_words_keep_apart(one: str, other: str) -> None:
    assert stem(one) != stem(other)


def test_order_ids_short_words_and_other_alphabets_are_kept_as_they_are() -> None:
    assert [stem(w) for w in ("ord", "10001", "bus", "größe")] == ["ord", "10001", "bus", "größe"]
