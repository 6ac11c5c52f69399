"""Typing mistakes in a query are matched to the index's vocabulary; real words it lacks are not."""

from __future__ import annotations

from pathlib import Path

from bot.kb.index import KnowledgeBase
from bot.kb.sources.base import ArticleChange, SourceArticle
from bot.kb.spelling import edits


def article(key: str, title: str, body: str) -> ArticleChange:
    item = SourceArticle(
        key=key, title=title, url=f"https://help.example/{key}", body=body, visibility="public"
    )
    return ArticleChange("docs", key, item)


def test_edits_are_one_deletion_swap_change_or_insertion_away() -> None:
    found = edits("ordr")
    assert {"ord", "odrr", "orde", "order"} <= found
    assert "ordr" not in found
    assert "ordeer" not in found


def test_a_misspelt_word_finds_the_article_that_holds_it_spelt_right(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "kb.sqlite3")
    kb.apply(
        [
            article("warranty", "Product guarantee", "Claims under the warranty cover zippers and seams."),
            article("parcel", "Lost parcels", "A parcel marked delivered that never arrived."),
            article("gift", "Vouchers", "Vouchers never expire, even in poor condition."),
        ],
        seq=1,
    )
    try:
        hits = kb.search("warrenty", include_internal=False)
        assert hits and hits[0].slug == "warranty"
        assert kb.relevance("warrenty", include_internal=False).coverage == 1.0
        # "door" is a real word the index lacks, not a typo of one it holds: it is not read as "poor"
        assert kb.relevance("door", include_internal=False).coverage == 0.0
    finally:
        kb.close()


def test_a_query_of_no_word_at_all_finds_nothing_while_a_misspelt_one_does(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "kb.sqlite3")
    kb.apply([article("warranty", "Product guarantee", "Claims under the warranty cover zippers.")], seq=1)
    try:
        for nonsense in ("zxqv blorft quandle", "qwertyuiop", "ffff"):
            assert not kb.relevance(nonsense, include_internal=False).recognised
            assert kb.search(nonsense, include_internal=False) == []
        assert kb.relevance("warrenty", include_internal=False).recognised  # a typo of a word it holds
        assert kb.relevance("zippers and blorft", include_internal=False).recognised
    finally:
        kb.close()
