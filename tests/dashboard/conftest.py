"""The dashboard under test: its routes served on 127.0.0.1 over a seeded SQLite store (``dashboard``), and
a client that keeps cookies as a browser does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.dashboard.auth import DashboardAccess
from bot.dashboard.server import Dashboard
from bot.store import Store
from bot.store.open import open_store
from tests.dashboard.seed import Seeded, seed

SECRET = "a-dashboard-secret-of-at-least-32-characters"


@dataclass
class Served:
    store: Store
    access: DashboardAccess
    url: str
    seeded: Seeded

    def link(self, who: str = "slack:U0LEAD") -> str:
        return self.access.link(who, base_url=self.url)


@pytest_asyncio.fixture
async def dashboard(tmp_path: Path) -> AsyncIterator[Served]:
    store = await open_store(f"sqlite:///{tmp_path / 'supportbot.db'}")
    seeded = await seed(store)
    access = DashboardAccess(SECRET, None)
    app = web.Application()
    app.router.add_routes(Dashboard(store, access).routes())
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield Served(store, access, str(server.make_url("")).rstrip("/"), seeded)
    finally:
        await server.close()
        await store.close()


@pytest_asyncio.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    """Keeps cookies for 127.0.0.1 (``unsafe``: an IP address) as a browser would."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session
