"""Open the Store named by a database URL (``DATABASE_URL``; docs/architecture.md §8).

Accepted URLs:

- ``sqlite:///relative/path.db``: a file relative to the working directory (the default is
  ``sqlite:///data/supportbot.db``);
- ``sqlite:////abs/path.db``: an absolute path;
- ``sqlite://:memory:`` (or ``sqlite:///:memory:``): a private in-memory database, gone on close.

- ``postgresql://user:password@host:5432/database`` (also ``postgres://`` and ``postgresql+asyncpg://``):
  PostgreSQL through asyncpg (the ``postgres`` extra), in the schema first on the ``search_path``; add
  ``?search_path=name`` to use another (existing) schema. Other query parameters asyncpg knows (``sslmode``,
  ``host`` for a socket directory, …) work as documented by asyncpg.

Error messages never repeat a URL that may carry credentials: only its scheme, or for PostgreSQL
``user@host:port/database``.
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


async def open_store(
    url: str, *, pool_min_size: int | None = None, pool_max_size: int | None = None
) -> Store:
    """Open, create if needed and migrate the store named by ``url``.

    ``pool_min_size``/``pool_max_size`` size PostgreSQL's connection pool (defaults in
    ``bot.store.postgres``); SQLite has one connection and ignores them.

    Raises ``ValueError`` for a malformed URL or an unknown scheme (the message names the scheme) and
    ``StoreUnavailable`` when the backend is not installed or the database cannot be reached, opened or
    migrated (the original error is chained).
    """
    scheme = url_scheme(url)
    if scheme in _POSTGRES_SCHEMES:
        return await _open_postgres(url, scheme, pool_min_size, pool_max_size)
    if scheme != "sqlite":
        raise ValueError(f"unsupported database URL scheme {scheme!r}; expected one of {_EXAMPLES}")
    parsed = parse_sqlite_url(url)
    try:
        return await SQLiteStore.open(parsed.path if parsed.in_memory else Path(parsed.path))
    except (OSError, sqlite3.Error, MigrationError) as exc:
        raise StoreUnavailable(f"cannot open the SQLite database {parsed.path}: {exc}") from exc


async def _open_postgres(url: str, scheme: str, min_size: int | None, max_size: int | None) -> Store:
    try:
        import asyncpg

        from bot.store import postgres
    except ImportError as exc:
        if exc.name not in ("asyncpg", "asyncpg.pool"):
            raise
        raise StoreUnavailable(
            f"the database URL uses {scheme}://, which needs asyncpg: pip install 'supportbot[postgres]'"
        ) from exc
    dsn = "postgresql://" + url.partition("://")[2]  # asyncpg knows postgresql:// and postgres:// only
    where = postgres.describe_dsn(dsn)
    try:
        return await postgres.PostgresStore.open(
            dsn,
            min_size=postgres.DEFAULT_POOL_MIN_SIZE if min_size is None else min_size,
            max_size=postgres.DEFAULT_POOL_MAX_SIZE if max_size is None else max_size,
        )
    except TimeoutError as exc:
        reason = "no answer in time"
        raise StoreUnavailable(f"cannot reach the PostgreSQL database {where}: {reason}") from exc
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, MigrationError, ValueError) as exc:
        reason = postgres.scrub(str(exc) or type(exc).__name__, dsn)
        raise StoreUnavailable(f"cannot open the PostgreSQL database {where}: {reason}") from exc


__all__ = ["SQLiteURL", "StoreUnavailable", "open_store", "parse_sqlite_url", "url_scheme"]
