"""The search index fed from the store's changes: apply() adds, replaces and removes only what changed,
remembers how far it got, and search filters visibility and sources before it ranks."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.kb.index import KnowledgeBase
from bot.kb.sources.base import ArticleChange, SourceArticle, Visibility


def article(key: str, title: str, body: str, visibility: Visibility = "public") -> SourceArticle:
    return SourceArticle(
        key=key, title=title, url=f"https://help.example/{key}", body=body, visibility=visibility
    )


def change(source: str, item: SourceArticle) -> ArticleChange:
    return ArticleChange(source, item.key, item)


@pytest.fixture
def kb(tmp_path: Path) -> Iterator[KnowledgeBase]:
    index = KnowledgeBase(tmp_path / "kb.sqlite3")
    yield index
    index.close()


def section_keys(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT source, key FROM kb_sections ORDER BY source, key").fetchall()


def test_a_new_index_is_at_seq_0_and_apply_records_the_seq_it_was_given(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    assert kb.seq == 0
    kb.apply([change("docs", article("hours", "Opening hours", "We open at nine every weekday."))], seq=7)
    assert kb.seq == 7
    restarted = KnowledgeBase(tmp_path / "kb.sqlite3")
    assert restarted.seq == 7  # a restarted process resumes from there
    assert [h.slug for h in restarted.search("opening hours", include_internal=False)] == ["hours"]
    restarted.close()


def test_apply_adds_replaces_and_removes_only_what_changed(kb: KnowledgeBase, tmp_path: Path) -> None:
    kb.apply(
        [
            change("docs", article("hours", "Opening hours", "We open at nine every weekday.")),
            change("docs", article("returns", "Returns", "Send boots back within thirty days.")),
            change("zendesk", article("hours", "Support hours", "Chat is staffed from eight.")),
        ],
        seq=3,
    )
    with sqlite3.connect(tmp_path / "kb.sqlite3") as conn:
        untouched_id = conn.execute("SELECT id FROM kb_sections WHERE key = 'returns'").fetchone()[0]

    kb.apply(
        [
            ArticleChange(
                "docs", "hours", article("hours", "Opening hours", "We now open at ten on weekdays.")
            ),
            ArticleChange("zendesk", "hours", None),
        ],
        seq=5,
    )
    assert section_keys(tmp_path / "kb.sqlite3") == [("docs", "hours"), ("docs", "returns")]
    with sqlite3.connect(tmp_path / "kb.sqlite3") as conn:
        assert conn.execute("SELECT id FROM kb_sections WHERE key = 'returns'").fetchone()[0] == untouched_id
    [hit] = kb.search("opening hours ten", include_internal=False)
    assert hit.source == "docs" and "ten" in hit.snippet
    assert kb.search("chat staffed", include_internal=True) == []
    assert kb.seq == 5


def test_sources_and_visibility_are_filtered_before_ranking(kb: KnowledgeBase) -> None:
    kb.apply(
        [
            change("partner", article("refunds", "Refunds for partners", "Partner refunds take ten days.")),
            change("docs", article("refunds", "Refunds", "Refunds take five days. Refunds refunds.")),
            change(
                "staff", article("refund-override", "Refund override", "Refunds refunds refunds.", "internal")
            ),
        ],
        seq=1,
    )
    assert [h.source for h in kb.search("refunds", include_internal=False, sources={"partner"})] == [
        "partner"
    ]
    customer = kb.search("refunds", include_internal=False, limit=10)
    assert {h.source for h in customer} == {"partner", "docs"}
    assert all(h.visibility == "public" for h in customer)
    staff = kb.search("refund override", include_internal=True, sources={"staff", "docs"})
    assert staff[0].source == "staff" and staff[0].visibility == "internal"
    assert kb.search("refunds", include_internal=True, sources=()) == []
