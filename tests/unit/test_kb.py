"""The knowledge base: front matter, the demo articles, ranking, visibility, re-indexing, odd queries."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.kb import index as kb_module
from bot.kb import lexical, search, snippets
from bot.kb.index import Article, FrontMatterError, KnowledgeBase, parse_article, parse_front_matter
from bot.kb.lexical import query_terms
from bot.kb.markdown import markdown_to_text

ROOT = Path(__file__).resolve().parents[2]
DEMO_KB = ROOT / "config" / "kb"
INTERNAL_SLUGS = {"refund-approval-policy", "escalation-playbook", "fraud-review-procedure"}

GOOD = """---
title: "Returns: the short version"   # a comment after a quoted value
url: https://help.example/articles/returns
visibility: internal
tags: [Returns, refunds, "rma"]
# a comment line
---
# Heading

Body text.
"""


def article_text(title: str = "A title", visibility: str = "public", body: str = "Some body text.") -> str:
    return f"---\ntitle: {title}\nurl: https://help.example/a\nvisibility: {visibility}\n---\n{body}\n"


@pytest.fixture(scope="module")
def demo_kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    kb = KnowledgeBase(tmp_path_factory.mktemp("kb") / "kb.sqlite3", DEMO_KB)
    kb.ensure_index()
    yield kb
    kb.close()


@pytest.fixture
def kb_copy(tmp_path: Path) -> Iterator[tuple[KnowledgeBase, Path]]:
    source = tmp_path / "articles"
    shutil.copytree(DEMO_KB, source)
    kb = KnowledgeBase(tmp_path / "index" / "kb.sqlite3", source)
    yield kb, source
    kb.close()


# -- front matter ----------------------------------------------------------------------------------


def test_front_matter_with_quotes_comments_and_an_inline_list() -> None:
    article = parse_article("returns", GOOD)
    assert article.title == "Returns: the short version"
    assert article.url == "https://help.example/articles/returns"
    assert article.visibility == "internal"
    assert article.tags == ("returns", "refunds", "rma")
    assert article.body == "# Heading\n\nBody text."


def test_block_list_and_comma_separated_tags() -> None:
    block = "---\ntitle: T\nvisibility: public\ntags:\n  - Shipping\n  - 'ups'  # carrier\n  - shipping\n---"
    assert parse_article("t", block).tags == ("shipping", "ups")
    assert parse_article("t", "---\ntitle: T\nvisibility: public\ntags: a, b ,\n---\n").tags == ("a", "b")


def test_url_may_be_empty() -> None:
    article = parse_article("t", "---\ntitle: T\nurl:\nvisibility: public\n---\nbody")
    assert (article.visibility, article.url) == ("public", "")


@pytest.mark.parametrize(
    ("front_matter", "problem"),
    [
        ("visibilty: internal", "unknown front matter key 'visibilty' (did you mean 'visibility'?)"),
        ("visibility: internal\nowner: ops", "unknown front matter key 'owner'"),
        ("visibility: internl", "visibility"),
        ("visibility: Public", "visibility"),
        ("url: https://help.example/a", "no visibility key"),
    ],
)
def test_visibility_never_fails_open(front_matter: str, problem: str) -> None:
    with pytest.raises(FrontMatterError) as info:
        parse_article("t", f"---\ntitle: Staff only\n{front_matter}\n---\nbody")
    assert problem in str(info.value)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("no front matter at all", "no front matter"),
        ("---\ntitle: T\nbody without a closing line", "not closed"),
        ("---\nurl: https://help.example/x\n---\nbody", "no title"),
        ("---\ntitle:\n---\nbody", "no title"),
        (article_text(visibility="secret"), "visibility"),
        ("---\ntitle: T\nvisibility:\n---\n", "visibility must be a single value"),
        ("---\ntitle: T\nurl: ftp://files.example/x\n---\n", "url"),
        ("---\ntitle: T\njust some words\n---\n", "line 3: expected 'key: value'"),
        ("---\n- orphan item\ntitle: T\n---\n", "line 2: list item"),
        ("---\ntitle: T\ntitle: U\n---\n", "duplicate key 'title'"),
        ("---\ntitle: Bad\x07bell\n---\n", "control characters"),
    ],
)
def test_bad_front_matter_names_the_problem(text: str, problem: str) -> None:
    with pytest.raises(FrontMatterError, match=problem):
        parse_article("slug", text)


def test_a_file_name_that_is_not_a_slug_is_rejected() -> None:
    with pytest.raises(FrontMatterError, match="file name"):
        parse_article("Returns Policy", article_text())


def test_parse_front_matter_keeps_unknown_keys_and_the_body() -> None:
    fields, body = parse_front_matter("\ufeff---\nTitle: T\nowner: ops\n---\n\nbody\n")
    assert fields == {"title": "T", "owner": "ops"}
    assert body == "body"


def test_bad_files_are_skipped_with_a_warning_naming_the_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "good.md").write_text(article_text(), encoding="utf-8")
    (tmp_path / "no-title.md").write_text("---\nurl: https://help.example/x\n---\nbody", encoding="utf-8")
    (tmp_path / "bad-visibility.md").write_text(article_text(visibility="staff"), encoding="utf-8")
    (tmp_path / "binary.md").write_bytes(b"\xff\xfe\x00garbage")
    (tmp_path / "README.md").write_text("# About this folder", encoding="utf-8")
    (tmp_path / "_draft.md").write_text("not front matter", encoding="utf-8")
    kb = KnowledgeBase(tmp_path / "kb.sqlite3", tmp_path)
    with caplog.at_level(logging.WARNING, logger="bot.kb"):
        report = kb.ensure_index()
    kb.close()
    assert (report.indexed, report.skipped) == (1, 3)
    warnings = "\n".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    for name, problem in [
        ("no-title.md", "no title"),
        ("bad-visibility.md", "visibility"),
        ("binary.md", ""),
    ]:
        assert name in warnings and problem in warnings
        assert any(line.startswith(name) for line in report.problems)
    assert "README.md" not in warnings and "_draft.md" not in warnings


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
    kb = KnowledgeBase(tmp_path / "index" / "kb.sqlite3", tmp_path)
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


def test_every_demo_article_is_valid_and_has_a_help_centre_url(demo_kb: KnowledgeBase) -> None:
    report = demo_kb.ensure_index()
    assert report.indexed >= 14
    assert report.skipped == 0, report.problems
    for path in sorted(DEMO_KB.glob("*.md")):
        article = parse_article(path.stem, path.read_text(encoding="utf-8"))
        assert article.url.startswith("https://help.northwind.example/")
        assert article.url.endswith("/" + article.slug)
        assert article.tags
        assert 150 <= len(article.body.split()) <= 450, path.name
        expected = "internal" if article.slug in INTERNAL_SLUGS else "public"
        assert article.visibility == expected, path.name


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("return policy", "returns-policy"),
        ("reset password", "account-and-password-reset"),
        ("tracking number", "track-your-order"),
        ("How do I reset my password??", "account-and-password-reset"),
        ("my card was declined", "payment-problems"),
        ("customs duties to Canada", "international-shipping"),
        ("cancel my order", "change-or-cancel-an-order"),
        ("is my jacket covered by the warranty", "warranty"),
        ("gift card expiry", "gift-cards"),
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
    assert not {hit.slug for hit in public} & INTERNAL_SLUGS
    staff = demo_kb.search(query, include_internal=True, limit=50)
    assert {hit.slug for hit in staff} & INTERNAL_SLUGS


def test_staff_find_the_refund_approval_policy_first(demo_kb: KnowledgeBase) -> None:
    hits = demo_kb.search("who can approve a refund over $200", include_internal=True)
    assert hits[0].slug == "refund-approval-policy"


async def test_async_wrappers(demo_kb: KnowledgeBase) -> None:
    report = await demo_kb.aensure_index()
    assert report.unchanged
    hits = await demo_kb.asearch("start a return", include_internal=False, limit=1)
    assert [h.slug for h in hits] == ["start-a-return"]


# -- re-indexing -----------------------------------------------------------------------------------


def test_reindexes_only_when_files_change(kb_copy: tuple[KnowledgeBase, Path]) -> None:
    kb, source = kb_copy
    first = kb.ensure_index()
    assert not first.unchanged and first.indexed >= 14
    assert kb.ensure_index().unchanged
    assert KnowledgeBase(kb.index_path, source).ensure_index().unchanged  # persisted, new instance

    page = source / "gift-cards.md"
    page.write_text(
        page.read_text(encoding="utf-8") + "\nWe also sell zeppelin vouchers.\n", encoding="utf-8"
    )
    assert not kb.ensure_index().unchanged
    assert [h.slug for h in kb.search("zeppelin", include_internal=False)] == ["gift-cards"]
    assert kb.ensure_index().unchanged

    stat = page.stat()
    os.utime(page, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # touched, same content
    assert not kb.ensure_index().unchanged

    (source / "new-article.md").write_text(article_text("Kayak roof racks"), encoding="utf-8")
    report = kb.ensure_index()
    assert (report.unchanged, report.indexed) == (False, first.indexed + 1)

    (source / "new-article.md").unlink()
    (source / "gift-cards.md").unlink()
    report = kb.ensure_index()
    assert (report.unchanged, report.indexed) == (False, first.indexed - 1)
    lexical = KnowledgeBase(kb.index_path, source, embedder=lambda: None)
    assert lexical.search("zeppelin", include_internal=True) == []  # the word left with its article
    lexical.close()


def test_a_skipped_file_is_still_reported_when_nothing_changed(kb_copy: tuple[KnowledgeBase, Path]) -> None:
    kb, source = kb_copy
    (source / "broken.md").write_text("no front matter", encoding="utf-8")
    first = kb.ensure_index()
    again = kb.ensure_index()
    assert again.unchanged
    assert (again.indexed, again.skipped, again.problems) == (first.indexed, 1, first.problems)


def test_rebuild_always_reindexes(kb_copy: tuple[KnowledgeBase, Path]) -> None:
    kb, _ = kb_copy
    kb.ensure_index()
    assert not kb.rebuild().unchanged


def test_first_search_builds_the_index(kb_copy: tuple[KnowledgeBase, Path]) -> None:
    kb, _ = kb_copy
    assert not kb.index_path.exists()
    assert kb.search("reset password", include_internal=False)[0].slug == "account-and-password-reset"


def test_a_missing_source_folder_gives_an_empty_index(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "kb.sqlite3", tmp_path / "nowhere")
    report = kb.ensure_index()
    assert (report.indexed, report.skipped) == (0, 1)
    assert kb.search("returns", include_internal=True) == []
    kb.close()


def test_an_index_path_that_is_not_a_database_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "kb.sqlite3").write_text("definitely not SQLite " * 100, encoding="utf-8")
    kb = KnowledgeBase(tmp_path / "kb.sqlite3", DEMO_KB)
    with pytest.raises(ConfigError, match="KB_INDEX_PATH"):
        kb.ensure_index()


def test_index_articles_skips_duplicate_slugs(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "kb.sqlite3", tmp_path)
    report = kb.index_articles(
        [Article(slug="a", title="First"), Article(slug="a", title="Second"), Article(slug="b", title="B")]
    )
    assert (report.indexed, report.skipped) == (2, 1)
    assert [h.title for h in kb.search("first second", include_internal=True)] == ["First"]
    assert not kb.ensure_index().unchanged  # index_articles leaves no folder fingerprint
    kb.close()


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
    kb = KnowledgeBase(tmp_path / "kb.sqlite3", tmp_path, embedder=lambda: None)  # the lexical half alone
    articles = [
        Article(
            slug=f"a{i}", title=f"Gear guide {i}", body="gear " * (i % 7 + 1) + ("crampons" if i < 3 else "")
        )
        for i in range(200)
    ]
    kb.index_articles(articles)
    hits = kb.search("gear crampons", include_internal=False, limit=10)
    assert sorted(h.slug for h in hits) == ["a0", "a1", "a2"]
    assert len(kb.search("gear", include_internal=False, limit=10)) == 10  # only common words: still served

    kb.index_articles(
        [*articles[:3], *(Article(slug=f"b{i}", title="Tents", body="tents") for i in range(200))]
    )
    hits = kb.search("gear crampons", include_internal=False, limit=10)  # "gear" is rare now
    assert sorted(h.slug for h in hits) == ["a0", "a1", "a2"]
    assert len(kb.search("tents gear", include_internal=False, limit=10)) == 3  # "tents" is common now
    kb.close()


# -- bounded work per search -------------------------------------------------------------------------


async def test_a_huge_repeated_word_article_is_cut_at_index_time_and_searches_stay_answered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = tmp_path / "articles"
    source.mkdir()
    (source / "huge.md").write_text(article_text("Huge", body="refund " * 150_000), encoding="utf-8")  # 1 MB
    (source / "hours.md").write_text(article_text("Opening hours", body="We open at nine."), encoding="utf-8")
    kb = KnowledgeBase(tmp_path / "kb.sqlite3", source)
    try:
        with caplog.at_level(logging.WARNING, logger="bot.kb"):
            report = await kb.aensure_index()
        assert report.indexed == 2 and report.skipped == 0
        warning = "\n".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
        assert "huge.md" in warning and f"{kb_module.MAX_ARTICLE_CHARS}" in warning

        with sqlite3.connect(tmp_path / "kb.sqlite3") as conn:
            [(stored,)] = conn.execute("SELECT length(body) FROM kb_sections WHERE key = 'huge'").fetchall()
        assert 0 < stored <= kb_module.MAX_ARTICLE_CHARS

        # Several searches at once, the repeated word among them: every one is answered.
        results = await asyncio.gather(
            kb.asearch("refund", include_internal=False),
            kb.asearch("opening hours", include_internal=False),
            kb.asearch("refund refunds refunded", include_internal=True),
            kb.asearch("what time do you open", include_internal=False),
        )
        assert [hit.slug for hit in results[0]] == ["huge"]
        assert [hit.slug for hit in results[1]] == ["hours"]
        assert [hit.slug for hit in results[2]] == ["huge"]
        assert [hit.slug for hit in results[3]] == ["hours"]
        snippet = results[0][0].snippet
        assert snippet.startswith("refund refund") and len(snippet) <= snippets.SNIPPET_MAX_CHARS + 1
    finally:
        kb.close()


def test_a_snippet_is_cut_around_the_query_words(tmp_path: Path) -> None:
    filler = " ".join(f"filler{i}" for i in range(300))
    body = f"{filler}\n\nRefunds are **issued** to the original card within five days.\n\n{filler}"
    kb = KnowledgeBase(tmp_path / "kb.sqlite3", tmp_path / "none")
    try:
        kb.index_articles([Article(slug="r", title="Money back", body=body)])
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
