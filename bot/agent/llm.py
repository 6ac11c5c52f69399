"""The model client: a narrow `LLM` protocol and its implementation on the official `anthropic` SDK.

The agent sees only `TextChunk`s while a response streams and one `ModelTurn` at its end, plus the
errors below; SDK types and exceptions stay in this module.

The SDK is imported only when a client is built (``AnthropicLLM.from_key``): it takes most of the
command's start-up time, and a keyless `supportbot ask`, `kb` or `stats` never needs it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import anthropic

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
    """The API refused the request: not an outage, so never a reason for the circuit breaker."""


class RequestRejected(ModelRejected):
    """This one request was refused (400, e.g. an image the API cannot read); the next one may be fine."""


class ModelMisconfigured(ModelRejected):
    """The key, the account's billing, the model name or the base URL was refused (401, 402, 403, 404): an
    operator has to act. ``fix`` says which setting to check."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


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
        import anthropic  # here, not at the top: see the module docstring

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
            error = model_error(exc)
            if error is None:
                raise
            raise error from exc
        yield model_turn(message)

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
            error = model_error(exc)
            if error is None:
                raise
            raise error from exc
        return model_turn(message)

    async def close(self) -> None:
        await self._client.close()

    async def verify(self, model: str, *, request_timeout: float) -> None:
        """Check that the API accepts the key and knows ``model``, with a free token count and no retry.

        Raises ``ModelRejected`` (bad key, billing, no permission, unknown model) or ``ModelUnavailable``.
        """
        import anthropic  # loaded with the client

        client = self._client.with_options(max_retries=0, timeout=request_timeout)
        try:
            await client.messages.count_tokens(model=model, messages=[{"role": "user", "content": "ping"}])
        except anthropic.NotFoundError as exc:
            raise ModelMisconfigured(
                f"the model API does not know the model {model!r} (or ANTHROPIC_BASE_URL is wrong)", MODEL_FIX
            ) from exc
        except Exception as exc:
            error = model_error(exc)
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


def model_turn(message: anthropic.types.Message) -> ModelTurn:
    """A Messages API response as the agent sees it (also what a Message Batches result holds)."""
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


KEY_FIX = "check ANTHROPIC_API_KEY (console.anthropic.com > API Keys)"
BILLING_FIX = "check the billing of the account of ANTHROPIC_API_KEY (console.anthropic.com > Billing)"
MODEL_FIX = "check ANSWER_MODEL and SUMMARY_MODEL (the model names) and ANTHROPIC_BASE_URL"


def model_error(exc: Exception) -> ModelError | None:
    """The ModelError to raise for an SDK or transport exception; None for any other exception.

    Only availability errors (429 after the SDK's retries, 408, 409, 5xx, 529, timeouts, connection
    errors) are ``ModelUnavailable``; refusals are ``RequestRejected`` or ``ModelMisconfigured``.
    """
    import anthropic  # loaded with the client that raised ``exc``
    import httpx2

    if isinstance(exc, anthropic.APIStatusError):
        return _status_error(exc)
    if isinstance(exc, anthropic.APIConnectionError):  # APITimeoutError included
        return ModelStreamBroken("the connection to the model API failed")
    if isinstance(exc, httpx2.TransportError):
        # The connection dropped while the body was streaming; the SDK does not wrap this.
        return ModelStreamBroken("the model stream was cut off")
    if isinstance(exc, ValueError):
        # The SDK could not parse what was streamed (e.g. a tool call's input_json_delta is not JSON).
        return ModelOutputInvalid(f"the model's output could not be read: {type(exc).__name__}")
    return None


def _status_error(exc: anthropic.APIStatusError) -> ModelError:
    import anthropic

    status = exc.status_code
    # OverloadedError (529) is a subclass of InternalServerError since SDK 1.0: it is checked first.
    if isinstance(exc, anthropic.OverloadedError):
        return ModelUnavailable("the model API is unavailable (overloaded)")
    if isinstance(exc, anthropic.RateLimitError | anthropic.InternalServerError):
        return ModelUnavailable(f"the model API is unavailable (HTTP {status})")
    if status == 200:
        # An `error` event inside a stream that had started fine (e.g. overloaded_error).
        return ModelStreamBroken(f"the model stream failed: {_api_message(exc)}")
    if status == 401:
        return ModelMisconfigured("the model API rejected ANTHROPIC_API_KEY (authentication failed)", KEY_FIX)
    if status == 403:
        return ModelMisconfigured(
            f"the model API refused ANTHROPIC_API_KEY permission (HTTP 403: {_api_message(exc)})", KEY_FIX
        )
    if status == 402:
        return ModelMisconfigured(
            f"the model API refused to bill (HTTP 402: {_api_message(exc)})", BILLING_FIX
        )
    if status == 404:
        return ModelMisconfigured(
            f"the model API does not know the model or the URL (HTTP 404: {_api_message(exc)})", MODEL_FIX
        )
    if status == 400 and any(word in str(exc).lower() for word in ("too long", "context")):
        return ContextTooLong(str(exc))
    if 400 <= status < 500 and status not in (408, 409):  # 400, 413, 422 …: this request only
        return RequestRejected(f"the model API rejected the request (HTTP {status}: {_api_message(exc)})")
    return ModelUnavailable(f"the model API answered HTTP {status}")


def _api_message(exc: anthropic.APIError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])[:300]
    return exc.message[:300]


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
