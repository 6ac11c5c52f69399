"""One bounded GET for the website source: a timeout, a size cap, redirects kept on the site, "changed?".

:func:`get` never raises for what a server or the network does: it hands back a :class:`Page`, a
:class:`NotModified` or a :class:`Failure` whose reason is shown in the sync summary.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin

import aiohttp

from bot.kb.sources.web_urls import canonical_url, origin_of

MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([\w.:-]{1,40})""", re.I)


@dataclass(frozen=True)
class Page:
    """A 2xx response, read whole (within the size cap)."""

    url: str  # canonical, after the redirects followed
    content_type: str  # lowercased, without parameters
    body: bytes
    charset: str | None
    validator: str | None  # the ETag, else the Last-Modified date

    def text(self) -> str:
        """The body as text: the header's charset, else ``<meta charset>``, else UTF-8, bad bytes replaced."""
        for charset in (self.charset, _meta_charset(self.body), "utf-8"):
            if charset:
                try:
                    return self.body.decode(charset, errors="replace")
                except LookupError:  # an unknown charset name
                    continue
        return self.body.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class NotModified:
    """304: the page is as it was when ``validator`` was handed back."""

    url: str


@dataclass(frozen=True)
class Failure:
    """Why a URL gave nothing; ``transient`` when it may work next time (a timeout, a 5xx, a 429)."""

    reason: str
    transient: bool
    status: int | None = None  # the HTTP status, when there was a response


Result = Page | NotModified | Failure


def conditional_headers(validator: str | None) -> dict[str, str]:
    """The request headers that ask "changed since?": an ETag is quoted, a Last-Modified date is not."""
    if not validator:
        return {}
    if validator.startswith(('"', 'W/"')):
        return {"If-None-Match": validator}
    return {"If-Modified-Since": validator}


async def get(
    session: aiohttp.ClientSession,
    url: str,
    *,
    max_bytes: int,
    allowed: Callable[[str], bool],
    validator: str | None = None,
    accept: str = "text/html,application/xhtml+xml",
) -> Result:
    """GET ``url``, following at most :data:`MAX_REDIRECTS` redirects that stay on its origin and that
    ``allowed`` (robots.txt) admits. The session's timeout bounds each request."""
    origin = origin_of(url)
    headers = {"Accept": accept, **conditional_headers(validator)}
    try:
        for _ in range(MAX_REDIRECTS + 1):
            async with session.get(url, headers=headers, allow_redirects=False) as response:
                if response.status in _REDIRECTS:
                    target = canonical_url(urljoin(url, response.headers.get("Location", "")))
                    if target is None or origin_of(target) != origin:
                        return Failure(f"redirects to another site ({target or 'no location'})", False)
                    if not allowed(target):
                        return Failure(f"redirects to {target}, which robots.txt disallows", False)
                    url = target
                    continue
                return await _result(response, url, max_bytes)
        return Failure(f"more than {MAX_REDIRECTS} redirects", False)
    except TimeoutError:
        return Failure("timed out", True)
    except aiohttp.ClientError as exc:
        return Failure(f"could not be read ({type(exc).__name__})", True)


async def _result(response: aiohttp.ClientResponse, url: str, max_bytes: int) -> Result:
    status = response.status
    if status == 304:
        return NotModified(url)
    if not 200 <= status < 300:
        return Failure(f"HTTP {status}", status >= 500 or status == 429, status)
    length = response.content_length
    if length is not None and length > max_bytes:
        return Failure(f"larger than {max_bytes} bytes", False, status)
    body = bytearray()
    async for chunk in response.content.iter_chunked(_CHUNK):
        body += chunk
        if len(body) > max_bytes:
            return Failure(f"larger than {max_bytes} bytes", False, status)
    return Page(
        url=url,
        content_type=response.content_type.lower(),
        body=bytes(body),
        charset=response.charset,
        validator=response.headers.get("ETag") or response.headers.get("Last-Modified"),
    )


def _meta_charset(body: bytes) -> str | None:
    found = _META_CHARSET.search(body[:4096])
    return found.group(1).decode("ascii") if found else None
