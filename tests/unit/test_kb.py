"""The knowledge base: the demo articles read by the folder source, ranking, visibility, odd queries."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

import pytest

from bot.errors import ConfigError
from bot.kb import lexical, search, snippets
from bot.kb.index import KnowledgeBase
from bot.kb.layout import MAX_SECTION_CHARS
from bot.kb.lexical import query_terms
from bot.kb.markdown import markdown_to_text
from bot.kb.sources.base import ArticleChange, SourceArticle
from tests.kb_folder import aindex_folder, index_folder, read_folder

ROOT = Path(__file__).resolve().parents[2]
DEMO_KB = ROOT / "config" / "kb"
INTERNAL_KEYS = {"refund-approval-policy.md", "escalation-playbook.md", "fraud-review-procedure.md"}


def article_text(title: str = "A title", visibility: str = "public", body: str = "Some body text.") -> str:
    return f"---\ntitle: {title}\nurl: https://help.example/a\nvisibility: {visibility}\n---\n{body}\n"


def changes(*articles: tuple[str, str, str]) -> Iterable[ArticleChange]:
    """Articles ``(key, title, body)``, public, as the store hands them to the index."""
    for key, title, body in articles:
        article = SourceArticle(key=key, title=title, url="", body=body, visibility="public")
        yield ArticleChange("docs", key, article)


@pytest.fixture(scope="module")
def demo_kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    kb = KnowledgeBase(tmp_path_factory.mktemp("kb") / "kb.sqlite3")
    index_folder(kb, DEMO_KB)
    yield kb
    kb.close()


def test_a_misspelt_visibility_key_skips_the_article_and_kb_index_names_it(tmp_path: Path) -> None:
    (tmp_path / "public-article.md").write_text(article_text(body="Opening hours."), encoding="utf-8")
    (tmp_path / "staff-secret.md").write_text(
        "---\ntitle: Staff secret\nvisibilty: internal\n---\nOpening hours for staff.\n", encoding="utf-8"
    )
    (tmp_path / "no-visibility.md").write_text(
        "---\ntitle: Staff note\n---\nOpening hours note.\n", encoding="utf-8"
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "kb", "index"],
        cwd=tmp_path,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "KB_PATH": str(tmp_path),
            "KB_INDEX_PATH": str(tmp_path / "index" / "kb.sqlite3"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'index' / 'store.db'}",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    # The misspelt key is named and its article skipped; an article without the key takes the
    # source's visibility (public for the KB_PATH folder).
    assert "help-center: 2 articles; 2 added, 0 updated, 0 removed, 1 skipped" in result.stdout
    assert "staff-secret.md: unknown front matter key 'visibilty'" in result.stdout
    kb = KnowledgeBase(tmp_path / "index" / "kb.sqlite3")
    try:
        for staff in (False, True):
            titles = {hit.title for hit in kb.search("opening hours", include_internal=staff, limit=10)}
            assert "Staff secret" not in titles and "Staff note" in titles
    finally:
        kb.close()


def test_markdown_is_indexed_as_plain_text() -> None:
    text = markdown_to_text(
        "## Refunds\n\n**Bold** and _em_ with snake_case, `code` and a [link](https://x.example).\n\n"
        "| A | B |\n|---|:-:|\n| 1 | 2 |\n\n- item\n> quote\n\n```sh\necho hi\n```\n"
    )
    assert text == "Refunds\nBold and em with snake_case, code and a link.\nA B\n1 2\nitem\nquote\necho hi"


# -- the demo knowledge base -----------------------------------------------------------------------


def test_every_demo_article_is_valid_and_has_a_help_centre_url() -> None:
    fetched = read_folder(DEMO_KB)
    assert fetched.skipped == ()
    assert len(fetched.articles) == len(list(DEMO_KB.glob("*.md"))) >= 14
    for article in fetched.articles:
        assert article.url.startswith("https://help.northwind.example/")
        assert article.url.endswith("/" + PurePosixPath(article.key).stem)
        assert article.tags
        assert 150 <= len(article.body.split()) <= 450, article.key
        expected = "internal" if article.key in INTERNAL_KEYS else "public"
        assert article.visibility == expected, article.key


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("return policy", "returns-policy.md"),
        ("reset password", "account-and-password-reset.md"),
        ("tracking number", "track-your-order.md"),
        ("How do I reset my password??", "account-and-password-reset.md"),
        ("my card was declined", "payment-problems.md"),
        ("customs duties to Canada", "international-shipping.md"),
        ("cancel my order", "change-or-cancel-an-order.md"),
        ("is my jacket covered by the warranty", "warranty.md"),
        ("gift card expiry", "gift-cards.md"),
    ],
)
def test_the_obvious_article_ranks_first(demo_kb: KnowledgeBase, query: str, slug: str) -> None:
    hits = demo_kb.search(query, include_internal=False)
    assert hits and hits[0].slug == slug, [h.slug for h in hits]


def test_hits_carry_title_url_and_a_plain_text_snippet(demo_kb: KnowledgeBase) -> None:
    hits = demo_kb.search("refund bank card", include_internal=False, limit=3)
    assert 0 < len(hits) <= 3
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    for hit in hits:
        assert hit.title and hit.url.startswith("https://help.northwind.example/articles/")
        assert 40 < len(hit.snippet) <= 601
        assert not any(mark in hit.snippet for mark in ("**", "##", "|", "\n", "\x02"))


@pytest.mark.parametrize(
    "query",
    ["refund approval over $200", "escalation playbook", "fraud review", "chargeback", "staff", "refund"],
)
def test_internal_articles_are_for_staff_only(demo_kb: KnowledgeBase, query: str) -> None:
    public = demo_kb.search(query, include_internal=False, limit=50)
    assert all(hit.visibility == "public" for hit in public)
    assert not {hit.slug for hit in public} & INTERNAL_KEYS
    staff = demo_kb.search(query, include_internal=True, limit=50)
    assert {hit.slug for hit in staff} & INTERNAL_KEYS


def test_staff_find_the_refund_approval_policy_first(demo_kb: KnowledgeBase) -> None:
    hits = demo_kb.search("who can approve a refund over $200", include_internal=True)
    assert hits[0].slug == "refund-approval-policy.md"


async def test_async_search(demo_kb: KnowledgeBase) -> None:
    hits = await demo_kb.asearch("start a return", include_internal=False, limit=1)
    assert [h.slug for h in hits] == ["start-a-return.md"]


def test_an_index_path_that_is_not_a_database_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "kb.sqlite3").write_text("definitely not SQLite " * 100, encoding="utf-8")
    kb = KnowledgeBase(tmp_path / "kb.sqlite3")
    with pytest.raises(ConfigError, match="KB_INDEX_PATH"):
        kb.apply([], seq=1)


# -- queries ---------------------------------------------------------------------------------------

HOSTILE = [
    "",
    "   ",
    '"',
    '""""',
    "AND OR NOT",
    "*",
    "return*",
    "NEAR(",
    "NEAR(return policy, 5)",
    "title:refund",
    "{title body}: refund",
    "^returns",
    "- + ( ) : ^ * \" ' ;",
    "'; DROP TABLE kb_articles; --",
    "\x00\x01\x02 refund",
    "ünïcödé 日本語の返品 🙂 réfund",
    "x" * 10_000,
    "refund " * 2_000,
    " ".join(f"w{i}" for i in range(3_000)),
]


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
@pytest.mark.parametrize("include_internal", [False, True])
def test_hostile_queries_never_raise(demo_kb: KnowledgeBase, query: str, include_internal: bool) -> None:
    hits = demo_kb.search(query, include_internal=include_internal)
    assert isinstance(hits, list)
    assert include_internal or all(hit.visibility == "public" for hit in hits)


def test_query_terms_drop_syntax_stop_words_and_duplicates() -> None:
    assert query_terms('How do I "return" my Boots? return* NEAR(boots)') == ["return", "boots", "near"]
    assert query_terms("AND OR NOT") == []
    assert query_terms("snake_case") == ["snake", "case"]
    assert len(query_terms(" ".join(f"w{i}" for i in range(100)))) == lexical.MAX_QUERY_TERMS


def test_limit_is_respected_and_bounded(demo_kb: KnowledgeBase) -> None:
    assert demo_kb.search("order", include_internal=True, limit=0) == []
    assert len(demo_kb.search("order", include_internal=True, limit=2)) == 2
    assert len(demo_kb.search("order", include_internal=True, limit=10_000)) <= search.MAX_LIMIT


def test_common_words_are_dropped_when_rarer_ones_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a large index, a word in most articles would make every query rank most of the index."""
    monkeypatch.setattr(search, "COMMON_TERM_MIN_DOCS", 10)
    kb = KnowledgeBase(tmp_path / "kb.sqlite3", embedder=lambda: None)  # the lexical half alone
    articles = [
        (f"a{i}", f"Gear guide {i}", "gear " * (i % 7 + 1) + ("crampons" if i < 3 else ""))
        for i in range(200)
    ]
    kb.apply(changes(*articles), seq=1)
    hits = kb.search("gear crampons", include_internal=False, limit=10)
    assert sorted(h.slug for h in hits) == ["a0", "a1", "a2"]
    assert len(kb.search("gear", include_internal=False, limit=10)) == 10  # only common words: still served

    kb.clear()
    kb.apply(changes(*articles[:3], *((f"b{i}", "Tents", "tents") for i in range(200))), seq=1)
    hits = kb.search("gear crampons", include_internal=False, limit=10)  # "gear" is rare now
    assert sorted(h.slug for h in hits) == ["a0", "a1", "a2"]
    assert len(kb.search("tents gear", include_internal=False, limit=10)) == 3  # "tents" is common now
    kb.close()


# -- bounded work per search -------------------------------------------------------------------------


async def test_a_huge_repeated_word_article_is_cut_at_index_time_and_searches_stay_answered(
    tmp_path: Path,
) -> None:
    source = tmp_path / "articles"
    source.mkdir()
    huge = article_text("Huge", body="refund " * 140_000)  # just under the folder source's 1 MB a file
    (source / "huge.md").write_text(huge, encoding="utf-8")
    (source / "hours.md").write_text(article_text("Opening hours", body="We open at nine."), encoding="utf-8")
    kb = KnowledgeBase(tmp_path / "kb.sqlite3")
    try:
        fetched = await aindex_folder(kb, source)
        assert len(fetched.articles) == 2 and fetched.skipped == ()

        with sqlite3.connect(tmp_path / "kb.sqlite3") as conn:
            [(stored,)] = conn.execute(
                "SELECT length(body) FROM kb_sections WHERE key = 'huge.md'"
            ).fetchall()
        assert 0 < stored <= MAX_SECTION_CHARS

        # Several searches at once, the repeated word among them: every one is answered.
        results = await asyncio.gather(
            kb.asearch("refund", include_internal=False),
            kb.asearch("opening hours", include_internal=False),
            kb.asearch("refund refunds refunded", include_internal=True),
            kb.asearch("what time do you open", include_internal=False),
        )
        assert [hit.slug for hit in results[0]] == ["huge.md"]
        assert [hit.slug for hit in results[1]] == ["hours.md"]
        assert [hit.slug for hit in results[2]] == ["huge.md"]
        assert [hit.slug for hit in results[3]] == ["hours.md"]
        snippet = results[0][0].snippet
        assert snippet.startswith("refund refund") and len(snippet) <= snippets.SNIPPET_MAX_CHARS + 1
    finally:
        kb.close()


def test_a_snippet_is_cut_around_the_query_words(tmp_path: Path) -> None:
    filler = " ".join(f"filler{i}" for i in range(300))
    body = f"{filler}\n\nRefunds are **issued** to the original card within five days.\n\n{filler}"
    kb = KnowledgeBase(tmp_path / "kb.sqlite3")
    try:
        kb.apply(changes(("r", "Money back", body)), seq=1)
        [hit] = kb.search("refund to my card", include_internal=False)
    finally:
        kb.close()
    text = hit.snippet
    assert "Refunds are issued to the original card" in text
    assert text.startswith("… ") and text.endswith(" …") and len(text) <= snippets.SNIPPET_MAX_CHARS + 1


def test_kb_search_in_the_terminal_prints_no_control_sequences(tmp_path: Path) -> None:
    body = "Opening hours \x1b]52;c;ZXZpbA==\x07are 9 to 5\x1b[2J\x9b31m every day."
    (tmp_path / "hours.md").write_text(article_text(body=body), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "kb", "search", "opening", "hours"],
        cwd=tmp_path,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "KB_PATH": str(tmp_path),
            "KB_INDEX_PATH": str(tmp_path / "index" / "kb.sqlite3"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'index' / 'store.db'}",
        },
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert b"Opening hours" in result.stdout and b"every day" in result.stdout
    assert b"\x1b" not in result.stdout and "\x9b".encode() not in result.stdout
    assert b"\x07" not in result.stdout
