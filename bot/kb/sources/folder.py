"""A folder of docs (``kind = "folder"``): Markdown, MDX and HTML files as generators and exports leave them.

Read recursively: ``.md`` and ``.markdown`` (Jekyll, Hugo, MkDocs, a Notion export), ``.mdx``
(Docusaurus; see :mod:`bot.kb.sources.markdown_dialects`) and ``.html``/``.htm`` (a Confluence export;
converted by :mod:`bot.kb.sources.html`, which keeps the main content and drops breadcrumbs and
navigation). Any of them may start with YAML (``---``) or TOML (``+++``) front matter
(:mod:`bot.kb.sources.front_matter`). An article's key is its path relative to the folder
(``guide/returns.md``).

What a file gives:

- title: the front matter's ``title``; else the first heading (a Notion export's page title, an MkDocs
  page without front matter), or an HTML page's ``<h1>``/``<title>`` (without the ``Space : `` prefix of a
  Confluence export); else the file name (without a Notion export's 32-hex id, dashes made spaces).
- visibility: the front matter's ``visibility``, else the source's; never guessed (see front_matter).
- url: the front matter's ``url`` when it is an http(s) address; else, when the source has a
  ``base_url``, that joined with the front matter's ``permalink`` (Jekyll), ``slug`` (Docusaurus) or
  path-like ``url`` (Hugo), or with the file's path (without the extension of a Markdown file); else
  empty. An HTML file's relative links are made absolute against its URL.
- tags from ``tags`` and ``categories``; the locale from ``lang``/``locale``/``language`` (or ``<html
  lang>``).

Skipped, with the reason in the sync summary: drafts (``draft: true``, Jekyll's ``published: false``),
front matter that is malformed or says a visibility the bot must not guess, files that are not UTF-8,
files without text, files over ``max_file_bytes``, and every file past ``max_files``.

Conventions of the generators, followed so that a docs folder reads as its site does:

- ``index.md`` (any supported extension), Hugo's ``_index.md`` and ``README.md`` are the page of their
  folder: their URL is the folder's. A ``README.md`` beside an ``index`` file is skipped (MkDocs serves the
  index and ignores the README); without one, it is the folder's page, as on GitHub and in MkDocs.
- Names starting with ``.`` are hidden and never read. Names starting with ``_`` are a generator's
  partials, layouts and drafts (``_includes``, ``_drafts``, Docusaurus's ``_partial.mdx``) and are not
  read, except ``_index.*`` (Hugo's section pages) and ``_posts`` (Jekyll's posts).
- ``include``/``exclude`` are glob patterns matched against the relative path (``*`` also crosses
  ``/``): with ``include`` only matching files are read; ``exclude`` wins over it.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import quote, urljoin

from bot.kb.sources.base import Fetched, Progress, Skipped, SourceArticle, SourceError
from bot.kb.sources.config import FolderSourceConfig

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
MDX_SUFFIXES = frozenset({".mdx"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
SUFFIXES = MARKDOWN_SUFFIXES | MDX_SUFFIXES | HTML_SUFFIXES

#: Files read per worker-thread hop (progress is reported between them).
_BATCH = 64

_NOTION_ID = re.compile(r"\s+[0-9a-f]{32}$")
_CONFLUENCE_PAGE = re.compile(r"""id=["']title-text["']""")
_CONFLUENCE_TITLE = re.compile(r"^[^:]{1,100}\s:\s(.+)$")
_INDEX_STEMS = frozenset({"index", "_index"})
_UNDERSCORE_KEPT = frozenset({"_posts"})


@dataclass(frozen=True)
class _Candidate:
    key: str  # the path relative to the folder, with '/'
    path: Path


class FolderSource:
    """Reads a folder of docs; see the module docstring for what it reads and how."""

    def __init__(self, config: FolderSourceConfig, root: Path) -> None:
        self.config = config
        self.root = root
        # What an article's text depends on besides its file, in each article's validator.
        settings = config.model_dump_json(include={"visibility", "base_url"})
        self._settings = hashlib.sha256(settings.encode()).hexdigest()[:12]

    @property
    def name(self) -> str:
        return self.config.name

    async def fetch(self, previous: Mapping[str, SourceArticle], progress: Progress) -> Fetched:
        """Every article in the folder now. A file whose size and modification time are those it had when
        it became one of ``previous`` (and the source's settings too: its article's ``validator``) is not
        read again: an unchanged folder costs a walk and a ``stat`` per file, which keeps every start of the
        bot quick (it syncs its folders at start)."""
        if not self.root.is_dir():
            raise SourceError(f"folder {str(self.root)!r} does not exist or is not a folder")
        candidates, skipped = await asyncio.to_thread(self._list)
        articles: list[SourceArticle] = []
        progress(0, len(candidates))
        for start in range(0, len(candidates), _BATCH):
            batch = candidates[start : start + _BATCH]
            for result in await asyncio.to_thread(self._read_all, batch, previous):
                if isinstance(result, SourceArticle):
                    articles.append(result)
                else:
                    skipped.append(result)
            progress(start + len(batch), len(candidates))
        return Fetched(articles=tuple(articles), skipped=tuple(skipped))

    # Listing ----------------------------------------------------------------------------------------

    def _list(self) -> tuple[list[_Candidate], list[Skipped]]:
        """The files to read, in path order, at most ``max_files``; a skip for what is past the bound."""
        candidates: list[_Candidate] = []
        skipped: list[Skipped] = []
        for candidate in self._walk():
            if len(candidates) == self.config.max_files:
                skipped.append(
                    Skipped(
                        candidate.key,
                        f"more than {self.config.max_files} files (max_files); the rest not read",
                    )
                )
                break
            candidates.append(candidate)
        keys = {candidate.key for candidate in candidates}
        kept: list[_Candidate] = []
        for candidate in candidates:
            index = _index_beside(candidate.key, keys)
            if index is not None:
                skipped.append(Skipped(candidate.key, f"README beside {index}, which is the folder's page"))
            else:
                kept.append(candidate)
        return kept, skipped

    def _walk(self) -> Iterator[_Candidate]:
        root_real = self.root.resolve()
        for directory, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(name for name in dirnames if _readable_name(name, is_dir=True))
            for filename in sorted(filenames):
                path = Path(directory, filename)
                if path.suffix.lower() not in SUFFIXES or not _readable_name(filename, is_dir=False):
                    continue
                key = path.relative_to(self.root).as_posix()
                if not self._wanted(key) or not path.resolve().is_relative_to(root_real):
                    continue
                yield _Candidate(key, path)

    def _wanted(self, key: str) -> bool:
        include, exclude = self.config.include, self.config.exclude
        if include and not any(fnmatch.fnmatchcase(key, pattern) for pattern in include):
            return False
        return not any(fnmatch.fnmatchcase(key, pattern) for pattern in exclude)

    # Reading ----------------------------------------------------------------------------------------

    def _read_all(
        self, candidates: list[_Candidate], previous: Mapping[str, SourceArticle]
    ) -> list[SourceArticle | Skipped]:
        return [self._read(candidate, previous.get(candidate.key)) for candidate in candidates]

    def _read(self, candidate: _Candidate, known: SourceArticle | None) -> SourceArticle | Skipped:
        key, path = candidate.key, candidate.path
        try:
            stat = path.stat()
            if stat.st_size > self.config.max_file_bytes:
                size = stat.st_size
                return Skipped(key, f"{size} bytes, over max_file_bytes ({self.config.max_file_bytes})")
            validator = f"{stat.st_mtime_ns}:{stat.st_size}:{self._settings}"
            if known is not None and known.validator == validator:
                return known
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            return Skipped(key, "not UTF-8 text")
        except OSError as exc:
            return Skipped(key, f"cannot read: {exc.strerror or type(exc).__name__}")
        return self._parse(key, path, text, validator)

    def _parse(self, key: str, path: Path, text: str, validator: str) -> SourceArticle | Skipped:
        # Imported here: a start that finds every file unchanged needs none of these parsers.
        from bot.kb.sources.front_matter import (
            FrontMatterError,
            is_draft,
            locale_of,
            parse_front_matter,
            tags_of,
            title_of,
            visibility_of,
        )
        from bot.kb.sources.html import html_to_markdown
        from bot.kb.sources.markdown_dialects import first_heading, mdx_to_markdown, plain_markdown

        try:
            fields, body = parse_front_matter(text)
            visibility = visibility_of(fields, self.config.visibility)
        except FrontMatterError as exc:
            return Skipped(key, str(exc))
        if is_draft(fields):
            return Skipped(key, "draft")
        suffix = path.suffix.lower()
        locale, url = locale_of(fields), self._url(key, fields)
        if suffix in HTML_SUFFIXES:
            document = html_to_markdown(body, base_url=url or None)  # relative links made absolute
            if document.noindex:
                return Skipped(key, "marked noindex")
            markdown, heading, locale = (
                document.markdown,
                _html_title(document.title, body),
                locale or document.lang,
            )
        else:
            markdown = mdx_to_markdown(body) if suffix in MDX_SUFFIXES else plain_markdown(body)
            heading = first_heading(markdown)
        if not markdown.strip():
            return Skipped(key, "no text")
        return SourceArticle(
            key=key,
            title=title_of(fields) or heading or _title_from_name(path),
            url=url,
            body=markdown,
            visibility=visibility,
            tags=tags_of(fields),
            locale=locale,
            validator=validator,
        )

    def _url(self, key: str, fields: Mapping[str, object]) -> str:
        given = fields.get("url")
        if isinstance(given, str) and re.match(r"^https?://\S+$", given.strip()):
            return given.strip()
        base = self.config.base_url
        if base is None:
            return ""
        base = base.rstrip("/") + "/"
        for field in ("permalink", "slug", "url"):
            value = fields.get(field)
            if isinstance(value, str) and value.strip() and not re.search(r"\s|://", value.strip()):
                folder = PurePosixPath(key).parent.as_posix()
                relative = value.strip() if value.startswith("/") else f"{folder}/{value.strip()}"
                return urljoin(base, quote(relative.lstrip("./").lstrip("/")))
        return urljoin(base, quote(_page_path(key)))


def _readable_name(name: str, *, is_dir: bool) -> bool:
    """Whether a file or folder name is read (see the module docstring: hidden names, ``_`` partials)."""
    if name.startswith("."):
        return False
    if name.startswith("_"):
        return name in _UNDERSCORE_KEPT if is_dir else PurePosixPath(name).stem == "_index"
    return True


def _index_beside(key: str, keys: set[str]) -> str | None:
    """For a README, the index file beside it (its folder's page) if there is one."""
    path = PurePosixPath(key)
    if path.stem.lower() != "readme":
        return None
    for other in sorted(keys):
        other_path = PurePosixPath(other)
        if other_path.parent == path.parent and other_path.stem.lower() in _INDEX_STEMS:
            return other
    return None


def _page_path(key: str) -> str:
    """A file's path on its site: a folder's page (index, README) as the folder; an HTML file as it is (it
    is the page); a Markdown file without its extension (generators publish it so)."""
    path = PurePosixPath(key)
    if path.stem.lower() in _INDEX_STEMS or path.stem.lower() == "readme":
        folder = path.parent.as_posix()
        return "" if folder == "." else f"{folder}/"
    return key if path.suffix.lower() in HTML_SUFFIXES else path.with_suffix("").as_posix()


def _html_title(title: str | None, html: str) -> str | None:
    """An HTML page's title, without the ``Space : `` prefix a Confluence export puts before it."""
    if title and _CONFLUENCE_PAGE.search(html):
        prefixed = _CONFLUENCE_TITLE.match(title)
        return prefixed[1] if prefixed else title
    return title


def _title_from_name(path: Path) -> str:
    """A title made of a file name: without a Notion id, ``-``/``_`` made spaces, the first letter capital."""
    from bot.kb.sources.front_matter import clean_title  # see FolderSource._parse

    stem = _NOTION_ID.sub("", path.stem)
    if stem.lower() in _INDEX_STEMS | {"readme"} and path.parent.name:
        stem = path.parent.name
    words = clean_title(re.sub(r"[-_]+", " ", stem))
    return words[:1].upper() + words[1:] if words else path.name
