"""A Zendesk Help Center (``kind = "zendesk"``), read through its documented Help Center API.

``GET {url}/api/v2/help_center[/{locale}]/sections.json`` names the sections, then
``GET {url}/api/v2/help_center[/{locale}]/articles.json`` lists the articles, both with cursor pagination
(``page[size]``; ``links.next`` while ``meta.has_more``), following an offset response's ``next_page``
as well. Each page is bounded (``page_size``, at most 100, the API's limit) and so is their number
(``max_pages``): what lies past it is reported skipped, not read. A next link to another origin is
refused, so the token is never sent elsewhere.

Without a token the API shows what an anonymous visitor sees. With one (``email`` and ``token_env``, the
name of the environment variable holding an API token; sent as Zendesk documents it, Basic
``{email}/token:{token}``) it shows what that agent sees: drafts, which are skipped, and restricted
articles (a ``user_segment_id``, or ``user_segment_ids``), which become ``internal`` whatever the
source's ``visibility``.

An article's key is ``{locale}/{id}``; its URL the article's ``html_url``; its tags its section's name
and its labels; its body the HTML converted to Markdown (:mod:`bot.kb.sources.html`). A request that
fails raises :class:`SourceError` with the status and Zendesk's reason, never the token.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.kb.sources.base import Fetched, Progress, Skipped, SourceArticle, SourceError
from bot.kb.sources.config import ZendeskSourceConfig
from bot.kb.sources.front_matter import clean_title
from bot.kb.sources.html import html_to_markdown

#: Seconds one request may take, connecting included.
REQUEST_TIMEOUT = 30.0


class ZendeskSource:
    """Reads a Zendesk Help Center; see the module docstring."""

    def __init__(self, config: ZendeskSourceConfig, token: str | None) -> None:
        self.config = config
        self._headers = {"Accept": "application/json"}
        if token is not None:
            credentials = base64.b64encode(f"{config.email}/token:{token}".encode()).decode()
            self._headers["Authorization"] = f"Basic {credentials}"
        self._base = config.url.rstrip("/")
        prefix = f"/api/v2/help_center/{config.locale.lower()}" if config.locale else "/api/v2/help_center"
        self._sections_url = f"{self._base}{prefix}/sections.json"
        self._articles_url = f"{self._base}{prefix}/articles.json"

    @property
    def name(self) -> str:
        return self.config.name

    async def fetch(self, previous: Mapping[str, SourceArticle], progress: Progress) -> Fetched:
        """Every published article the credentials may read (``previous`` is not needed)."""
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        skipped: list[Skipped] = []
        async with aiohttp.ClientSession(timeout=timeout, headers=self._headers) as session:
            section_names: dict[int, str] = {}
            async for sections in self._pages(session, self._sections_url, "sections", skipped):
                for section in sections:
                    if isinstance(section.get("id"), int) and isinstance(section.get("name"), str):
                        section_names[section["id"]] = section["name"]
            articles: list[SourceArticle] = []
            seen = 0
            progress(0, None)
            async for items in self._pages(session, self._articles_url, "articles", skipped):
                # Converting HTML is CPU work (a few ms an article): off the event loop, a page at a time.
                for result in await asyncio.to_thread(self._articles, items, section_names):
                    if isinstance(result, SourceArticle):
                        articles.append(result)
                    else:
                        skipped.append(result)
                seen += len(items)
                progress(seen, None)
        progress(seen, seen)
        return Fetched(articles=tuple(articles), skipped=tuple(skipped))

    async def _pages(
        self, session: aiohttp.ClientSession, first: str, kind: str, skipped: list[Skipped]
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """The items of a paginated list, a page at a time, at most ``max_pages`` pages."""
        url: str | None = f"{first}?page[size]={self.config.page_size}"
        pages = 0
        while url is not None:
            if pages == self.config.max_pages:
                skipped.append(
                    Skipped(kind, f"more than {self.config.max_pages} pages (max_pages); the rest not read")
                )
                return
            page = await self._get(session, url)
            pages += 1
            items = page.get(kind)
            if not isinstance(items, list):
                raise SourceError(f"Zendesk source {self.name!r}: the {kind} list has no {kind!r} array")
            yield [item for item in items if isinstance(item, dict)]
            url = self._next_url(page)

    def _next_url(self, page: dict[str, Any]) -> str | None:
        links, meta = page.get("links"), page.get("meta")
        following: object = None
        if isinstance(meta, dict) and isinstance(links, dict):
            following = links.get("next") if meta.get("has_more") else None
        else:
            following = page.get("next_page")
        if following is None:
            return None
        if not isinstance(following, str) or _origin(following) != _origin(self._base):
            raise SourceError(f"Zendesk source {self.name!r}: a next page link points outside {self._base}")
        return following

    async def _get(self, session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
        path = urlsplit(url).path
        try:
            async with session.get(
                url, headers={"Accept": "application/json"}, allow_redirects=False
            ) as response:
                if response.status != 200:
                    reason = await _reason(response)
                    raise SourceError(
                        f"Zendesk source {self.name!r}: GET {path} answered {response.status} {reason}"
                    )
                body = await response.json(content_type=None)
        except aiohttp.ClientError as exc:
            raise SourceError(
                f"Zendesk source {self.name!r}: GET {path} failed: {type(exc).__name__}"
            ) from None
        except TimeoutError:
            raise SourceError(
                f"Zendesk source {self.name!r}: GET {path} took longer than {REQUEST_TIMEOUT:.0f} s"
            ) from None
        except ValueError:
            raise SourceError(f"Zendesk source {self.name!r}: GET {path} did not answer JSON") from None
        if not isinstance(body, dict):
            raise SourceError(f"Zendesk source {self.name!r}: GET {path} did not answer a JSON object")
        return body

    def _articles(
        self, items: list[dict[str, Any]], section_names: Mapping[int, str]
    ) -> list[SourceArticle | Skipped]:
        return [self._article(item, section_names) for item in items]

    def _article(self, item: dict[str, Any], section_names: Mapping[int, str]) -> SourceArticle | Skipped:
        key = f"{item.get('locale') or self.config.locale or ''}/{item.get('id')}".lstrip("/")
        if item.get("draft") is True:
            return Skipped(key, "draft")
        title = clean_title(item.get("title") or item.get("name") or "")
        url = item.get("html_url")
        if not title or not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return Skipped(key, "no title or html_url")
        body = html_to_markdown(str(item.get("body") or ""), base_url=url).markdown
        if not body.strip():
            return Skipped(key, "no text")
        section_id = item.get("section_id")
        section = section_names.get(section_id) if isinstance(section_id, int) else None
        labels: list[object] = item["label_names"] if isinstance(item.get("label_names"), list) else []
        tags = (clean_title(tag).lower() for tag in [section, *labels] if isinstance(tag, str))
        return SourceArticle(
            key=key,
            title=title,
            url=url,
            body=body,
            visibility="internal" if _restricted(item) else self.config.visibility,
            tags=tuple(dict.fromkeys(tag for tag in tags if tag)),
            locale=item.get("locale") if isinstance(item.get("locale"), str) else self.config.locale,
        )


def _restricted(item: Mapping[str, Any]) -> bool:
    """Whether only a user segment may read the article (one segment id, or the newer list of them)."""
    return item.get("user_segment_id") is not None or bool(item.get("user_segment_ids"))


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


async def _reason(response: aiohttp.ClientResponse) -> str:
    """The HTTP reason and Zendesk's own error words (``error``, ``description``), short."""
    words = [response.reason or ""]
    try:
        body = await response.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        body = None
    if isinstance(body, dict):
        words += [str(body[key])[:120] for key in ("error", "description") if isinstance(body.get(key), str)]
    return ": ".join(word for word in words if word)
