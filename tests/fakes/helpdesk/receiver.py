"""The fake webhook receiver's aiohttp server."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from fakes.http_server import HttpFake

PATH = "/hooks/escalations"


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    status: int

    def json(self) -> Any:
        return json.loads(self.body)


class FakeReceiver(HttpFake):
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._failures: list[int] = []

    @property
    def url(self) -> str:
        return self.base_url + PATH

    @property
    def deliveries(self) -> list[Received]:
        return [received for received in self.requests if received.status == 200]

    def fail_next(self, status: int, times: int = 1) -> None:
        self._failures.extend([status] * times)

    def recover(self) -> None:
        """Answer every request with 200 again."""
        self._failures.clear()

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(PATH, self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        status = self._failures.pop(0) if self._failures else 200
        self.requests.append(Received(dict(request.headers), body, status))
        if status != 200:
            return web.json_response({"error": "unavailable"}, status=status)
        return web.json_response({"ok": True})
