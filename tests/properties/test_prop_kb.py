"""Knowledge-base folders of arbitrary files: indexing never raises, every bad file is skipped with a
reason, and no query (whatever its text) raises or shows an internal article to a customer."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from bot.kb.index import KnowledgeBase, article_files
from tests.properties.strategies import ANY_TEXT, QUICK, STRINGS

LINE = st.one_of(
    ANY_TEXT,
    st.sampled_from(
        [
            "---",
            "...",
            "title: Returns",
            "title:",
            'title: "quoted # not a comment"',
            "title: a\x07bell",
            "url: https://help.example/a",
            "url: javascript:alert(1)",
            "url:",
            "visibility: internal",
            "visibility: public",
            "visibility: secret",
            "visibility:",
            "tags: [a, b, ]",
            "tags:",
            "  - returns",
            "- orphan item",
            "# comment",
            "title: dup",
            "TITLE: upper",
            "extra_key: whatever",
            "\ufeff---",
        ]
    ),
)
FRONT_MATTER_FILE = st.lists(LINE, max_size=8).map(
    lambda lines: "---\n" + "\n".join(lines) + "\n---\nBody text."
)
CONTENT = st.one_of(FRONT_MATTER_FILE, st.lists(LINE, max_size=10).map("\n".join), STRINGS)
NAME = st.one_of(
    st.from_regex(r"[a-z0-9][a-z0-9_-]{0,15}", fullmatch=True),
    st.sampled_from(["README", "readme", ".hidden", "_draft", "Upper", "with space", "ünï", "a.b", "-dash"]),
    st.text(
        st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\:"), min_size=1, max_size=12
    ),
)
FILES = st.dictionaries(NAME, st.one_of(CONTENT.map(str.encode), st.binary(max_size=60)), max_size=6)


def internal_article() -> bytes:
    return (
        b"---\ntitle: Secret staff procedure\nurl: https://help.example/internal/x\n"
        b"visibility: internal\n---\nreturns refunds orders shipping staff procedure secret\n"
    )


@QUICK
@given(files=FILES, queries=st.lists(STRINGS, min_size=1, max_size=4))
@example(files={"ok": internal_article(), "bad": b"\xff\xfe"}, queries=["returns", "*", '"'])
def test_any_folder_indexes_and_any_query_searches(files: dict[str, bytes], queries: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "kb"
        folder.mkdir()
        written = []
        for name, content in files.items():
            path = folder / f"{name}.md"
            try:
                path.write_bytes(content)
            except OSError:  # a name this file system does not take
                continue
            written.append(path)
        (folder / "internal-secret.md").write_bytes(internal_article())
        considered = article_files(folder)

        kb = KnowledgeBase(Path(tmp) / "index.sqlite3", folder)
        try:
            report = kb.rebuild()
            assert report.indexed + report.skipped == len(considered), report
            assert len(report.problems) == report.skipped
            names = {path.name for path in considered}
            for problem in report.problems:
                name, _, reason = problem.partition(": ")
                assert name in names and reason.strip(), problem
            assert report.indexed >= 1  # the valid internal article is there
            for query in [*queries, "secret staff procedure"]:
                for include_internal in (False, True):
                    hits = kb.search(query, include_internal=include_internal, limit=10)
                    assert all(hit.visibility in ("public", "internal") for hit in hits)
                    if not include_internal:
                        assert all(hit.visibility == "public" for hit in hits), (query, hits)
                        assert "internal-secret" not in {hit.slug for hit in hits}
            assert any(
                hit.slug == "internal-secret"
                for hit in kb.search("secret staff procedure", include_internal=True, limit=50)
            )
            assert kb.ensure_index().unchanged
        finally:
            kb.close()
