"""The knowledge sources' articles in the store, the same for every store: what replacing a source's
articles changes, and articles to rows and back (``KnowledgeStore`` in ``bot.store.roles``).

A store reads the source's current rows, asks :func:`plan_replace` what to write, hands out one change
number per written article (``kb_sequence``, locked for the transaction) and writes the rows; a removed
article stays as a row with ``removed`` set and its text cleared, so that followers learn of the removal
(docs/architecture.md §6). Such rows are deleted once old (``KnowledgeStore.forget_removals``); the
highest change number deleted is kept (``kb_sequence.pruned_through``), and a follower that has not seen
it yet is told to start again (:func:`change_batch`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.kb.sources.base import ArticleChange, SourceArticle
from bot.store.mapping import Row, Time
from bot.store.records import ChangeBatch, SourceStatus

MAX_CHANGES = 1_000
"""The most changes one ``article_changes`` call returns, whatever its caller asks for."""
SOURCE_ERROR_CHARS = 500
"""A source's last error is kept up to this many characters."""
READ_SEQUENCE = (
    "SELECT seq, pruned_through, store_id FROM kb_sequence, store_identity WHERE kb_sequence.id = 1"
)
"""The row :func:`change_batch` takes: the change numbers and the store's identity (the same SQL on every
store, both tables holding one row)."""


def content_hash(article: SourceArticle) -> str:
    """A digest of what a reader sees of ``article`` (everything but its validator): equal digests, no
    change to index."""
    content = [
        article.title,
        article.url,
        article.visibility,
        list(article.tags),
        article.locale,
        article.body,
    ]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class Current:
    """What the store holds of one article key of a source."""

    content_hash: str
    validator: str | None
    removed: bool


@dataclass(frozen=True)
class Plan:
    """What replacing a source's articles writes: new or changed articles (each takes a change number), the
    keys to mark removed (each takes one too), and unchanged articles whose validator alone changed (they
    take none: nothing a reader sees changed)."""

    added: tuple[SourceArticle, ...]
    updated: tuple[SourceArticle, ...]
    removed: tuple[str, ...]
    revalidated: tuple[SourceArticle, ...]
    articles: int
    """How many live articles the source holds afterwards."""

    @property
    def changes(self) -> int:
        return len(self.added) + len(self.updated) + len(self.removed)


def plan_replace(current: Mapping[str, Current], articles: Sequence[SourceArticle]) -> Plan:
    """What to write so that the source holds exactly ``articles`` (the first of a repeated key wins)."""
    wanted: dict[str, SourceArticle] = {}
    for article in articles:
        wanted.setdefault(article.key, article)
    added: list[SourceArticle] = []
    updated: list[SourceArticle] = []
    revalidated: list[SourceArticle] = []
    for key, article in wanted.items():
        held = current.get(key)
        if held is None or held.removed:
            added.append(article)
        elif held.content_hash != content_hash(article):
            updated.append(article)
        elif held.validator != article.validator:
            revalidated.append(article)
    removed = tuple(key for key, held in current.items() if not held.removed and key not in wanted)
    return Plan(tuple(added), tuple(updated), removed, tuple(revalidated), len(wanted))


def current_by_key(rows: Iterable[Row]) -> dict[str, Current]:
    """Rows of ``key, content_hash, validator, removed`` as :class:`Current` by key."""
    return {row["key"]: Current(row["content_hash"], row["validator"], bool(row["removed"])) for row in rows}


def article_params(
    source: str, item: SourceArticle, seq: int, now: Any, text: Callable[[str], str] = str
) -> tuple[Any, ...]:
    """The parameters of an article's row, in the order of the stores' ``kb_articles`` upsert; ``text``
    is how free text goes in where the store's text columns refuse some characters."""
    return (
        source,
        item.key,
        text(item.title),
        item.url,
        item.visibility,
        text(json.dumps(list(item.tags), ensure_ascii=False)),
        text(item.body),
        item.locale,
        item.validator,
        content_hash(item),
        now,
        seq,
    )


def article(row: Row) -> SourceArticle:
    """A live article's row as the source gave it."""
    return SourceArticle(
        key=row["key"],
        title=row["title"],
        url=row["url"],
        body=row["body"],
        visibility=row["visibility"],
        tags=tuple(json.loads(row["tags"])),
        locale=row["locale"],
        validator=row["validator"],
    )


def change(row: Row) -> ArticleChange:
    """An article row as the change a follower applies: its newest state, or its removal."""
    return ArticleChange(row["source"], row["key"], None if row["removed"] else article(row))


def change_batch(rows: Sequence[Row], after: int, limit: int, sequence: Row) -> ChangeBatch:
    """The changes ``rows`` read after ``after`` (at most ``limit``), as a follower gets them; ``sequence``
    is the store's row of ``kb_sequence`` (``seq``, its last change number, and ``pruned_through``) with
    its ``store_id``.

    A follower past 0 but behind ``pruned_through`` may have missed a removal whose row is deleted: it gets
    ``restart`` and no changes. One that starts from 0 needs none of the deleted rows (they were
    removals), so the batch that reaches the newest change carries it to ``pruned_through`` at least.
    ``pruned_through`` and ``newest`` must be read after ``rows``: a pass that deletes rows in between
    then makes the follower start again rather than miss them, and a change numbered meanwhile never
    makes a follower look ahead of the store. A follower past ``newest`` followed another store (or this
    one before it was restored from an older backup): it gets ``restart`` and ``ahead``.
    """
    newest, pruned_through = int(sequence["seq"]), int(sequence["pruned_through"])
    store_id = str(sequence["store_id"])
    if after > newest:
        return ChangeBatch((), after, store_id, restart=True, ahead=True)
    if 0 < after < pruned_through:
        return ChangeBatch((), after, store_id, restart=True)
    seq = rows[-1]["seq"] if rows else after
    if len(rows) < limit:
        seq = max(seq, pruned_through)
    return ChangeBatch(tuple(change(row) for row in rows), seq, store_id)


def status_params(source: str, now: Any, plan: Plan, skipped: int) -> tuple[Any, ...]:
    """The parameters of a successful sync's status row, in the order of the stores' status upsert."""
    return (
        source,
        now,
        now,
        None,
        plan.articles,
        len(plan.added),
        len(plan.updated),
        len(plan.removed),
        skipped,
    )


def source_status(row: Row, time: Time) -> SourceStatus:
    success = row["last_success_at"]
    return SourceStatus(
        source=row["source"],
        last_attempt_at=time(row["last_attempt_at"]),
        last_success_at=None if success is None else time(success),
        last_error=row["last_error"],
        articles=row["articles"],
        added=row["added"],
        updated=row["updated"],
        removed=row["removed"],
        skipped=row["skipped"],
    )


def check_limit(limit: int) -> int:
    """``limit`` bounded by :data:`MAX_CHANGES`; ``ValueError`` below 1."""
    if limit < 1:
        raise ValueError(f"limit must be >= 1, not {limit}")
    return min(limit, MAX_CHANGES)


def error_text(error: str) -> str:
    """A source's error as kept: one line, at most :data:`SOURCE_ERROR_CHARS` characters."""
    return " ".join(error.split())[:SOURCE_ERROR_CHARS]


__all__ = [
    "MAX_CHANGES",
    "Current",
    "Plan",
    "article",
    "article_params",
    "change",
    "change_batch",
    "check_limit",
    "content_hash",
    "current_by_key",
    "error_text",
    "plan_replace",
    "source_status",
    "status_params",
]
