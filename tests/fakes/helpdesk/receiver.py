"""The fake webhook receiver's aiohttp server."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any

from aiohttp import web

PATH = "/hooks/escalations"


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    status: int

    def json(self) -> Any:
        return json.loads(self.body)


class FakeReceiver:
    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.requests: list[Received] = []
        self._failures: list[int] = []
        self._runner: web.AppRunner | None = None
        self._port = 0

    @property
    def url(self) -> str:
        if not self._port:
            raise RuntimeError("the receiver is not started")
        return f"http://{self.host}:{self._port}{PATH}"

    @property
    def deliveries(self) -> list[Received]:
        return [received for received in self.requests if received.status == 200]

    def fail_next(self, status: int, times: int = 1) -> None:
        self._failures.extend([status] * times)

    def recover(self) -> None:
        """Answer every request with 200 again."""
        self._failures.clear()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(PATH, self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeReceiver:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        status = self._failures.pop(0) if self._failures else 200
        self.requests.append(Received(dict(request.headers), body, status))
        if status != 200:
            return web.json_response({"error": "unavailable"}, status=status)
        return web.json_response({"ok": True})
