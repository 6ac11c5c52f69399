"""Hybrid search over a small index: fusion, "nothing relevant", filters in the dense half, the lexical
fallback, and the in-memory vectors following apply()."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bot.kb import vectors
from bot.kb.embeddings import Embedder, shared_embedder
from bot.kb.fusion import Relevance, fuse
from bot.kb.index import KnowledgeBase
from bot.kb.layout import INTERNAL_ID_BASE
from bot.kb.sources.base import ArticleChange, SourceArticle, Visibility
from bot.kb.vectors import VectorSnapshot
from tests.kb_folder import index_folder

DEMO_KB = Path(__file__).resolve().parents[2] / "config" / "kb"


def article(key: str, title: str, body: str, visibility: Visibility = "public") -> ArticleChange:
    item = SourceArticle(
        key=key, title=title, url=f"https://help.example/{key}", body=body, visibility=visibility
    )
    return ArticleChange("docs", key, item)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[KnowledgeBase]:
    kb = KnowledgeBase(tmp_path / "kb.sqlite3")
    index_folder(kb, DEMO_KB)
    yield kb
    kb.close()


def test_fusion_puts_a_section_both_halves_found_first() -> None:
    fused = fuse([1, 2, 3], [3, 4, 1])
    assert {section for section, _ in fused[:2]} == {1, 3}  # found by both: ahead of 2 and 4
    assert {section for section, _ in fused} == {1, 2, 3, 4}


def test_relevance_is_decided_by_the_model_over_its_signals() -> None:
    assert Relevance(coverage=0.3, cosine=0.6, z=3.0, agree=True).relevant()
    assert not Relevance(coverage=0.1, cosine=0.05, z=1.0, agree=False).relevant()
    # Every word in one section is not enough when no section is near it ("thanks, that's all!").
    assert not Relevance(coverage=1.0, cosine=0.05, z=1.0).relevant()
    # A question naming a support topic the index never mentions needs more of the other evidence.
    assert (
        Relevance(0.3, 0.35, 3.0, True, known=0.3).score()
        > Relevance(0.3, 0.35, 3.0, True, known=0.3, topical=False).score()
    )
    assert Relevance(0.3, 0.6, 3.0, True, known=0.5).features() == (0.3, 0.6, 3.0, 1.0, 0.3 - 0.5, 1.0)
    assert Relevance(0.2, topical=False).features() == (0.2, 0.0)  # the dense half off: the lexical model
    assert not Relevance(0.5, 0.9, 3.0, True).relevant((-1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0))


def test_a_question_whose_words_the_index_holds_only_apart_is_less_relevant() -> None:
    # Focus: the best section holds all the words of the query the index knows, or only some of them.
    together = Relevance(coverage=0.5, cosine=0.25, z=2.5, agree=True, known=0.5)
    apart = Relevance(coverage=0.5, cosine=0.25, z=2.5, agree=True, known=1.0)
    assert together.score() > apart.score()


def test_a_question_in_the_articles_words_is_relevant_and_one_without_words_is_not(
    demo: KnowledgeBase,
) -> None:
    assert demo.relevance("how do I reset my password", include_internal=False).relevant()
    assert demo.search("?!", include_internal=True) == []  # no words at all: nothing relevant


def test_a_paraphrase_without_the_articles_words_is_found(demo: KnowledgeBase) -> None:
    hits = demo.search("my voucher got stolen", include_internal=False)
    assert hits and hits[0].slug == "gift-cards.md"


def test_a_question_about_a_support_topic_the_knowledge_base_never_mentions_finds_nothing(
    demo: KnowledgeBase, tmp_path: Path
) -> None:
    # The demo KB covers gift cards and never says "wrap" or "promo": these have no answer there.
    assert demo.search("Can you gift wrap my order?", include_internal=False) == []
    assert demo.search("Mein Rabattcode wird an der Kasse nicht akzeptiert", include_internal=False) == []
    assert demo.search("Can I pay with two gift cards?", include_internal=False)[0].slug == "gift-cards.md"
    # A knowledge base that covers the topic answers the same question.
    kb = KnowledgeBase(tmp_path / "wrapping.sqlite3")
    try:
        kb.apply(
            [
                article("gift-wrap", "Gift wrapping", "We wrap any order in recycled paper for $5."),
                article("gift-cards", "Gift cards", "Gift cards never expire and work on any order."),
            ],
            seq=1,
        )
        assert kb.search("Can you gift wrap my order?", include_internal=False)[0].slug == "gift-wrap"
    finally:
        kb.close()


def test_informal_english_finds_the_article_in_its_own_words(demo: KnowledgeBase) -> None:
    hits = demo.search("cant get into my acct smh", include_internal=False)
    assert hits and hits[0].slug == "account-and-password-reset.md"


def test_a_section_hit_links_to_its_anchor_under_the_articles_title(demo: KnowledgeBase) -> None:
    [hit] = demo.search("locked account after failed sign-in attempts", include_internal=False, limit=1)
    assert hit.title == "Account sign-in and password reset"
    assert hit.section == "Locked account"
    assert hit.url == "https://help.northwind.example/articles/account-and-password-reset#locked-account"


def test_one_hit_per_article_unless_asked(demo: KnowledgeBase) -> None:
    hits = demo.search("gift card balance expiry lost stolen", include_internal=False, limit=10)
    assert len({h.slug for h in hits}) == len(hits)
    more = demo.search(
        "gift card balance expiry lost stolen", include_internal=False, limit=10, per_article=3
    )
    assert sum(h.slug == "gift-cards.md" for h in more) > 1


def test_an_internal_section_never_reaches_a_customer_even_as_the_best_vector_match(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "kb.sqlite3")
    secret = "Staff override codes for refunds above the approval limit"
    kb.apply(
        [
            article("override", secret, secret, "internal"),
            article("hours", "Opening hours", "We open at nine."),
        ],
        seq=1,
    )
    embedder = shared_embedder()
    assert embedder is not None
    staff = kb.search(secret, include_internal=True)
    assert staff[0].slug == "override"
    for query in (secret, "override codes refunds approval limit"):
        assert all(h.visibility == "public" for h in kb.search(query, include_internal=False, limit=10))
    assert kb.search(secret, include_internal=True, sources={"elsewhere"}) == []
    kb.close()


def test_without_the_model_search_is_lexical_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kb = KnowledgeBase(tmp_path / "kb.sqlite3", embedder=lambda: None)
    index_folder(kb, DEMO_KB)
    assert kb.semantic_status() is not None and "lexical" in kb.semantic_status()  # type: ignore[operator]
    hits = kb.search("reset my password", include_internal=False)
    assert hits[0].slug == "account-and-password-reset.md"
    assert kb.search("zxqv blorft quandle", include_internal=False) == []  # no word of it in the KB
    kb.close()


def test_an_index_built_without_the_model_is_reported_when_the_model_is_back(tmp_path: Path) -> None:
    index_folder(KnowledgeBase(tmp_path / "kb.sqlite3", embedder=lambda: None), DEMO_KB)
    kb = KnowledgeBase(tmp_path / "kb.sqlite3")
    assert "no vectors" in (kb.semantic_status() or "")
    assert kb.search("reset my password", include_internal=False)[0].slug == "account-and-password-reset.md"
    kb.close()


def test_apply_keeps_the_vectors_in_memory_current(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "kb.sqlite3")
    kb.apply([article("hours", "Opening hours", "We open at nine.")], seq=1)
    assert kb.search("when do you open", include_internal=False)[0].slug == "hours"  # vectors read once
    kb.apply([article("bikes", "Electric bicycles", "We sell e-bikes and their batteries.")], seq=2)
    assert kb.search("ebike battery", include_internal=False)[0].slug == "bikes"
    kb.apply([ArticleChange("docs", "bikes", None)], seq=3)
    assert all(h.slug != "bikes" for h in kb.search("electric bicycles", include_internal=False))
    other = KnowledgeBase(tmp_path / "kb.sqlite3")  # another process's view
    assert all(h.slug != "bikes" for h in other.search("electric bicycles", include_internal=False))
    other.close()
    kb.close()


def test_the_embedder_gives_unit_vectors_and_zeros_for_no_words() -> None:
    embedder = Embedder.load()
    vectors = embedder.embed(["How long does a refund take?", "", "!!"])
    assert vectors.shape == (3, embedder.dimensions)
    assert abs(float((vectors[0] ** 2).sum()) - 1.0) < 1e-4
    assert not vectors[1].any() and not vectors[2].any()


def test_vectors_read_from_the_file_in_chunks_find_what_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vectors, "READ_CHUNK", 2)  # five sections: three chunks
    kb = KnowledgeBase(tmp_path / "kb.sqlite3")
    topics = ("Opening hours", "Electric bicycles", "Tent repairs", "Gift vouchers", "Ski rental")
    kb.apply(
        [article(f"a{i}", title, f"All about {title.lower()}.") for i, title in enumerate(topics)], seq=1
    )
    kb.close()
    other = KnowledgeBase(tmp_path / "kb.sqlite3")  # another process reads the file
    for i, title in enumerate(topics):
        assert other.search(title, include_internal=False)[0].slug == f"a{i}"
    other.close()


def test_the_dense_ranking_keeps_what_the_asker_may_see_within_the_margin_of_the_best() -> None:
    rows = np.array([[1.0, 0.0], [0.9, 0.436], [0.0, 1.0], [0.99, 0.141]], dtype=np.float32)
    snapshot = VectorSnapshot(
        "g",
        np.array([1, 2, 3, INTERNAL_ID_BASE + 4], dtype=np.int64),
        np.zeros(4, dtype=np.int32),
        ("docs",),
        rows,
    )
    query = np.array([1.0, 0.0], dtype=np.float32)
    staff = snapshot.nearest(query, include_internal=True, sources=None, k=10, margin=0.15)
    assert [section for section, _ in staff.ranking] == [1, INTERNAL_ID_BASE + 4, 2]  # 3 is too far
    customer = snapshot.nearest(query, include_internal=False, sources=None, k=1, margin=0.15)
    assert [section for section, _ in customer.ranking] == [1]
    visible = np.array([1.0, 0.9, 0.0])
    assert customer.z == pytest.approx((1.0 - visible.mean()) / visible.std(), rel=1e-4)
    assert snapshot.nearest(query, include_internal=True, sources={"other"}, k=5, margin=0.15).ranking == []


def test_applying_no_new_article_does_not_load_the_model(tmp_path: Path) -> None:
    loads: list[str] = []

    def embedder() -> Embedder | None:
        loads.append("load")
        return shared_embedder()

    KnowledgeBase(tmp_path / "kb.sqlite3").apply(
        [article("hours", "Opening hours", "We open at nine.")], seq=1
    )
    kb = KnowledgeBase(tmp_path / "kb.sqlite3", embedder=embedder)
    kb.apply([], seq=2)  # a process marking its index current
    kb.apply([ArticleChange("docs", "hours", None)], seq=3)
    assert loads == []
    assert kb.seq == 3
    kb.apply([article("bikes", "Electric bicycles", "We sell e-bikes.")], seq=4)
    assert loads and kb.search("ebike", include_internal=False)[0].slug == "bikes"
    kb.close()
