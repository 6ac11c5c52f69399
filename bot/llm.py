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


class LLM(Protocol):
    def stream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelTurn]:
        """Yield text as it arrives, then exactly one ModelTurn; raise a ModelError on failure."""
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
        extra: dict[str, Any] = {}
        if request.tools:
            extra["tools"] = request.tools
        if request.tool_choice is not None:
            extra["tool_choice"] = request.tool_choice
        try:
            async with self._client.messages.stream(
                model=request.model,
                max_tokens=request.max_tokens,
                system=request.system,  # type: ignore[arg-type]
                messages=request.messages,  # type: ignore[arg-type]
                **extra,
            ) as stream:
                async for event in stream:
                    if event.type == "text" and event.text:
                        yield TextChunk(event.text)
                message = await stream.get_final_message()
        except anthropic.AuthenticationError as exc:
            raise ModelRejected("the model API rejected ANTHROPIC_API_KEY (authentication failed)") from exc
        except anthropic.PermissionDeniedError as exc:
            raise ModelRejected("the model API refused this key permission for the request") from exc
        except anthropic.BadRequestError as exc:
            if "too long" in str(exc).lower() or "context" in str(exc).lower():
                raise ContextTooLong(str(exc)) from exc
            raise ModelRejected(f"the model API rejected the request: {_api_message(exc)}") from exc
        except (anthropic.RateLimitError, anthropic.InternalServerError) as exc:
            # OverloadedError (529) is a subclass of InternalServerError since SDK 1.0.
            kind = "overloaded" if isinstance(exc, anthropic.OverloadedError) else f"HTTP {exc.status_code}"
            raise ModelUnavailable(f"the model API is unavailable ({kind})") from exc
        except anthropic.APIConnectionError as exc:
            raise ModelStreamBroken("the connection to the model API failed") from exc
        except anthropic.APIStatusError as exc:
            if exc.status_code == 200:
                # An `error` event inside a stream that had started fine (e.g. overloaded_error).
                raise ModelStreamBroken(f"the model stream failed: {_api_message(exc)}") from exc
            raise ModelUnavailable(f"the model API answered HTTP {exc.status_code}") from exc
        except httpx2.TransportError as exc:
            # The connection dropped while the body was streaming; the SDK does not wrap this.
            raise ModelStreamBroken("the model stream was cut off") from exc
        yield ModelTurn(
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

    async def close(self) -> None:
        await self._client.close()


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
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    if block.type in ("thinking", "redacted_thinking"):
        return dict(block.model_dump(exclude_none=True))
    log.debug("dropping unsupported content block %s", block.type)
    return None
