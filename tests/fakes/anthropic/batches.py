"""The Message Batches API: create, retrieve (poll), results (JSON Lines) and cancel.

``POST /v1/messages/batches`` takes ``{"requests": [{"custom_id", "params"}, ...]}``; each request's params
are a Messages API body, checked as ``/v1/messages`` checks it (``stream`` is not allowed) and answered
from the same script or responder, in order, when the batch is created. A request the API would refuse
ends ``errored`` with ``invalid_request_error`` (its problems go to ``validation_errors`` too). The batch
says ``in_progress`` to the first :attr:`BatchesMixin.batch_polls` retrieves, then ``ended`` with its
``request_counts`` and ``results_url``; the results are one JSON object per line, in no promised order
(the fake sends them in reverse, as a reminder to match on ``custom_id``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .recorded import RecordedRequest
from .validation import validate_messages_request
from .wire import JSON, NO_SCRIPTED_REPLY, _error_body, _new_id

if TYPE_CHECKING:
    from .cache import PromptCache
    from .replies import Reply

_CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_BATCH_REQUESTS = 100_000


@dataclass
class FakeBatch:
    id: str
    created_at: datetime
    results: list[JSON]
    """One result line per request, in the order of the requests."""
    polls_left: int
    canceled_at: datetime | None = None
    ended_at: datetime | None = None
    retrieves: int = 0
    custom_ids: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "ended" if self.ended_at is not None else "in_progress"

    def counts(self) -> dict[str, int]:
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if self.ended_at is None:
            counts["processing"] = len(self.results)
            return counts
        for line in self.results:
            counts[line["result"]["type"]] += 1
        return counts


class BatchesMixin:
    """The batch routes of :class:`FakeAnthropic` (which supplies recording, checks and replies)."""

    prompt_cache: PromptCache | None
    requests: list[RecordedRequest]
    validation_errors: list[str]
    unscripted_requests: int

    def _init_batches(self) -> None:
        #: Retrieves that still say ``in_progress`` before a batch ends (so a client must poll).
        self.batch_polls = 1
        #: The batches created, by id.
        self.batches: dict[str, FakeBatch] = {}
        #: Every request inside every batch, as if sent on its own (its path ``/v1/messages/batches``).
        self.batch_requests: list[RecordedRequest] = []

    if TYPE_CHECKING:  # supplied by FakeAnthropic

        async def _record(self, request: web.Request) -> RecordedRequest: ...
        def _check_headers(self, rec: RecordedRequest, *, body: bool = True) -> web.Response | None: ...
        def _reject(self, rec: RecordedRequest, status: int, errors: list[str]) -> web.Response: ...
        async def _next_reply(self, rec: RecordedRequest) -> Reply | None: ...
        @property
        def base_url(self) -> str: ...

    # ---- routes --------------------------------------------------------------------------------------

    def add_batch_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/messages/batches", self._handle_batch_create)
        app.router.add_get("/v1/messages/batches/{batch_id}", self._handle_batch_retrieve)
        app.router.add_get("/v1/messages/batches/{batch_id}/results", self._handle_batch_results)
        app.router.add_post("/v1/messages/batches/{batch_id}/cancel", self._handle_batch_cancel)

    async def _handle_batch_create(self, request: web.Request) -> web.Response:
        rec = await self._record(request)
        rejected = self._check_headers(rec)
        if rejected is not None:
            return rejected
        items = rec.body.get("requests") if isinstance(rec.body, dict) else None
        errors = _check_requests(items)
        if errors:
            return self._reject(rec, 400, errors)
        assert isinstance(items, list)
        batch = FakeBatch(_new_id("msgbatch"), datetime.now(UTC), [], self.batch_polls)
        for item in items:
            batch.custom_ids.append(item["custom_id"])
            batch.results.append(await self._answer(rec, item["custom_id"], item["params"]))
        self.batches[batch.id] = batch
        if batch.polls_left <= 0:
            batch.ended_at = datetime.now(UTC)
        rec.status = 200
        return web.json_response(self._batch_json(batch))

    async def _answer(self, http: RecordedRequest, custom_id: str, params: Any) -> JSON:
        """The result line of one request of a batch, answered as a ``/v1/messages`` request would be."""
        raw = json.dumps(params).encode()
        rec = RecordedRequest("POST", "/v1/messages/batches", http.headers, raw, params)
        self.batch_requests.append(rec)
        problems = validate_messages_request(params)
        if isinstance(params, dict) and params.get("stream"):
            problems.append("params.stream: streaming is not supported in a message batch")
        if problems:
            rec.errors = problems
            self.validation_errors.extend(f"{custom_id}: {problem}" for problem in problems)
            return _errored(custom_id, "invalid_request_error", problems[0])
        reply = await self._next_reply(rec)
        if reply is None:
            self.unscripted_requests += 1
            return _errored(custom_id, "api_error", NO_SCRIPTED_REPLY)
        rec.reply = reply
        if reply.http_status != 200 or reply.error_type is not None:
            body = reply.error_json()
            error = body.get("error", {})
            return _errored(custom_id, error.get("type", "api_error"), error.get("message", "error"))
        if self.prompt_cache is not None:
            rec.cache = self.prompt_cache.use(params)
        rec.status = 200
        message = reply.message_json(
            model=rec.model or "claude-fake", request_bytes=len(raw), cache=rec.cache
        )
        return {"custom_id": custom_id, "result": {"type": "succeeded", "message": message}}

    async def _handle_batch_retrieve(self, request: web.Request) -> web.Response:
        batch, answer = await self._find_batch(request)
        if batch is None:
            return answer
        batch.retrieves += 1
        if batch.ended_at is None:
            batch.polls_left -= 1
            if batch.polls_left < 0:
                batch.ended_at = datetime.now(UTC)
        return web.json_response(self._batch_json(batch))

    async def _handle_batch_results(self, request: web.Request) -> web.Response:
        batch, answer = await self._find_batch(request)
        if batch is None:
            return answer
        if batch.ended_at is None:
            return web.json_response(
                _error_body("invalid_request_error", f"Batch {batch.id} is still processing"), status=400
            )
        lines = "".join(json.dumps(line) + "\n" for line in reversed(batch.results))
        return web.Response(body=lines.encode(), content_type="application/binary")

    async def _handle_batch_cancel(self, request: web.Request) -> web.Response:
        batch, answer = await self._find_batch(request)
        if batch is None:
            return answer
        if batch.ended_at is None:
            batch.canceled_at = batch.ended_at = datetime.now(UTC)
            batch.results = [
                {"custom_id": line["custom_id"], "result": {"type": "canceled"}} for line in batch.results
            ]
        return web.json_response(self._batch_json(batch))

    async def _find_batch(self, request: web.Request) -> tuple[FakeBatch | None, web.Response]:
        rec = await self._record(request)
        rejected = self._check_headers(rec, body=False)
        if rejected is not None:
            return None, rejected
        batch = self.batches.get(request.match_info["batch_id"])
        if batch is None:
            rec.status = 404
            message = f"No batch with id {request.match_info['batch_id']}"
            return None, web.json_response(_error_body("not_found_error", message), status=404)
        rec.status = 200
        return batch, web.Response()

    def _batch_json(self, batch: FakeBatch) -> JSON:
        def stamp(at: datetime | None) -> str | None:
            return at.isoformat().replace("+00:00", "Z") if at is not None else None

        ended = batch.ended_at is not None
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": batch.status,
            "request_counts": batch.counts(),
            "created_at": stamp(batch.created_at),
            "expires_at": stamp(batch.created_at + timedelta(hours=24)),
            "ended_at": stamp(batch.ended_at),
            "archived_at": None,
            "cancel_initiated_at": stamp(batch.canceled_at),
            "results_url": f"{self.base_url}/v1/messages/batches/{batch.id}/results" if ended else None,
        }


def _check_requests(items: Any) -> list[str]:
    if not isinstance(items, list) or not items:
        return ["requests: a non-empty list is required"]
    if len(items) > MAX_BATCH_REQUESTS:
        return [f"requests: at most {MAX_BATCH_REQUESTS} requests in one batch"]
    seen: set[str] = set()
    for index, item in enumerate(items):
        if not isinstance(item, dict) or set(item) != {"custom_id", "params"}:
            return [f"requests.{index}: an object with custom_id and params is required"]
        custom_id = item["custom_id"]
        if not isinstance(custom_id, str) or not _CUSTOM_ID.match(custom_id):
            return [f"requests.{index}.custom_id: 1 to 64 letters, digits, '-' or '_'"]
        if custom_id in seen:
            return [f"requests.{index}.custom_id: {custom_id!r} is used twice in the batch"]
        seen.add(custom_id)
        if not isinstance(item["params"], dict):
            return [f"requests.{index}.params: an object is required"]
    return []


def _errored(custom_id: str, error_type: str, message: str) -> JSON:
    return {
        "custom_id": custom_id,
        "result": {
            "type": "errored",
            "error": {"type": "error", "error": {"type": error_type, "message": message}},
        },
    }
