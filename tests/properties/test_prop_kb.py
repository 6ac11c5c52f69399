"""Knowledge-base folders of arbitrary files: reading and indexing them never raises, every file the folder
source reads becomes an article or a skip with a reason, and no query (whatever its text) raises or shows
an internal article to a customer."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from bot.kb.index import KnowledgeBase
from tests.kb_folder import index_folder
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
        read = set()  # hidden names and a generator's partials ("_draft") are not read
        for name, content in files.items():
            path = folder / f"{name}.md"
            try:
                path.write_bytes(content)
            except OSError:  # a name this file system does not take
                continue
            if not name.startswith((".", "_")) or name == "_index":
                read.add(path.name)
        (folder / "internal-secret.md").write_bytes(internal_article())
        read.add("internal-secret.md")

        kb = KnowledgeBase(Path(tmp) / "index.sqlite3")
        try:
            fetched = index_folder(kb, folder)
            keys = [article.key for article in fetched.articles] + [skip.key for skip in fetched.skipped]
            assert sorted(keys) == sorted(read), fetched
            assert all(skip.reason.strip() for skip in fetched.skipped)
            assert "internal-secret.md" in {article.key for article in fetched.articles}
            for query in [*queries, "secret staff procedure"]:
                for include_internal in (False, True):
                    hits = kb.search(query, include_internal=include_internal, limit=10)
                    assert all(hit.visibility in ("public", "internal") for hit in hits)
                    if not include_internal:
                        assert all(hit.visibility == "public" for hit in hits), (query, hits)
                        assert "internal-secret.md" not in {hit.slug for hit in hits}
            assert any(
                hit.slug == "internal-secret.md"
                for hit in kb.search("secret staff procedure", include_internal=True, limit=50)
            )
        finally:
            kb.close()
