"""What a ``[[kb.sources]]`` table holds: the keys every kind shares, and each kind's own.

The config models are kept apart from the sources they open (``open`` imports the kind's module when it
is called), so that reading config/bot.toml costs none of the libraries a source fetches with (aiohttp,
Beautiful Soup, the front-matter parser): a command that only reads the settings starts quickly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.errors import ConfigError
from bot.kb.sources.base import Visibility
from bot.kb.sources.web_urls import canonical_url

if TYPE_CHECKING:
    from bot.kb.sources.folder import FolderSource
    from bot.kb.sources.website import WebsiteSource
    from bot.kb.sources.zendesk import ZendeskSource

#: Shortest and longest re-sync interval in seconds (``sync_every``).
MIN_SYNC_EVERY = 1.0
MAX_SYNC_EVERY = 30 * 86_400.0


class SourceConfig(BaseModel):
    """The keys every kind of source shares. Unknown keys are refused, so a misspelt one is named."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64)
    #: The visibility of an article that does not say its own (``public`` for everyone, ``internal`` for
    #: staff).
    visibility: Visibility = "public"
    #: Seconds between scheduled syncs in ``supportbot serve``; None: only at start and on ``kb sync``.
    sync_every: float | None = Field(default=None, ge=MIN_SYNC_EVERY, le=MAX_SYNC_EVERY)


#: The most pages one website source may fetch per sync, whatever ``max_pages`` says.
MAX_PAGES = 10_000
DEFAULT_USER_AGENT = "supportbot (knowledge base sync)"
#: Hosts a Zendesk token may be sent to over plain http (a local fake or proxy).
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class FolderSourceConfig(SourceConfig):
    """``[[kb.sources]]`` with ``kind = "folder"``."""

    kind: Literal["folder"]
    #: The folder; a relative path is relative to the folder of the config file (see :meth:`open`).
    path: Path
    #: Where the folder is published: a file's URL is built from it when its front matter has no ``url``.
    base_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    #: Files larger than this are skipped.
    max_file_bytes: int = Field(default=1_000_000, ge=1_000, le=50_000_000)
    #: Files past this many (in path order) are skipped.
    max_files: int = Field(default=10_000, ge=1, le=200_000)

    @field_validator("include", "exclude")
    @classmethod
    def _patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not pattern.strip() for pattern in value):
            raise ValueError("patterns must not be empty")
        return value

    def open(self, base_dir: Path) -> FolderSource:
        """The source this config describes, its ``path`` resolved against ``base_dir`` when relative."""
        from bot.kb.sources.folder import FolderSource

        return FolderSource(self, (base_dir / self.path).resolve())


class WebsiteSourceConfig(SourceConfig):
    """``[[kb.sources]]`` with ``kind = "website"``."""

    kind: Literal["website"]
    #: The start page, or a sitemap (a URL ending in ``.xml``).
    url: str = Field(pattern=r"^https?://[^\s/?#@]+(?:[/?]\S*)?$")
    #: Globs on the URL path (``/help/*``; ``*`` also crosses ``/``): only matching pages become articles.
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    max_pages: int = Field(default=500, ge=1, le=MAX_PAGES)
    #: Requests in flight at once.
    concurrency: int = Field(default=4, ge=1, le=16)
    #: Seconds for one request, from sending it to its last byte.
    timeout: float = Field(default=20.0, ge=1.0, le=300.0)
    #: A page larger than this is skipped.
    max_page_bytes: int = Field(default=5_000_000, ge=10_000, le=50_000_000)
    #: Sent with every request; robots.txt rules for its first word (``supportbot``) apply.
    user_agent: str = Field(default=DEFAULT_USER_AGENT, pattern=r"^[ -~]{1,200}$")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if canonical_url(value) is None:
            raise ValueError("must be an http(s) URL with a host")
        return value

    @field_validator("include", "exclude")
    @classmethod
    def _path_globs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not pattern.startswith(("/", "*")) for pattern in value):
            raise ValueError("patterns are globs on the URL path and start with '/' or '*'")
        return value

    def open(self, base_dir: Path) -> WebsiteSource:
        """The source this config describes (a website needs nothing from ``base_dir``)."""
        from bot.kb.sources.website import WebsiteSource

        return WebsiteSource(self)


class ZendeskSourceConfig(SourceConfig):
    """``[[kb.sources]]`` with ``kind = "zendesk"``."""

    kind: Literal["zendesk"]
    #: The Help Center's base URL (``https://acme.zendesk.com``, or a brand's own subdomain).
    url: str = Field(pattern=r"^https?://[^/\s?#]+/?$")
    #: A locale such as ``en-us`` or ``de``; None: the Help Center's default.
    locale: str | None = Field(default=None, pattern=r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
    #: The agent the token belongs to; with ``token_env``, or neither.
    email: str | None = Field(default=None, pattern=r"^[^\s@/:]+@[^\s@/:]+$")
    #: The name of the environment variable that holds the API token (never the token itself).
    token_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    page_size: int = Field(default=100, ge=1, le=100)
    max_pages: int = Field(default=200, ge=1, le=10_000)

    @model_validator(mode="after")
    def _credentials(self) -> ZendeskSourceConfig:
        if (self.email is None) != (self.token_env is None):
            raise ValueError("email and token_env go together: set both for restricted articles, or neither")
        host = urlsplit(self.url).hostname or ""
        if self.token_env and self.url.startswith("http://") and host not in LOCAL_HOSTS:
            raise ValueError("url must be https:// when a token is sent")
        return self

    def open(self, base_dir: Path, environ: Mapping[str, str] = os.environ) -> ZendeskSource:
        """The source this config describes (``base_dir`` is not needed: a Help Center has no local path).

        Raises :class:`ConfigError` naming the variable when ``token_env`` names one that is not set.
        """
        token = None
        if self.token_env is not None:
            token = environ.get(self.token_env, "").strip()
            if not token:
                raise ConfigError(
                    f"{self.token_env} is not set (knowledge source {self.name!r} reads its Zendesk "
                    "API token from it)"
                )
        from bot.kb.sources.zendesk import ZendeskSource

        return ZendeskSource(self, token)
