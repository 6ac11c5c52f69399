"""Open the Store named by a database URL (``DATABASE_URL``; DESIGN.md §8).

Accepted URLs:

- ``sqlite:///relative/path.db``: a file relative to the working directory (the default is
  ``sqlite:///data/supportbot.db``);
- ``sqlite:////abs/path.db``: an absolute path;
- ``sqlite://:memory:`` (or ``sqlite:///:memory:``): a private in-memory database, gone on close.

``postgresql://`` (also ``postgres://`` and ``postgresql+asyncpg://``) is recognised but not built yet and
raises ``StoreUnavailable``. Error messages never repeat a URL that may carry credentials: only its scheme.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bot.store.migrations import MigrationError
from bot.store.protocol import Store
from bot.store.sqlite import MEMORY, SQLiteStore

_POSTGRES_SCHEMES = frozenset({"postgresql", "postgres", "postgresql+asyncpg"})
_EXAMPLES = "sqlite:///data/supportbot.db, sqlite:////abs/path.db, sqlite://:memory: or postgresql://…"


class StoreUnavailable(RuntimeError):
    """The store named by the URL cannot be used: its backend is missing, or the database cannot be
    opened or migrated. The message is one line meant for the operator."""


@dataclass(frozen=True)
class SQLiteURL:
    """A parsed ``sqlite://`` URL: ``path`` is a file path or ``":memory:"``."""

    path: str

    @property
    def in_memory(self) -> bool:
        return self.path == MEMORY


def url_scheme(url: str) -> str:
    """The lower-cased scheme of ``url``; ``ValueError`` if it has none."""
    scheme, sep, _ = url.partition("://")
    if not sep or not scheme:
        raise ValueError(f"database URL has no scheme; expected one of {_EXAMPLES}")
    return scheme.lower()


def parse_sqlite_url(url: str) -> SQLiteURL:
    """Parse ``sqlite:///relative``, ``sqlite:////absolute`` or ``sqlite://:memory:``.

    ``ValueError`` for anything else: another scheme, a host part, a query string or an empty path.
    """
    scheme = url_scheme(url)
    if scheme != "sqlite":
        raise ValueError(f"not an sqlite:// URL (scheme {scheme!r})")
    rest = url.partition("://")[2]
    if rest in (MEMORY, "/" + MEMORY):
        return SQLiteURL(MEMORY)
    if "?" in rest:
        raise ValueError(f"sqlite URL {url!r} has a query string, which is not supported")
    if not rest.startswith("/"):
        raise ValueError(
            f"sqlite URL {url!r} names a host; use sqlite:///relative/path.db or sqlite:////abs/path.db"
        )
    path = rest[1:]  # "/rel/x.db" -> "rel/x.db"; "//abs/x.db" -> "/abs/x.db"
    if not path or path.endswith("/"):
        raise ValueError(f"sqlite URL {url!r} names no database file")
    return SQLiteURL(path)


async def open_store(url: str) -> Store:
    """Open, create if needed and migrate the store named by ``url``.

    Raises ``ValueError`` for a malformed URL or an unknown scheme (the message names the scheme) and
    ``StoreUnavailable`` when the backend is not available (PostgreSQL, for now) or the database cannot be
    opened or migrated (the original error is chained).
    """
    scheme = url_scheme(url)
    if scheme in _POSTGRES_SCHEMES:
        raise StoreUnavailable(
            f"DATABASE_URL uses {scheme}://, but PostgreSQL support is not built yet (it will need the "
            "'postgres' extra: pip install 'supportbot[postgres]'); use sqlite:///data/supportbot.db for now"
        )
    if scheme != "sqlite":
        raise ValueError(f"unsupported database URL scheme {scheme!r}; expected one of {_EXAMPLES}")
    parsed = parse_sqlite_url(url)
    try:
        return await SQLiteStore.open(parsed.path if parsed.in_memory else Path(parsed.path))
    except (OSError, sqlite3.Error, MigrationError) as exc:
        raise StoreUnavailable(f"cannot open the SQLite database {parsed.path}: {exc}") from exc


__all__ = ["SQLiteURL", "StoreUnavailable", "open_store", "parse_sqlite_url", "url_scheme"]
