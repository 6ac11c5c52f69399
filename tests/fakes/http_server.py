"""Serving a fake's aiohttp application on 127.0.0.1, on a port the system picks: the one copy of the
start / URL / close code every fake served over HTTP shares."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Self

from aiohttp import web


class HttpFake(ABC):
    """Base of a fake served over HTTP: :meth:`start` serves :meth:`_app` on :attr:`host` on a free port,
    :attr:`base_url` says where, :meth:`close` stops it; ``async with Fake() as fake:`` does both.

    A subclass builds its application in :meth:`_app`, and extends :meth:`close` to end what the runner
    would wait for (open websockets) before calling this one.
    """

    host = "127.0.0.1"
    _runner: web.AppRunner | None = None
    _base_url = ""

    @abstractmethod
    def _app(self) -> web.Application:
        """The fake's aiohttp application (built anew by each :meth:`start`)."""

    async def start(self) -> None:
        # A handler still running at close (a stalled stream) is given a second, not aiohttp's minute.
        runner = web.AppRunner(self._app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.TCPSite(runner, self.host, 0).start()
        self._runner = runner
        port = runner.addresses[0][1]
        self._base_url = f"http://{self.host}:{port}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash); still the same after :meth:`close`."""
        if not self._base_url:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._base_url


class _Served(HttpFake):
    def __init__(self, app: web.Application) -> None:
        self._given = app

    def _app(self) -> web.Application:
        return self._given


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """A test's own small ``app`` served on 127.0.0.1 while in the block; yields its base URL."""
    async with _Served(app) as served:
        yield served.base_url
