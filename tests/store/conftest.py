"""Fixtures for the Store contract tests.

Every backend is reached through ``open_store(url)``. To run the whole contract suite against another
backend, add its name to ``BACKENDS`` and a branch in ``store_url`` that returns a URL to an empty database
(for PostgreSQL: from an environment variable, skipping when it is unset, with the tables truncated).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.store import Store
from bot.store.open import open_store

BACKENDS = ["sqlite"]

OpenStore = Callable[[], Awaitable[Store]]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database of one backend."""
    backend = request.param
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"  # tmp_path is absolute: sqlite:////tmp/...
    raise AssertionError(f"no store_url for backend {backend!r}")


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
