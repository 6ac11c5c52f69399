"""The model client: a narrow `LLM` protocol and its implementation on the official `anthropic` SDK.

The agent sees only `TextChunk`s while a response streams and one `ModelTurn` at its end, plus the
errors below; SDK types and exceptions stay in this module.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import anthropic
import httpx2

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelRequest:
    model: str
    max_tokens: int
    system: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_choice: dict[str, Any] | None = None


@dataclass(frozen=True)
class TokenUsage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


@dataclass(frozen=True)
class TextChunk:
    text: str


@dataclass(frozen=True)
class ModelTurn:
    """The complete response: content as Messages API block params, why it stopped, and its tokens."""

    content: list[dict[str, Any]]
    stop_reason: str
    usage: TokenUsage
    model: str


class ModelError(Exception):
    """Base of the errors an LLM raises."""


class ModelUnavailable(ModelError):
    """Overloaded, rate limited, a server error or unreachable, after the client's own retries."""


class ModelStreamBroken(ModelUnavailable):
    """The response stream ended before the response was complete."""


class ModelRejected(ModelError):
    """The request or the credentials were refused: an operator has to act (bad key, bad request)."""


class ContextTooLong(ModelError):
    """The prompt does not fit the model's context window."""


class ModelOutputInvalid(ModelError):
    """The model answered, but what it streamed cannot be read (e.g. a tool input that is not JSON).

    The model is up, so this is no reason for the fallback responder or the circuit breaker."""


class LLM(Protocol):
    def stream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelTurn]:
        """Yield text as it arrives, then exactly one ModelTurn; raise a ModelError on failure."""
        ...

    async def complete(self, request: ModelRequest) -> ModelTurn:
        """The whole response at once (no streaming), e.g. for a summary; raise a ModelError on failure."""
        ...


class AnthropicLLM:
    """`LLM` on `anthropic.AsyncAnthropic().messages.stream`."""

    def __init__(self, client: anthropic.AsyncAnthropic) -> None:
        self._client = client

    @classmethod
    def from_key(
        cls, api_key: str, *, base_url: str | None = None, max_retries: int = 2, timeout: float = 60.0
    ) -> AnthropicLLM:
        client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout
        )
        return cls(client)

    async def stream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelTurn]:
        try:
            async with self._client.messages.stream(
                model=request.model,
                max_tokens=request.max_tokens,
                system=request.system,  # type: ignore[arg-type]
                messages=request.messages,  # type: ignore[arg-type]
                **_extra(request),
            ) as stream:
                async for event in stream:
                    if event.type == "text" and event.text:
                        yield TextChunk(event.text)
                message = await stream.get_final_message()
        except Exception as exc:
            error = _model_error(exc)
            if error is None:
                raise
            raise error from exc
        yield _model_turn(message)

    async def complete(self, request: ModelRequest) -> ModelTurn:
        try:
            message = await self._client.messages.create(
                model=request.model,
                max_tokens=request.max_tokens,
                system=request.system,  # type: ignore[arg-type]
                messages=request.messages,  # type: ignore[arg-type]
                **_extra(request),
            )
        except Exception as exc:
            error = _model_error(exc)
            if error is None:
                raise
            raise error from exc
        return _model_turn(message)

    async def close(self) -> None:
        await self._client.close()

    async def verify(self, model: str, *, request_timeout: float) -> None:
        """Check that the API accepts the key and knows ``model``, with a free token count and no retry.

        Raises ``ModelRejected`` (bad key, no permission, unknown model) or ``ModelUnavailable``.
        """
        client = self._client.with_options(max_retries=0, timeout=request_timeout)
        try:
            await client.messages.count_tokens(model=model, messages=[{"role": "user", "content": "ping"}])
        except anthropic.NotFoundError as exc:
            raise ModelRejected(f"the model API does not know the model {model!r}") from exc
        except Exception as exc:
            error = _model_error(exc)
            if error is None:
                raise
            raise (error if isinstance(error, ModelRejected) else ModelUnavailable(str(error))) from exc


def _extra(request: ModelRequest) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if request.tools:
        extra["tools"] = request.tools
    if request.tool_choice is not None:
        extra["tool_choice"] = request.tool_choice
    return extra


def _model_turn(message: anthropic.types.Message) -> ModelTurn:
    return ModelTurn(
        content=[block for block in map(_block_param, message.content) if block is not None],
        stop_reason=message.stop_reason or "end_turn",
        usage=TokenUsage(
            input_tokens=message.usage.input_tokens,
            output_tokens=message.usage.output_tokens,
            cache_read_tokens=message.usage.cache_read_input_tokens or 0,
            cache_write_tokens=message.usage.cache_creation_input_tokens or 0,
        ),
        model=message.model,
    )


def _model_error(exc: Exception) -> ModelError | None:
    """The ModelError to raise for an SDK or transport exception; None for any other exception."""
    if isinstance(exc, anthropic.AuthenticationError):
        return ModelRejected("the model API rejected ANTHROPIC_API_KEY (authentication failed)")
    if isinstance(exc, anthropic.PermissionDeniedError):
        return ModelRejected("the model API refused this key permission for the request")
    if isinstance(exc, anthropic.BadRequestError):
        if "too long" in str(exc).lower() or "context" in str(exc).lower():
            return ContextTooLong(str(exc))
        return ModelRejected(f"the model API rejected the request: {_api_message(exc)}")
    if isinstance(exc, anthropic.RateLimitError | anthropic.InternalServerError):
        # OverloadedError (529) is a subclass of InternalServerError since SDK 1.0.
        kind = "overloaded" if isinstance(exc, anthropic.OverloadedError) else f"HTTP {exc.status_code}"
        return ModelUnavailable(f"the model API is unavailable ({kind})")
    if isinstance(exc, anthropic.APIConnectionError):
        return ModelStreamBroken("the connection to the model API failed")
    if isinstance(exc, anthropic.APIStatusError):
        if exc.status_code == 200:
            # An `error` event inside a stream that had started fine (e.g. overloaded_error).
            return ModelStreamBroken(f"the model stream failed: {_api_message(exc)}")
        return ModelUnavailable(f"the model API answered HTTP {exc.status_code}")
    if isinstance(exc, httpx2.TransportError):
        # The connection dropped while the body was streaming; the SDK does not wrap this.
        return ModelStreamBroken("the model stream was cut off")
    if isinstance(exc, ValueError):
        # The SDK could not parse what was streamed (e.g. a tool call's input_json_delta is not JSON).
        return ModelOutputInvalid(f"the model's output could not be read: {type(exc).__name__}")
    return None


def _api_message(exc: anthropic.APIError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
    return exc.message


def _block_param(block: Any) -> dict[str, Any] | None:
    """A response content block as the param to send back in the next request; None to drop it."""
    if block.type == "text":
        param: dict[str, Any] = {"type": "text", "text": block.text}
        if block.citations:
            param["citations"] = [c.model_dump(exclude_none=True) for c in block.citations]
        return param if block.text else None
    if block.type == "tool_use":
        # The API only takes an object as tool input; anything else the model sent is invalid input the
        # tool reports, and sending it back as it is would make every later request in the thread fail.
        tool_input = block.input if isinstance(block.input, dict) else {}
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": tool_input}
    if block.type in ("thinking", "redacted_thinking"):
        return dict(block.model_dump(exclude_none=True))
    log.debug("dropping unsupported content block %s", block.type)
    return None
