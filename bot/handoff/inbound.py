"""``POST /hooks/helpdesk``: a helpdesk says a ticket is solved, and the escalation is resolved.

The body is JSON ``{"escalation_id": 12, "status": "solved", "solved_by": "Dana"}`` (the id as a number
or a decimal string, e.g. a Zendesk trigger's ``{{ticket.external_id}}``), signed as ``bot.handoff.signing``
describes (our scheme, or Zendesk's webhook signature) with the secret named by
``[handoff] inbound_secret_env``. A missing or wrong signature, or a
timestamp further than ``replay_seconds`` from now, is refused with 401 (and so is every call while the
secret is not set). ``solved`` and ``closed`` resolve the escalation through the thread's platform, which
posts the resolved notice in the thread: the bot answers there again. Other statuses are taken (202) and
change nothing.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.escalations import HELPDESK_USER
from bot.handoff.outbox import Helpdesk
from bot.handoff.signing import verify
from bot.store import HandoffOutbox
from bot.types import Principal, Role

log = logging.getLogger(__name__)

PATH = "/hooks/helpdesk"
MAX_BODY = 64 * 1024
RESOLVING = frozenset({"solved", "closed"})
NAME_CHARS = 80


def _escalation_id(body: dict[str, Any]) -> int | None:
    value = body.get("escalation_id")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 19:
        return int(value.strip())
    return None


class HelpdeskHook:
    def __init__(
        self,
        helpdesk: Helpdesk,
        store: HandoffOutbox,
        secret: str | None,
        window: float,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._helpdesk = helpdesk
        self._store = store
        self._secret = secret
        self._window = window
        self._clock = clock

    def routes(self) -> list[web.RouteDef]:
        return [web.post(PATH, self.handle)]

    async def handle(self, request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"error": "body too large"}, status=413)
        raw = await request.content.read(MAX_BODY + 1)
        if len(raw) > MAX_BODY:
            return web.json_response({"error": "body too large"}, status=413)
        if self._secret is None or not verify(
            self._secret, request.headers, raw, self._clock(), self._window
        ):
            return web.json_response({"error": "bad or missing signature, or a stale timestamp"}, status=401)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        escalation_id = _escalation_id(body) if isinstance(body, dict) else None
        if not isinstance(body, dict) or escalation_id is None:
            return web.json_response({"error": "expected JSON with an escalation_id"}, status=400)
        status = str(body.get("status", "")).lower()
        if status not in RESOLVING:
            return web.json_response({"resolved": 0, "ignored": f"status {status!r}"}, status=202)
        escalation = await self._store.escalation(escalation_id)
        if escalation is None:
            return web.json_response({"error": f"no escalation {escalation_id}"}, status=404)
        desk = self._helpdesk.desk(escalation.ref.platform)
        if desk is None:
            return web.json_response(
                {"error": f"{escalation.ref.platform} is not running in this process"}, status=503
            )
        solved_by = body.get("solved_by")
        name = solved_by[:NAME_CHARS] if isinstance(solved_by, str) and solved_by.strip() else "the helpdesk"
        lead = Principal(escalation.ref.platform, HELPDESK_USER, name, frozenset({Role.LEAD}))
        resolved = await desk.resolve(escalation.ref, lead)
        log.info("escalation %s: the helpdesk marked it %s (%d resolved)", escalation_id, status, resolved)
        return web.json_response({"resolved": resolved})
