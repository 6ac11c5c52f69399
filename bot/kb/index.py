"""Articles parsed from Markdown with front matter, indexed into SQLite FTS5 (docs/architecture.md §6).

An article is a ``*.md`` file in the source folder (top level only; names starting with ``.`` or ``_``
and ``README.md`` are ignored). It starts with front matter between ``---`` lines::

    ---
    title: How to start a return
    url: https://help.northwind.example/articles/start-a-return
    visibility: public        # or internal (staff only); required
    tags: [returns, rma]      # or one "- item" per line below "tags:"
    ---
    Markdown body…

The front matter parser is deliberately small (no YAML dependency): ``key: value`` lines, optionally
quoted values, ``[a, b]`` inline lists and ``- item`` block lists, ``#`` comments. A file that cannot be
parsed or validated is skipped with a warning naming the file and the problem; it never stops indexing.
Visibility never fails open: an article without a ``visibility`` key, with a value other than ``public``
or ``internal``, or with any key other than the four above (``visibilty: internal``) is skipped, and the
warning names the key.

The index is its own SQLite file: a ``kb_articles`` table that is also the external content of an FTS5
table (``porter unicode61`` tokenizer) ranked with bm25, the title weighted above tags and body. A
``kb_meta`` table keeps a fingerprint of the source folder so that :meth:`KnowledgeBase.ensure_index`
re-indexes only when files were added, removed or changed.

Indexing and search are synchronous and CPU-bound; async callers use :meth:`KnowledgeBase.asearch` and
:meth:`KnowledgeBase.aensure_index`, which run them in a worker thread. The work of one search is bounded
whatever an article holds: bodies are cut to :data:`MAX_ARTICLE_CHARS` at index time (with a warning
naming the file), snippets are cut in Python in one linear pass over at most
:data:`SNIPPET_SCAN_CHARS` of the few articles returned (FTS5's ``snippet()`` is quadratic in the
matches of one article), and searches run side by side on connections of their own.
"""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import json
import logging
import re
import secrets
import sqlite3
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.errors import ConfigError

logger = logging.getLogger(__name__)

Visibility = Literal["public", "internal"]

#: Bumped whenever the index layout or the text preparation changes, so old index files are rebuilt.
SCHEMA_VERSION = 2

#: Characters of an article that are indexed; the rest is cut at index time, with a warning naming the
#: file. A help article is a few thousand characters; a megabyte of one repeated word is a mistake or an
#: attack, and every search would pay for it.
MAX_ARTICLE_CHARS = 200_000

# Search tuning ----------------------------------------------------------------------------------

#: bm25 column weights, in the order of the FTS5 columns (title, tags, body).
BM25_WEIGHTS = (10.0, 4.0, 1.0)

#: Added to the score for each query word found in the title. FTS5's bm25 gives a word that occurs in
#: more than half of the articles no weight at all (its idf is clamped to ~0), which in a small
#: knowledge base hits words like "return" or "order"; without this nudge "return policy" would be
#: decided by "policy" alone. In a large index bm25 scores are much larger, so this only breaks ties.
TITLE_WORD_BONUS = 3.0

#: How many bm25 results per requested hit are re-scored with the title bonus (at least MIN_POOL).
POOL_FACTOR = 4
MIN_POOL = 20

#: The most hits one search returns.
MAX_LIMIT = 50

#: Longest snippet handed back, in characters, and how many words a snippet window holds.
SNIPPET_MAX_CHARS = 600
SNIPPET_TOKENS = 64

#: Characters at the start of an article that a snippet is looked for in (a match further on still
#: ranks the article; its snippet is then the article's beginning).
SNIPPET_SCAN_CHARS = 32_000

#: Idle read connections kept for the next searches (more are opened while searches overlap).
MAX_IDLE_READERS = 4

#: Query words beyond this many are ignored; so are words longer than ``MAX_QUERY_TERM_CHARS``.
MAX_QUERY_TERMS = 16
MAX_QUERY_TERM_CHARS = 64

# English function words (and a few words every support question contains) that only dilute a
# full-text query. Immutable on purpose.
STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most
    my myself no nor not now of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves
    hi hello hey please thanks thank get got want need know tell help ok okay
    """.split()  # noqa: SIM905 (a word block reads better than 160 quoted strings)
)


# --------------------------------------------------------------------------------------------------
# Articles and front matter


class FrontMatterError(ValueError):
    """The front matter of an article is missing or malformed."""


class Article(BaseModel):
    """One validated knowledge-base article. ``body`` is the Markdown below the front matter."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True, extra="forbid")

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=200)
    title: str = Field(min_length=1, max_length=300)
    url: str = ""
    visibility: Visibility = "public"
    tags: tuple[str, ...] = ()
    body: str = ""

    @field_validator("title")
    @classmethod
    def _printable(cls, value: str) -> str:
        if any(ord(char) < 32 or ord(char) == 127 for char in value):
            raise ValueError("title must not contain control characters")
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not re.match(r"^https?://\S+$", value):
            raise ValueError("url must be an http(s) address")
        return value

    @field_validator("tags", mode="before")
    @classmethod
    def _normalise_tags(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            cleaned = (str(tag).strip().lower() for tag in value)
            return tuple(dict.fromkeys(tag for tag in cleaned if tag))
        return value


_KEY_LINE = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_-]*)\s*:(?:\s+(?P<value>.*?))?\s*$")
_LIST_ITEM = re.compile(r"^\s*-\s+(?P<value>.*?)\s*$")
_FRONT_MATTER_KEYS = frozenset({"title", "url", "visibility", "tags"})


_QUOTED = re.compile(r"""^(?P<quote>["'])(?P<text>.*?)(?P=quote)\s*(?:#.*)?$""")


def _strip_comment(value: str) -> str:
    """``value`` without a trailing ``# comment`` (a ``#`` inside a word or URL stays)."""
    return re.split(r"(?:^|\s+)#", value, maxsplit=1)[0].strip()


def _scalar(value: str) -> str:
    """A single value: quoted (quotes removed, ``#`` inside kept) or plain (comment dropped)."""
    quoted = _QUOTED.match(value)
    return quoted["text"] if quoted else _strip_comment(value)


def parse_front_matter(text: str) -> tuple[dict[str, str | list[str]], str]:
    """Split ``text`` into its front matter fields and the body below it.

    Keys are lower-cased; unknown keys are kept (:func:`parse_article` rejects them). Raises
    :class:`FrontMatterError` with a human-readable reason when the block is missing or malformed.
    """
    lines = text.removeprefix("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise FrontMatterError("no front matter (the file must start with a '---' line)")
    try:
        end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() in ("---", "..."))
    except StopIteration:
        raise FrontMatterError("front matter is not closed by a '---' line") from None

    fields: dict[str, str | list[str]] = {}
    open_list: list[str] | None = None  # the block list that "- item" lines currently append to
    for number, line in enumerate(lines[1:end], start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        item = _LIST_ITEM.match(line)
        if item is not None:
            if open_list is None:
                raise FrontMatterError(f"line {number}: list item without a 'key:' line above it")
            open_list.append(_scalar(item["value"]))
            continue
        match = _KEY_LINE.match(line)
        if match is None:
            raise FrontMatterError(f"line {number}: expected 'key: value', got {line.strip()[:60]!r}")
        key = match["key"].lower()
        if key in fields:
            raise FrontMatterError(f"line {number}: duplicate key {key!r}")
        value = match["value"] or ""
        plain = _strip_comment(value)
        open_list = None
        if not plain:
            open_list = []
            fields[key] = open_list
        elif plain.startswith("[") and plain.endswith("]"):
            fields[key] = [_scalar(part.strip()) for part in plain[1:-1].split(",") if part.strip()]
        else:
            fields[key] = _scalar(value)
    body = "\n".join(lines[end + 1 :]).strip()
    return fields, body


def parse_article(slug: str, text: str) -> Article:
    """Parse and validate one article; raises :class:`FrontMatterError` naming the problem."""
    fields, body = parse_front_matter(text)
    for key in fields:
        if key not in _FRONT_MATTER_KEYS:
            close = difflib.get_close_matches(key, sorted(_FRONT_MATTER_KEYS), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "the keys are title, url, visibility, tags"
            raise FrontMatterError(f"unknown front matter key {key!r} ({hint})")
    if not fields.get("title"):
        raise FrontMatterError("front matter has no title")
    data: dict[str, object] = dict(fields)
    if data.get("url") == []:  # "url:" with nothing after it
        del data["url"]
    for key in ("title", "url", "visibility"):  # an empty "visibility:" is an error, not "public"
        if isinstance(data.get(key), list):
            raise FrontMatterError(f"{key} must be a single value")
    try:
        article = Article.model_validate({**data, "slug": slug, "body": body})
    except ValidationError as exc:
        problems = "; ".join(
            "file name must use only a-z, 0-9, '-' and '_'"
            if err["loc"] == ("slug",)
            else f"{'.'.join(str(part) for part in err['loc'])}: {err['msg']}"
            for err in exc.errors()
        )
        raise FrontMatterError(problems) from None
    if "visibility" not in fields:  # no default: a forgotten key must not make an article public
        raise FrontMatterError("front matter has no visibility key (add 'visibility: public' or 'internal')")
    return article


def article_files(source_dir: Path) -> list[Path]:
    """The article files of ``source_dir`` in a stable order (see the module docstring for exclusions)."""
    if not source_dir.is_dir():
        return []
    return sorted(
        path
        for path in source_dir.glob("*.md")
        if path.is_file() and path.name[0] not in "._" and path.name.lower() != "readme.md"
    )


def load_articles(files: Iterable[Path]) -> tuple[list[Article], list[str]]:
    """Read and validate ``files``; returns the articles and one ``"name: problem"`` line per skipped file.

    Every problem is also logged as a warning. The slug is the file name without ``.md``.
    """
    articles: list[Article] = []
    problems: list[str] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
            article = parse_article(path.stem, text)
        except (OSError, UnicodeDecodeError, FrontMatterError) as exc:
            reason = str(exc) if isinstance(exc, FrontMatterError) else f"cannot read: {exc}"
            logger.warning("knowledge base: skipping %s: %s", path, reason)
            problems.append(f"{path.name}: {reason}")
            continue
        if len(article.body) > MAX_ARTICLE_CHARS:
            logger.warning(
                "knowledge base: %s has %d characters; only the first %d are indexed",
                path,
                len(article.body),
                MAX_ARTICLE_CHARS,
            )
            article = article.model_copy(update={"body": _cut(article.body, MAX_ARTICLE_CHARS)})
        articles.append(article)
    return articles, problems


def _cut(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at a line or word boundary when there is one."""
    if len(text) <= limit:
        return text
    cut = max(text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
    return text[: cut if cut > limit // 2 else limit]


# --------------------------------------------------------------------------------------------------
# Markdown to plain text (what is indexed and what snippets are cut from)

# (characters that must occur for the rule to apply, pattern, replacement); the guard skips passes
# that cannot match, which is most of them for plain prose.
_MARKDOWN_RULES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("`~", re.compile(r"^[ \t]*(```|~~~).*$", re.MULTILINE), ""),  # code fence lines (the code stays)
    ("#", re.compile(r"^[ \t]{0,3}#{1,6}[ \t]*", re.MULTILINE), ""),  # heading marks
    (">", re.compile(r"^[ \t]*>[ \t]?", re.MULTILINE), ""),  # block quotes
    ("-*_", re.compile(r"^[ \t]*([-*_])([ \t]*\1){2,}[ \t]*$", re.MULTILINE), ""),  # horizontal rules
    ("|", re.compile(r"^[ \t|:-]*-{3,}[ \t|:-]*$", re.MULTILINE), ""),  # table rule lines
    ("-*+", re.compile(r"^[ \t]*[-*+][ \t]+", re.MULTILINE), ""),  # bullets
    ("[", re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),  # links and images: keep the text
    ("<", re.compile(r"<(https?://[^>\s]+)>"), r"\1"),  # autolinks
    ("<", re.compile(r"</?[A-Za-z][^>]*>"), ""),  # inline HTML tags
    ("`", re.compile(r"`([^`]*)`"), r"\1"),  # inline code
    ("*", re.compile(r"\*+"), ""),  # emphasis
    ("_", re.compile(r"(?<!\w)_+|_+(?!\w)"), ""),  # emphasis (snake_case survives)
    ("|", re.compile(r"[ \t]*\|[ \t]*"), " "),  # table cell borders
)


def markdown_to_text(markdown: str) -> str:
    """A plain-text rendering of ``markdown``, good enough to index and to quote from.

    One line per non-blank source line, with runs of spaces collapsed.
    """
    text = markdown
    for guard, pattern, replacement in _MARKDOWN_RULES:
        if any(char in text for char in guard):
            text = pattern.sub(replacement, text)
    return "\n".join(" ".join(words) for line in text.splitlines() if (words := line.split()))


# --------------------------------------------------------------------------------------------------
# Queries

_WORD = re.compile(r"[^\W_]+")


def query_terms(text: str) -> list[str]:
    """The searchable words of arbitrary user or model text, in order of first appearance.

    Words are case-folded letters and digits only (so FTS5 syntax such as ``AND``, ``NEAR(``, ``*``,
    ``^``, ``:`` and quotes cannot get through as syntax); stop words and duplicates are dropped and at
    most :data:`MAX_QUERY_TERMS` words are kept.
    """
    terms: dict[str, None] = {}
    for word in _WORD.findall(text.casefold()):
        if word not in STOPWORDS and len(word) <= MAX_QUERY_TERM_CHARS:
            terms[word] = None
            if len(terms) == MAX_QUERY_TERMS:
                break
    return list(terms)


def match_expression(terms: Iterable[str]) -> str:
    """An FTS5 MATCH expression that ORs ``terms``, each one a quoted string.

    OR rather than AND so that an article matching only some of the words is still found; bm25 ranks
    the articles matching more (and rarer) words first.
    """
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)


# --------------------------------------------------------------------------------------------------
# The index


@dataclass(frozen=True)
class IndexReport:
    """The outcome of an indexing run. ``unchanged`` means the index was already up to date.

    ``problems`` has one ``"file: reason"`` line per skipped article.
    """

    indexed: int
    skipped: int
    unchanged: bool
    problems: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line for people: ``17 articles indexed, 0 skipped (unchanged)``."""
        articles = "article" if self.indexed == 1 else "articles"
        state = "unchanged" if self.unchanged else "re-indexed"
        return f"{self.indexed} {articles} indexed, {self.skipped} skipped ({state})"


@dataclass(frozen=True)
class KbHit:
    """One search result. ``score``: higher is better (negated bm25 plus :data:`TITLE_WORD_BONUS`)."""

    slug: str
    title: str
    url: str
    visibility: Visibility
    snippet: str
    score: float


#: Internal articles get row ids from here up and public ones below it, so "public only" is a rowid
#: range that FTS5 applies while it walks its index, instead of a lookup of every match's visibility.
#: A CHECK constraint keeps the id and the visibility column in agreement.
INTERNAL_ID_BASE = 1 << 40
_MAX_ROWID = (1 << 63) - 1

#: A query word found in more than this many articles *and* this share of all articles is "common":
#: its bm25 weight (idf) is small while ranking every article that contains it dominates query time,
#: so it is dropped from queries that have rarer words. Small knowledge bases never reach the floor.
COMMON_TERM_MIN_DOCS = 2_000
COMMON_TERM_FRACTION = 0.05

_DOC_COUNT_CACHE_SIZE = 10_000

_MARK = "\x02"  # marks query words in highlight() output; titles cannot contain control characters

_SCHEMA = f"""
CREATE TABLE kb_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE kb_articles (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    url TEXT NOT NULL,
    visibility TEXT NOT NULL CHECK ((visibility = 'internal') = (id >= {INTERNAL_ID_BASE})),
    tags TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE VIRTUAL TABLE kb_articles_fts USING fts5(
    title, tags, body,
    content='kb_articles', content_rowid='id',
    tokenize='porter unicode61'
);
"""

_DROP = """
DROP TABLE IF EXISTS kb_articles_fts;
DROP TABLE IF EXISTS kb_articles;
DROP TABLE IF EXISTS kb_meta;
"""

# Rank every match with bm25 and keep a small pool of the best, then, for the pool only, mark the
# query words in the title (for TITLE_WORD_BONUS): highlight() costs far more than bm25() and must not
# run for every matching row. Snippets are cut afterwards, for the hits returned only (see _snippet).
# CROSS JOIN fixes the join order so that the second MATCH is a rowid lookup, not a second walk over all
# matches. The visibility test in the outer
# query repeats the rowid range on purpose (defence in depth, on a few rows).
_SEARCH_SQL = f"""
WITH pool (id, score) AS (
    SELECT rowid, bm25(kb_articles_fts, {", ".join(map(str, BM25_WEIGHTS))})
    FROM kb_articles_fts
    WHERE kb_articles_fts MATCH :match AND rowid < :id_limit
    ORDER BY 2
    LIMIT :pool
)
SELECT a.id, a.slug, a.title, a.url, a.visibility, pool.score,
       highlight(kb_articles_fts, 0, '{_MARK}', '')
FROM pool
CROSS JOIN kb_articles AS a ON a.id = pool.id
CROSS JOIN kb_articles_fts ON kb_articles_fts.rowid = pool.id
WHERE kb_articles_fts MATCH :match AND (:include_internal OR a.visibility = 'public')
ORDER BY pool.score
"""

_BODY_SQL = "SELECT substr(body, 1, ?) FROM kb_articles WHERE id = ?"

_DOC_COUNT_SQL = "SELECT count(*) FROM (SELECT 1 FROM kb_articles_fts WHERE kb_articles_fts MATCH ? LIMIT ?)"

_ArticleRow = tuple[int, str, str, str, str, str, str]


def _fingerprint(files: Iterable[Path]) -> str:
    """A digest of the names, sizes and modification times of ``files`` plus the schema version."""
    digest = hashlib.sha256(f"schema={SCHEMA_VERSION}\n".encode())
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            continue
        digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _clip(text: str, limit: int = SNIPPET_MAX_CHARS) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > limit // 2 else limit - 1] + "…"


def _fold(word: str) -> str:
    """``word`` case-folded and, if it is not ASCII, without diacritics (as FTS5's unicode61 sees it)."""
    word = word.casefold()
    if word.isascii():
        return word
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def _stem_prefix(term: str) -> str:
    """The start of ``term`` that a body word must begin with to count as the same word in a snippet:
    a crude stand-in for the porter stemmer that ranked it ("refunds", "refunded" for "refund")."""
    return term[: min(len(term), max(4, len(term) - 3))]


def _snippet(text: str, terms: Iterable[str], *, truncated: bool) -> str:
    """The window of :data:`SNIPPET_TOKENS` words of ``text`` holding the most distinct query words
    (then the most matches), on one line, with `` … `` where text was left out.

    Linear in ``len(text)``: one pass to find the words, one sliding window over the matches.
    ``truncated``: ``text`` is only the beginning of the article.
    """
    words = [(m.start(), m.end(), _fold(m.group())) for m in _WORD.finditer(text)]
    if not words:
        return _clip(text)
    prefixes: dict[int, dict[str, int]] = {}  # prefix length -> prefix -> term number
    for number, term in enumerate(dict.fromkeys(_fold(t) for t in terms)):
        prefix = _stem_prefix(term)
        prefixes.setdefault(len(prefix), {}).setdefault(prefix, number)
    hits: list[tuple[int, int]] = []  # (word position, term number)
    for position, (_, _, word) in enumerate(words):
        for length, table in prefixes.items():
            found = table.get(word[:length]) if len(word) >= length else None
            if found is not None:
                hits.append((position, found))
                break
    start = 0
    if hits:
        best: tuple[int, int] = (0, 0)
        counts: dict[int, int] = {}
        end = 0
        for first, (position, _) in enumerate(hits):
            while end < len(hits) and hits[end][0] < position + SNIPPET_TOKENS:
                counts[hits[end][1]] = counts.get(hits[end][1], 0) + 1
                end += 1
            score = (len(counts), end - first)
            if score > best:
                best, start = score, position
            number = hits[first][1]
            counts[number] -= 1
            if not counts[number]:
                del counts[number]
        start = max(0, min(start - 4, len(words) - SNIPPET_TOKENS))
    stop = min(len(words), start + SNIPPET_TOKENS)
    fragment = text[words[start][0] : words[stop - 1][1]]
    lead = "… " if start > 0 else ""
    tail = " …" if stop < len(words) or truncated else ""
    return _clip(lead + fragment + tail)


class KnowledgeBase:
    """A searchable index of the articles in ``source_dir``, kept in the SQLite file ``index_path``.

    Safe to share between threads: each search borrows a read connection of its own (the lock is held
    only to take one from the idle list or give it back, and around the cached counts, never across a
    query), so one slow search never queues the others; each indexing run writes through its own
    connection in a single transaction, so searches keep seeing the previous index (WAL) until the new
    one is committed. Other processes may index the same file; searches notice their commits.
    """

    def __init__(self, index_path: Path, source_dir: Path) -> None:
        self.index_path = index_path
        self.source_dir = source_dir
        self._lock = threading.Lock()  # guards the idle connections and the fields below
        self._idle: list[sqlite3.Connection] = []
        self._ready = False
        self._generation: str | None = None
        self._article_count = 0
        self._doc_counts: dict[str, int] = {}

    # -- indexing -----------------------------------------------------------------------------------

    def ensure_index(self) -> IndexReport:
        """Index the source folder unless the index already matches it (same files, sizes, mtimes)."""
        return self._index_folder(force=False)

    def rebuild(self) -> IndexReport:
        """Re-index the source folder unconditionally."""
        return self._index_folder(force=True)

    def index_articles(self, articles: Iterable[Article]) -> IndexReport:
        """Replace the whole index with ``articles`` (for tools and benchmarks that have no folder).

        ``articles`` is consumed once, as a stream. The stored fingerprint is left empty, so the next
        :meth:`ensure_index` re-indexes the source folder.
        """
        return self._write(articles, fingerprint="", problems=[])

    def current_report(self) -> IndexReport | None:
        """The report of the last indexing run if the index still matches the source folder; ``None`` if
        it is missing or out of date. Reads only (``supportbot doctor``)."""
        return self._stored_report(_fingerprint(article_files(self.source_dir)))

    async def aensure_index(self) -> IndexReport:
        return await asyncio.to_thread(self.ensure_index)

    async def arebuild(self) -> IndexReport:
        return await asyncio.to_thread(self.rebuild)

    def _index_folder(self, *, force: bool) -> IndexReport:
        files = article_files(self.source_dir)
        fingerprint = _fingerprint(files)  # taken before reading: a file changed meanwhile re-indexes
        if not force:
            stored = self._stored_report(fingerprint)
            if stored is not None:
                self._ready = True
                return stored
        articles, problems = load_articles(files)
        if not self.source_dir.is_dir():
            logger.warning("knowledge base: source folder %s does not exist", self.source_dir)
            problems.insert(0, f"{self.source_dir}: source folder does not exist")
        return self._write(articles, fingerprint=fingerprint, problems=problems)

    def _connect(self) -> sqlite3.Connection:
        """A connection to the index file; :class:`ConfigError` if that file is not an SQLite database."""
        self.index_path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.index_path, check_same_thread=False, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=5000")
            conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.DatabaseError as exc:
            conn.close()
            if "not a database" not in str(exc):
                raise
            # Not deleted automatically: the path may point at someone else's file by mistake.
            raise ConfigError(
                f"KB_INDEX_PATH: {self.index_path} is not an SQLite database; delete it to rebuild "
                "the knowledge-base index, or choose another path"
            ) from None
        return conn

    def _stored_report(self, fingerprint: str) -> IndexReport | None:
        """The report of the last run if the index is current for ``fingerprint``, else ``None``."""
        if not self.index_path.exists():
            return None
        try:
            with self._reading() as conn:
                meta = dict(conn.execute("SELECT key, value FROM kb_meta").fetchall())
        except sqlite3.OperationalError:  # no index tables yet
            return None
        if meta.get("schema_version") != str(SCHEMA_VERSION) or meta.get("fingerprint") != fingerprint:
            return None
        problems = tuple(json.loads(meta.get("problems", "[]")))
        return IndexReport(int(meta.get("indexed", 0)), len(problems), unchanged=True, problems=problems)

    def _write(self, articles: Iterable[Article], *, fingerprint: str, problems: list[str]) -> IndexReport:
        """Replace every table with an index of ``articles``, in one transaction."""
        next_id = {"public": 1, "internal": INTERNAL_ID_BASE}
        seen: set[str] = set()

        def rows() -> Iterator[_ArticleRow]:
            for article in articles:
                if article.slug in seen:
                    reason = f"{article.slug}: duplicate slug, only the first article is indexed"
                    logger.warning("knowledge base: skipping %s", reason)
                    problems.append(reason)
                    continue
                seen.add(article.slug)
                row_id = next_id[article.visibility]
                next_id[article.visibility] += 1
                yield (
                    row_id,
                    article.slug,
                    article.title,
                    article.url,
                    article.visibility,
                    " ".join(article.tags),
                    _cut(markdown_to_text(article.body), MAX_ARTICLE_CHARS),
                )

        conn = self._connect()
        try:
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA cache_size=-65536")
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in (_DROP + _SCHEMA).split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.executemany("INSERT INTO kb_articles VALUES (?, ?, ?, ?, ?, ?, ?)", rows())
                # Build the full-text index from the content table in one pass, then merge its segments
                # into a single b-tree so that a query reads one doclist per word.
                conn.execute("INSERT INTO kb_articles_fts (kb_articles_fts) VALUES ('rebuild')")
                conn.execute("INSERT INTO kb_articles_fts (kb_articles_fts) VALUES ('optimize')")
                meta = {
                    "schema_version": str(SCHEMA_VERSION),
                    "fingerprint": fingerprint,
                    "indexed": str(len(seen)),
                    "problems": json.dumps(problems),
                    "generation": secrets.token_hex(8),  # tells searches their cached counts are stale
                }
                conn.executemany("INSERT INTO kb_meta (key, value) VALUES (?, ?)", meta.items())
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        finally:
            conn.close()
        self._ready = True
        logger.info("knowledge base: indexed %d articles, skipped %d", len(seen), len(problems))
        return IndexReport(len(seen), len(problems), unchanged=False, problems=tuple(problems))

    # -- search -------------------------------------------------------------------------------------

    def search(self, query: str, *, include_internal: bool, limit: int = 5) -> list[KbHit]:
        """The best ``limit`` (at most :data:`MAX_LIMIT`) articles for ``query``.

        ``internal`` articles are only returned when ``include_internal`` is true (staff).

        Never raises for odd query text: a query without searchable words returns ``[]``. The first
        search of an instance indexes the source folder if the index is missing or stale.
        """
        terms = query_terms(query)
        if not terms or limit <= 0:
            return []
        if not self._ready:
            self.ensure_index()
        limit = min(limit, MAX_LIMIT)
        try:
            with self._reading() as conn:
                match = match_expression(self._selective_terms(conn, terms))
                params = {
                    "match": match,
                    "id_limit": _MAX_ROWID if include_internal else INTERNAL_ID_BASE,
                    "include_internal": include_internal,
                    "pool": max(MIN_POOL, POOL_FACTOR * limit),
                }
                rows = conn.execute(_SEARCH_SQL, params).fetchall()
                scored = sorted(  # stable: bm25 order breaks ties
                    rows, key=lambda row: -row[5] + TITLE_WORD_BONUS * row[6].count(_MARK), reverse=True
                )[:limit]
                bodies = [
                    conn.execute(_BODY_SQL, (SNIPPET_SCAN_CHARS + 1, row[0])).fetchone() for row in scored
                ]
        except sqlite3.OperationalError as exc:
            if "fts5" not in str(exc):
                raise
            logger.warning("knowledge base: FTS5 rejected the query %r: %s", query[:200], exc)
            return []
        hits = []
        for (_, slug, title, url, vis, bm25, marked_title), body in zip(scored, bodies, strict=True):
            text = body[0] if body else ""
            truncated = len(text) > SNIPPET_SCAN_CHARS
            hits.append(
                KbHit(
                    slug=slug,
                    title=title,
                    url=url,
                    visibility=vis,
                    snippet=_snippet(text[:SNIPPET_SCAN_CHARS], terms, truncated=truncated),
                    score=-bm25 + TITLE_WORD_BONUS * marked_title.count(_MARK),
                )
            )
        return hits

    async def asearch(self, query: str, *, include_internal: bool, limit: int = 5) -> list[KbHit]:
        return await asyncio.to_thread(self.search, query, include_internal=include_internal, limit=limit)

    def _selective_terms(self, conn: sqlite3.Connection, terms: list[str]) -> list[str]:
        """``terms`` without the common ones (see :data:`COMMON_TERM_FRACTION`); keeps at least one.

        Document counts are bounded (counting stops past the threshold) and cached until the index
        changes (a new ``generation`` in ``kb_meta``); the lock is held only around the cache.
        """
        meta = dict(
            conn.execute("SELECT key, value FROM kb_meta WHERE key IN ('generation', 'indexed')").fetchall()
        )
        with self._lock:
            if meta.get("generation") != self._generation:  # first call, or the index was rebuilt
                self._generation = meta.get("generation")
                self._doc_counts.clear()
                self._article_count = int(meta.get("indexed", 0))
            threshold = max(COMMON_TERM_MIN_DOCS, int(self._article_count * COMMON_TERM_FRACTION))
            if self._article_count <= threshold:
                return terms
            if len(self._doc_counts) > _DOC_COUNT_CACHE_SIZE:
                self._doc_counts.clear()
            counts = {term: self._doc_counts[term] for term in terms if term in self._doc_counts}
        for term in terms:
            if term not in counts:
                query = match_expression([term])
                counts[term] = conn.execute(_DOC_COUNT_SQL, (query, threshold + 1)).fetchone()[0]
        with self._lock:
            if self._generation == meta.get("generation"):
                self._doc_counts.update(counts)
        selective = [term for term in terms if counts[term] <= threshold]
        return selective or [min(terms, key=counts.__getitem__)]

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """A read connection for the caller alone: an idle one, or a new one; given back afterwards."""
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        try:
            yield conn
        finally:
            with self._lock:
                if len(self._idle) < MAX_IDLE_READERS:
                    self._idle.append(conn)
                    conn = None
            if conn is not None:
                conn.close()

    def close(self) -> None:
        """Close the idle read connections (a later search opens a new one)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
