"""URLs as the website source compares them: one spelling per page, its key, and whether it is in scope."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Query parameters that track a visit and never change the page.
_TRACKING = re.compile(r"^(?:utm_\w+|fbclid|gclid|msclkid|mc_cid|mc_eid|_ga|_gl)$", re.I)


def canonical_url(url: str) -> str | None:
    """``url`` as one spelling of its page, or None when it is not an http(s) URL with a host.

    The fragment is dropped, the scheme and host lowercased, a default port dropped, an empty path made
    ``/``, tracking parameters dropped and the rest of the query sorted.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # a malformed port or IPv6 address
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query) if not _TRACKING.match(k)))
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a canonical URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def page_key(url: str) -> str:
    """A page's key in its source: the path without a trailing slash (``/`` for the root), and the query."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/") or "/"
    return f"{path}?{parts.query}" if parts.query else path


def scope_of(url: str) -> str:
    """The folder of a start URL (``/help/`` for ``/help/returns``): the pages a crawl may reach.

    As ``wget --no-parent`` does: a help center at ``/help/`` is not the shop beside it.
    """
    path = urlsplit(url).path
    return path[: path.rfind("/") + 1] or "/"


@dataclass(frozen=True)
class PathFilter:
    """``include``/``exclude`` globs on the URL path (``*`` also crosses ``/``); ``exclude`` wins."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def admits(self, url: str) -> bool:
        path = urlsplit(url).path or "/"
        spellings = {path, path.rstrip("/") or "/"}

        def matches(patterns: tuple[str, ...]) -> bool:
            return any(fnmatch.fnmatchcase(s, p) for s in spellings for p in patterns)

        return (not self.include or matches(self.include)) and not matches(self.exclude)
