"""The fake Messages API: the aiohttp server, the script, recording and the ``fake_anthropic`` fixture."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import pytest_asyncio
from aiohttp import web

from fakes.http_server import HttpFake

from .batches import BatchesMixin
from .cache import PromptCache
from .recorded import RecordedRequest, Responder
from .replies import Reply
from .validation import validate_messages_request
from .wire import ERROR_TYPE_BY_STATUS, JSON, NO_SCRIPTED_REPLY, STATUS_BY_ERROR_TYPE, _error_body, _new_id

# --------------------------------------------------------------------------------------------------------
# The server


_DEFAULT_CACHE: Any = object()


class FakeAnthropic(BatchesMixin, HttpFake):
    """The fake API server. Use as ``async with FakeAnthropic(...) as fake:`` inside the test's event loop.

    * ``replies``: the initial script (more with :meth:`script`), consumed one per ``/v1/messages`` request;
    * ``responder``: called with the :class:`RecordedRequest` when the script is empty; may be async;
    * ``api_key``: if set, only this key is accepted (``x-api-key`` or ``Authorization: Bearer``);
      otherwise any non-empty key is;
    * ``prompt_cache``: the :class:`PromptCache` model behind estimated usage (a default one; None: no
      caching, every input token is plain input). Scripted token counts are reported as scripted.
    """

    def __init__(
        self,
        *replies: Reply,
        responder: Responder | None = None,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        prompt_cache: PromptCache | None = _DEFAULT_CACHE,
    ) -> None:
        self.prompt_cache = PromptCache() if prompt_cache is _DEFAULT_CACHE else prompt_cache
        self.responder = responder
        self.api_key = api_key
        self.host = host
        self.requests: list[RecordedRequest] = []
        self.validation_errors: list[str] = []
        self.unscripted_requests = 0
        #: Set to False in a test that provokes validation errors on purpose (see :meth:`assert_clean`).
        self.strict = True
        self._queue: deque[Reply] = deque(replies)
        self._init_batches()

    # ---- script and inspection -----------------------------------------------------------------------

    def script(self, *replies: Reply) -> None:
        """Append replies to the script."""
        self._queue.extend(replies)

    @property
    def pending(self) -> int:
        """Scripted replies not used yet."""
        return len(self._queue)

    @property
    def message_requests(self) -> list[RecordedRequest]:
        """Recorded ``POST /v1/messages`` requests, in order."""
        return [r for r in self.requests if r.path == "/v1/messages"]

    @property
    def last_request(self) -> RecordedRequest:
        if not self.requests:
            raise AssertionError("fake anthropic: no request received")
        return self.requests[-1]

    def assert_clean(self) -> None:
        """Fail if a request was invalid or found no scripted reply."""
        problems = list(self.validation_errors)
        if self.unscripted_requests:
            problems.append(f"{self.unscripted_requests} request(s) answered with '{NO_SCRIPTED_REPLY}'")
        if problems:
            raise AssertionError("fake anthropic: " + "; ".join(problems))

    # ---- lifecycle -----------------------------------------------------------------------------------

    def client(
        self, *, api_key: str = "test", max_retries: int = 0, **kwargs: Any
    ) -> anthropic.AsyncAnthropic:
        """A real ``AsyncAnthropic`` pointed at this fake; close it (``async with fake.client() as c:``)."""
        return anthropic.AsyncAnthropic(
            base_url=self.base_url, api_key=api_key, max_retries=max_retries, **kwargs
        )

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/messages", self._handle_messages)
        app.router.add_post("/v1/messages/count_tokens", self._handle_count_tokens)
        self.add_batch_routes(app)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        return app

    # ---- handlers ------------------------------------------------------------------------------------

    async def _record(self, request: web.Request) -> RecordedRequest:
        raw = await request.read()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        rec = RecordedRequest(
            method=request.method,
            path=request.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            raw=raw,
            body=body,
        )
        self.requests.append(rec)
        return rec

    def _reject(self, rec: RecordedRequest, status: int, errors: list[str]) -> web.Response:
        rec.status = status
        rec.errors = errors
        self.validation_errors.extend(errors)
        etype = ERROR_TYPE_BY_STATUS[status]
        request_id = _new_id("req")
        return web.json_response(
            _error_body(etype, errors[0], request_id), status=status, headers={"request-id": request_id}
        )

    def _check_headers(self, rec: RecordedRequest, *, body: bool = True) -> web.Response | None:
        """The key and version headers, and (``body``) a JSON body; the answer to send if one is wrong."""
        headers = rec.headers
        key = headers.get("x-api-key")
        auth = headers.get("authorization", "")
        if not key and auth.lower().startswith("bearer "):
            key = auth[7:].strip()
        if not key:
            return self._reject(rec, 401, ["x-api-key header is required"])
        if self.api_key is not None and key != self.api_key:
            return self._reject(rec, 401, ["invalid x-api-key"])
        if not headers.get("anthropic-version"):
            return self._reject(rec, 400, ["anthropic-version: header is required"])
        if body and rec.body is None:
            return self._reject(rec, 400, ["request body is not valid JSON"])
        return None

    async def _handle_unknown(self, request: web.Request) -> web.Response:
        rec = await self._record(request)
        rec.status = 404
        return web.json_response(
            _error_body("not_found_error", f"Not found: {request.method} {request.path}"), status=404
        )

    async def _handle_count_tokens(self, request: web.Request) -> web.Response:
        rec = await self._record(request)
        rejected = self._check_headers(rec)
        if rejected is not None:
            return rejected
        errors = validate_messages_request(rec.body, count_tokens=True)
        if errors:
            return self._reject(rec, 400, errors)
        rec.status = 200
        return web.json_response({"input_tokens": max(1, len(rec.raw) // 4)})

    async def _next_reply(self, rec: RecordedRequest) -> Reply | None:
        if self._queue:
            return self._queue.popleft()
        if self.responder is not None:
            result = self.responder(rec)
            if inspect.isawaitable(result):
                result = await result
            return result
        return None

    async def _handle_messages(self, request: web.Request) -> web.StreamResponse:
        rec = await self._record(request)
        rejected = self._check_headers(rec)
        if rejected is not None:
            return rejected
        errors = validate_messages_request(rec.body)
        if errors:
            return self._reject(rec, 400, errors)

        reply = await self._next_reply(rec)
        if reply is None:
            self.unscripted_requests += 1
            rec.status = 500
            return web.json_response(_error_body("api_error", NO_SCRIPTED_REPLY, _new_id("req")), status=500)
        rec.reply = reply
        request_id = _new_id("req")
        headers = {"request-id": request_id, **dict(reply.headers)}

        if reply.ttft:
            await asyncio.sleep(reply.ttft)

        if reply.http_status != 200:
            rec.status = reply.http_status
            return web.json_response(reply.error_json(request_id), status=reply.http_status, headers=headers)

        if self.prompt_cache is not None:
            rec.cache = self.prompt_cache.use(rec.body)
        model = rec.model or "claude-fake"
        if not rec.stream:
            if reply.cut_after_events is not None:
                return self._cut(request, rec)
            if reply.error_type is not None:
                status = STATUS_BY_ERROR_TYPE.get(reply.error_type, 500)
                rec.status = status
                return web.json_response(reply.error_json(request_id), status=status, headers=headers)
            rec.status = 200
            return web.json_response(
                reply.message_json(model=model, request_bytes=len(rec.raw), cache=rec.cache),
                headers=headers,
            )

        return await self._stream(request, rec, reply, model, headers)

    def _cut(self, request: web.Request, rec: RecordedRequest) -> web.Response:
        rec.status = None  # no complete answer was given
        if request.transport is not None:
            request.transport.close()
        # aiohttp cannot write on a closed transport; it drops this response quietly.
        return web.Response(status=500)

    async def _stream(
        self, request: web.Request, rec: RecordedRequest, reply: Reply, model: str, headers: dict[str, str]
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            status=200,
            headers={
                **headers,
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
            },
        )
        await response.prepare(request)
        rec.status = 200
        events = reply.sse_events(model=model, request_bytes=len(rec.raw), cache=rec.cache)
        try:
            for sent, (name, data) in enumerate(events):
                if reply.error_after_events is not None and sent == reply.error_after_events:
                    await response.write(_sse("error", reply.error_json()))
                    break
                if reply.cut_after_events is not None and sent == reply.cut_after_events:
                    if reply.cut_partial:
                        frame = _sse(name, data)
                        await response.write(frame[: max(1, len(frame) // 2)])
                    if request.transport is not None:
                        request.transport.close()
                    return response
                if name == "content_block_delta" and reply.delay:
                    await asyncio.sleep(reply.delay)
                await response.write(_sse(name, data))
            else:
                if reply.error_after_events is not None and reply.error_after_events >= len(events):
                    await response.write(_sse("error", reply.error_json()))
            await response.write_eof()
        except ConnectionError:
            pass  # the client went away (e.g. the bot cancelled the stream)
        return response


def _sse(event: str, data: JSON) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'), ensure_ascii=False)}\n\n".encode()


# --------------------------------------------------------------------------------------------------------
# pytest


@pytest_asyncio.fixture
async def fake_anthropic() -> AsyncIterator[FakeAnthropic]:
    """A started :class:`FakeAnthropic`; at teardown, fails the test if a request was invalid or unscripted
    (set ``fake_anthropic.strict = False`` in a test that provokes that on purpose)."""
    async with FakeAnthropic() as fake:
        yield fake
    if fake.strict:
        fake.assert_clean()
