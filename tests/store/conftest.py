"""Fixtures for the Store contract tests.

Every backend is reached through ``open_store(url)``; the contract suite runs once per name in ``BACKENDS``.
SQLite gets a file in the test's temporary folder; PostgreSQL a fresh schema of the test database
(``pg_schema_url`` in ``tests/local_services.py``: dropped after the test; when the server cannot be
reached the PostgreSQL runs fail in CI and are skipped, with the reason, elsewhere).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path

import pytest
from local_services import create_schema, drop_schema

from bot.store import Store
from bot.store.open import open_store, parse_sqlite_url, url_scheme
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SQLiteStore

BACKENDS = ["sqlite", "postgres"]

OpenStore = Callable[[], Awaitable[Store]]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database of one backend."""
    backend = request.param
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"  # tmp_path is absolute: sqlite:////tmp/...
    if backend == "postgres":
        return str(request.getfixturevalue("pg_schema_url"))
    raise AssertionError(f"no store_url for backend {backend!r}")


@pytest.fixture
async def another_store_url(
    store_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[str]:
    """A URL of a second empty database of ``store_url``'s backend: another SQLite file, or another
    PostgreSQL schema (dropped after the test), which the store cannot tell from another database."""
    if url_scheme(store_url) == "sqlite":
        yield f"sqlite:///{tmp_path / 'another.db'}"
        return
    url = await create_schema(request.getfixturevalue("postgres_url"))
    try:
        yield url
    finally:
        await drop_schema(url)


async def open_store_at(url: str, clock: Callable[[], datetime]) -> Store:
    """The store at ``url`` (as ``store_url`` names one) on the test's ``clock``."""
    if url_scheme(url) == "sqlite":
        return await SQLiteStore.open(Path(parse_sqlite_url(url).path), clock=clock)
    return await PostgresStore.open(url, clock=clock)


@pytest.fixture
async def open_another(store_url: str) -> AsyncIterator[OpenStore]:
    """Opens another handle on the same database (a second process, or the same one after a restart)."""
    opened: list[Store] = []

    async def open_() -> Store:
        store = await open_store(store_url)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        await store.close()


@pytest.fixture
async def store(open_another: OpenStore) -> Store:
    return await open_another()
