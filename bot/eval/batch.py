"""``--batch``: the model's requests through the Message Batches API (half the price, results within hours
rather than seconds).

An answer is several requests (one per tool round), each depending on the tools' results before it, so
the suite runs round by round: every case's pending request goes into one batch; once its results are in,
the tools run locally and the next round's requests make the next batch. A round is sent when every case
still running waits for the model, or ``gather_seconds`` after its first request, whichever comes first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.agent.llm import (
    ModelError,
    ModelMisconfigured,
    ModelRequest,
    ModelTurn,
    ModelUnavailable,
    RequestRejected,
    TextChunk,
    model_error,
    model_turn,
)

if TYPE_CHECKING:
    import anthropic

log = logging.getLogger(__name__)

MAX_POLL_SECONDS = 30.0
BATCH_LIFETIME_SECONDS = 24 * 3600.0
"""The API ends (expires) a batch's unfinished requests 24 hours after it was created."""


@dataclass
class _Pending:
    custom_id: str
    params: dict[str, Any]
    future: asyncio.Future[ModelTurn]


class BatchLLM:
    """The `LLM` protocol on ``client.messages.batches``; the cases in flight say so with `taking_part`."""

    def __init__(
        self, client: anthropic.AsyncAnthropic, *, gather_seconds: float = 2.0, first_poll: float = 0.5
    ) -> None:
        self._client = client
        self._gather_seconds = gather_seconds
        self._first_poll = first_poll
        self._active = 0
        self._pending: list[_Pending] = []
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._count = 0
        self.batches_sent = 0
        self.requests_sent = 0

    @classmethod
    def from_key(cls, api_key: str, *, base_url: str | None, max_retries: int, timeout: float) -> BatchLLM:
        import anthropic  # as in bot.agent.llm: only when a client is built

        return cls(
            anthropic.AsyncAnthropic(
                api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout
            )
        )

    @contextlib.asynccontextmanager
    async def taking_part(self) -> AsyncIterator[None]:
        """Around one case: while it runs, a round waits for its request too."""
        self._active += 1
        try:
            yield
        finally:
            self._active -= 1
            self._maybe_send()

    async def stream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelTurn]:
        turn = await self._submit(request)
        text = "".join(block["text"] for block in turn.content if block["type"] == "text")
        if text:
            yield TextChunk(text)
        yield turn

    async def complete(self, request: ModelRequest) -> ModelTurn:
        return await self._submit(request)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._client.close()

    async def _submit(self, request: ModelRequest) -> ModelTurn:
        self._count += 1
        params: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens,
            "system": request.system,
            "messages": request.messages,
        }
        if request.tools:
            params["tools"] = request.tools
        if request.tool_choice is not None:
            params["tool_choice"] = request.tool_choice
        future: asyncio.Future[ModelTurn] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(f"req-{self._count}", params, future))
        self._maybe_send()
        return await future

    def _maybe_send(self) -> None:
        """Send the round when every case in flight waits for it; else make sure it goes out in time."""
        if not self._pending:
            return
        if len(self._pending) >= self._active:
            self._send_round()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._gather_seconds, self._send_round)

    def _send_round(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        items, self._pending = self._pending, []
        if items:
            task = asyncio.create_task(self._run_batch(items))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run_batch(self, items: list[_Pending]) -> None:
        by_id = {item.custom_id: item for item in items}
        try:
            await self._fill(by_id)
        except Exception as exc:
            error = model_error(exc) or ModelUnavailable(f"the batch failed: {type(exc).__name__}")
            for item in by_id.values():
                if not item.future.done():
                    item.future.set_exception(error)
        finally:
            for item in by_id.values():  # a request the results left out must not wait for ever
                if not item.future.done():
                    item.future.set_exception(
                        ModelUnavailable("the batch ended without this request's result")
                    )

    async def _fill(self, by_id: dict[str, _Pending]) -> None:
        batches = self._client.messages.batches
        requests: list[Any] = [{"custom_id": i.custom_id, "params": i.params} for i in by_id.values()]
        batch = await batches.create(requests=requests)
        self.batches_sent += 1
        self.requests_sent += len(by_id)
        log.info("eval: batch %s sent with %d request(s)", batch.id, len(by_id))
        loop = asyncio.get_running_loop()
        give_up = loop.time() + BATCH_LIFETIME_SECONDS
        wait = self._first_poll
        while batch.processing_status != "ended":
            if all(item.future.done() for item in by_id.values()) or loop.time() > give_up:
                # Nobody waits any more (the answers timed out): stop paying for the rest.
                await batches.cancel(batch.id)
                return
            await asyncio.sleep(wait)
            wait = min(wait * 2, MAX_POLL_SECONDS)
            batch = await batches.retrieve(batch.id)
        async for line in await batches.results(batch.id):
            item = by_id.get(line.custom_id)
            if item is None or item.future.done():
                continue
            result = line.result
            if result.type == "succeeded":
                item.future.set_result(model_turn(result.message))
            else:
                item.future.set_exception(_result_error(result))


def _result_error(result: Any) -> ModelError:
    """The error of a request that did not succeed: errored (with the API's error), canceled or expired."""
    if result.type != "errored":
        return ModelUnavailable(f"the batch request was {result.type}")
    error = getattr(getattr(result, "error", None), "error", None)
    kind = getattr(error, "type", "api_error")
    message = str(getattr(error, "message", ""))[:300]
    if kind == "invalid_request_error":
        return RequestRejected(f"the model API rejected the request: {message}")
    if kind in ("authentication_error", "permission_error", "billing_error", "not_found_error"):
        return ModelMisconfigured(
            f"the model API refused the batch request ({kind})", "check ANTHROPIC_API_KEY"
        )
    return ModelUnavailable(f"the batch request failed ({kind})")
