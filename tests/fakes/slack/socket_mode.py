"""Socket Mode: the connection the fake opens to an app and the envelopes it sends."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from typing import Literal

import aiohttp
from aiohttp import web

from .state import APP_ID, JSON


class SocketMode:
    """Socket Mode: ``apps.connections.open``, the ``ws://`` endpoint and envelopes sent to the app."""

    def _apps_connections_open(self, args: JSON) -> JSON:
        socket_id = uuid.uuid4().hex[:12]
        return {"url": f"{self.base_url.replace('http://', 'ws://', 1)}/socket/{socket_id}"}

    # ---------------------------------------------------------------- Socket Mode

    @property
    def socket_connected(self) -> bool:
        """An app is connected over Socket Mode."""
        return bool(self._sockets)

    async def send_socket_mode(
        self,
        kind: Literal["events_api", "slash_commands", "interactive"],
        payload: JSON,
        *,
        seconds: float = 5.0,
    ) -> JSON:
        """Send an envelope to the connected app and return its acknowledgement (``envelope_id`` and, for
        commands and interactions, maybe a ``payload``). ``payload`` is what Slack would POST over HTTP: an
        ``event_callback`` envelope, or a slash command's or interaction's fields as a JSON object."""
        if not self._sockets:
            raise RuntimeError("no app is connected over Socket Mode")
        envelope_id = str(uuid.uuid4())
        acked: asyncio.Future[JSON] = asyncio.get_running_loop().create_future()
        self._socket_acks[envelope_id] = acked
        await self._sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        try:
            async with asyncio.timeout(seconds):
                return await acked
        except TimeoutError:
            raise TimeoutError(
                f"fake Slack: envelope {envelope_id} not acknowledged in {seconds} s"
            ) from None
        finally:
            self._socket_acks.pop(envelope_id, None)

    async def _handle_socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets),
                "debug_info": {"host": "fake-slack", "approximate_connection_time": 18060},
                "connection_info": {"app_id": APP_ID},
            }
        )
        self._notify()
        try:
            async for message in socket:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                with contextlib.suppress(ValueError):
                    ack = json.loads(message.data)
                    acked = (
                        self._socket_acks.get(str(ack.get("envelope_id"))) if isinstance(ack, dict) else None
                    )
                    if acked is not None and not acked.done():
                        acked.set_result(ack)
        finally:
            self._sockets.remove(socket)
            self._notify()
        return socket
