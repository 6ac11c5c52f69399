"""What every knowledge source hands the sync, and what the sync hands the search index.

A source fetches all of its articles at once (:meth:`KnowledgeSource.fetch`); the sync compares them
with what the store holds to count what was added, updated and removed. ``previous`` carries what the
last good sync kept, so that a source can ask its server "changed since?" (ETag / Last-Modified) and hand
back the previous article when the answer is "not modified". A source that cannot be read raises
:class:`SourceError`; the sync then keeps the source's last good articles and records why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

Visibility = Literal["public", "internal"]

#: ``progress(done, total)`` while a source fetches; ``total`` is None while it is not known yet.
Progress = Callable[[int, "int | None"], None]


class SourceError(RuntimeError):
    """The source could not be read (unreachable, refused, malformed); the message says why, no secrets."""


@dataclass(frozen=True)
class SourceArticle:
    """One article as its source gives it, before it is split into sections and indexed."""

    key: str  # stable within its source: a relative path, a URL path, a Help Center article id
    title: str
    url: str  # where a reader opens it (http or https); sections link to url#anchor
    body: str  # Markdown
    visibility: Visibility
    tags: tuple[str, ...] = ()
    locale: str | None = None
    validator: str | None = None  # the ETag or Last-Modified it was fetched with, for conditional re-fetch


@dataclass(frozen=True)
class Skipped:
    """Something the source holds that did not become an article, and why (shown in the sync summary)."""

    key: str
    reason: str


@dataclass(frozen=True)
class Fetched:
    """A complete fetch of one source: every article it holds now, and what was skipped."""

    articles: tuple[SourceArticle, ...]
    skipped: tuple[Skipped, ...] = ()


class KnowledgeSource(Protocol):
    """A configured source of articles (``[[kb.sources]]`` in config/bot.toml)."""

    @property
    def name(self) -> str: ...

    async def fetch(self, previous: Mapping[str, SourceArticle], progress: Progress) -> Fetched: ...


@dataclass(frozen=True)
class ArticleChange:
    """One change the search index applies: an article of a source added or replaced, or removed (None)."""

    source: str
    key: str
    article: SourceArticle | None
