"""A fake Anthropic Messages API on 127.0.0.1, for end-to-end tests that run the real ``anthropic`` SDK.

The real ``anthropic.AsyncAnthropic`` talks to it through ``base_url``; nothing in the SDK is patched.

    async with FakeAnthropic() as fake:           # or the ``fake_anthropic`` pytest fixture
        fake.script(
            Reply.tool_use(("lookup_order", {"order_id": "ORD-10001"}), text="Let me check."),
            Reply.text("Your order has shipped."),
        )
        client = anthropic.AsyncAnthropic(base_url=fake.base_url, api_key="test")
        ...
        assert fake.validation_errors == []
        assert fake.message_requests[1].body["messages"][-1]["content"][0]["type"] == "tool_result"

Each ``POST /v1/messages`` takes the next scripted :class:`Reply` (or, once the script is used up, asks
the ``responder`` callable for one). ``"stream": true`` is answered with the server-sent events the API
sends (``message_start``, ``content_block_start``, ``ping``, ``content_block_delta``,
``content_block_stop``, ``message_delta``, ``message_stop``, ``error``); otherwise with a JSON Message.

Usage not scripted is estimated: input from the request's size (bytes / 4), output from the reply's; with
the prompt cache modelled (:class:`PromptCache`, on by default), the input a cached prefix covers is
reported as ``cache_read_input_tokens`` and the newly cached part as ``cache_creation_input_tokens``.

Every request is recorded (:attr:`FakeAnthropic.requests`) and validated the way the API validates it;
a request the API would refuse is answered with 400 ``invalid_request_error`` (401
``authentication_error`` without credentials) and its problems are kept in
:attr:`FakeAnthropic.validation_errors`. A request that finds no scripted reply is answered with 500
``fake anthropic: no scripted reply left`` and counted in :attr:`FakeAnthropic.unscripted_requests`.

The ``fake_anthropic`` pytest fixture yields a started fake and, at teardown, fails the test if any request
was invalid or unscripted (``fake_anthropic.strict = False`` in tests that provoke that on purpose). To use
it everywhere, import it in ``tests/conftest.py``: ``from fakes.anthropic_api import fake_anthropic``
(``tests/`` has no ``__init__.py``, so pytest puts ``tests/`` on ``sys.path`` and the package is ``fakes``).

Two things about the SDK (2.12) worth knowing when scripting:

* it sends the API key as ``Authorization: Bearer <key>``, not ``x-api-key``; the fake accepts either;
* it treats ``retry-after: 0`` as "no hint" and then backs off 0.5 s to 8 s, so ``Reply.status(...,
  retry_after=0)`` also sends ``retry-after-ms: 1`` (which the SDK reads first) to keep retries instant.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import itertools
import json
import math
import re
import socket
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeAlias, TypedDict

import anthropic
import pytest_asyncio
from aiohttp import web
from typing_extensions import Unpack

__all__ = [
    "ACCEPTED_BLOCK_TYPES",
    "MAX_CACHE_BREAKPOINTS",
    "NO_SCRIPTED_REPLY",
    "CacheUse",
    "FakeAnthropic",
    "PromptCache",
    "RecordedRequest",
    "Reply",
    "ReplyOptions",
    "Responder",
    "TextOut",
    "ToolCall",
    "Usage",
    "fake_anthropic",
    "validate_messages_request",
]

JSON: TypeAlias = dict[str, Any]

NO_SCRIPTED_REPLY = "fake anthropic: no scripted reply left"

#: Content block types the fake accepts in request messages (anything else is a 400).
ACCEPTED_BLOCK_TYPES = frozenset({"text", "image", "tool_use", "tool_result", "search_result", "document"})
#: Block types allowed inside a ``tool_result``'s ``content`` list.
TOOL_RESULT_CONTENT_TYPES = frozenset({"text", "image", "search_result", "document"})
MAX_CACHE_BREAKPOINTS = 4

ERROR_TYPE_BY_STATUS: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
STATUS_BY_ERROR_TYPE: dict[str, int] = {v: k for k, v in ERROR_TYPE_BY_STATUS.items()}
DEFAULT_ERROR_MESSAGE: dict[str, str] = {
    "invalid_request_error": "Invalid request",
    "authentication_error": "invalid x-api-key",
    "billing_error": "Your credit balance is too low to access the Anthropic API.",
    "permission_error": "Your API key does not have permission to use the specified resource.",
    "not_found_error": "Not found",
    "request_too_large": "Request exceeds the maximum allowed number of bytes.",
    "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit",
    "api_error": "Internal server error",
    "timeout_error": "Request timed out",
    "overloaded_error": "Overloaded",
}

_TOOL_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")


def _new_id(prefix: str) -> str:
    return f"{prefix}_fake{uuid.uuid4().hex[:20]}"


def _error_body(error_type: str, message: str, request_id: str | None = None) -> JSON:
    body: JSON = {"type": "error", "error": {"type": error_type, "message": message}}
    if request_id is not None:
        body["request_id"] = request_id
    return body


# --------------------------------------------------------------------------------------------------------
# Scripting


@dataclass(frozen=True)
class TextOut:
    """A text block the fake model writes."""

    text: str


@dataclass(frozen=True)
class ToolCall:
    """A ``tool_use`` block the fake model writes; ``id`` defaults to a fresh ``toolu_…`` id."""

    name: str
    input: JSON
    id: str = field(default_factory=lambda: _new_id("toolu"))


OutBlock: TypeAlias = TextOut | ToolCall
ToolCallSpec: TypeAlias = ToolCall | tuple[str, JSON] | tuple[str, JSON, str]


@dataclass(frozen=True)
class Usage:
    """Token counts reported for a reply. ``None`` means: estimate (request bytes / 4, reply chars / 4)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0


class ReplyOptions(TypedDict, total=False):
    """Keyword options shared by :meth:`Reply.text` and :meth:`Reply.tool_use`."""

    stop_reason: str
    stop_sequence: str | None
    stop_details: JSON | None
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int
    chunk: int
    json_chunk: int
    ping: bool
    delay: float
    tokens_per_second: float
    ttft: float
    model: str
    message_id: str


@dataclass(frozen=True)
class Reply:
    """One scripted answer to one request. Build it with the class methods; all fields are public."""

    blocks: tuple[OutBlock, ...] = ()
    stop_reason: str | None = "end_turn"
    stop_sequence: str | None = None
    stop_details: JSON | None = None
    usage: Usage = Usage()
    model: str | None = None  # None: echo the request's model
    message_id: str | None = None  # None: a fresh msg_… id
    chunk: int = 8  # characters per text_delta
    json_chunk: int = 7  # characters per input_json_delta
    ping: bool = True  # a ping after the first content_block_start
    delay: float = 0.0  # seconds before each content_block_delta
    ttft: float = 0.0  # seconds before message_start (or before the JSON body)
    # Failure modes
    http_status: int = 200  # != 200: an HTTP error reply (see :meth:`status`)
    error_type: str | None = None  # error.type of an HTTP error or of a mid-stream error event
    error_message: str | None = None
    error_after_events: int | None = None  # send an SSE `error` event after this many events
    cut_after_events: int | None = None  # close the connection after this many events
    cut_partial: bool = True  # ... having written half of the next event
    headers: tuple[tuple[str, str], ...] = ()
    body: JSON | None = None  # raw JSON body for an HTTP error reply

    # ---- builders ------------------------------------------------------------------------------------

    @classmethod
    def text(cls, text: str, **options: Unpack[ReplyOptions]) -> Reply:
        """A text answer, streamed ``chunk`` characters per ``text_delta``; ``stop_reason`` ``end_turn``."""
        blocks: tuple[OutBlock, ...] = (TextOut(text),)
        return cls._build(blocks, "end_turn", options)

    @classmethod
    def tool_use(
        cls, *calls: ToolCallSpec, text: str | None = None, **options: Unpack[ReplyOptions]
    ) -> Reply:
        """One or more ``tool_use`` blocks (optionally after a text block); ``stop_reason`` ``tool_use``.

        Each call is ``(name, input)``, ``(name, input, id)`` or a :class:`ToolCall`. The input JSON is
        streamed as ``input_json_delta`` pieces of ``json_chunk`` characters, always with one split in the
        middle of a string value.
        """
        if not calls:
            raise ValueError("Reply.tool_use needs at least one call")
        blocks: list[OutBlock] = [TextOut(text)] if text else []
        for call in calls:
            if isinstance(call, ToolCall):
                blocks.append(call)
            elif len(call) == 3:
                blocks.append(ToolCall(call[0], call[1], call[2]))
            else:
                blocks.append(ToolCall(call[0], call[1]))
        return cls._build(tuple(blocks), "tool_use", options)

    @classmethod
    def status(
        cls,
        status: int,
        *,
        error_type: str | None = None,
        message: str | None = None,
        retry_after: float | None = None,
        should_retry: bool | None = None,
        headers: Mapping[str, str] | None = None,
        body: JSON | None = None,
    ) -> Reply:
        """An HTTP error in the API's format: ``{"type":"error","error":{"type":…,"message":…}}``.

        ``retry_after`` (seconds) sets ``retry-after`` and ``retry-after-ms`` (at least 1 ms, so 0 means
        "retry now" to the SDK). ``should_retry`` sets ``x-should-retry``.
        """
        hdrs = dict(headers or {})
        if retry_after is not None:
            hdrs["retry-after"] = str(math.ceil(retry_after))
            hdrs["retry-after-ms"] = str(max(1, round(retry_after * 1000)))
        if should_retry is not None:
            hdrs["x-should-retry"] = "true" if should_retry else "false"
        etype = error_type or ERROR_TYPE_BY_STATUS.get(
            status, "api_error" if status >= 500 else "invalid_request_error"
        )
        return cls(
            http_status=status,
            error_type=etype,
            error_message=message,
            stop_reason=None,
            headers=tuple(hdrs.items()),
            body=body,
        )

    @classmethod
    def cut(cls, after_events: int = 4, *, reply: Reply | None = None, partial: bool = True) -> Reply:
        """Close the connection abruptly after ``after_events`` SSE events (pings count).

        ``reply`` is the answer being cut (default: a longish text); with ``partial`` half of the next
        event's bytes are written first, so the cut lands mid-event. A non-streaming request is cut before
        any response is written.
        """
        base = reply or cls.text("This answer is going to be cut off in the middle of a sentence.", chunk=6)
        return replace(base, cut_after_events=after_events, cut_partial=partial)

    @classmethod
    def error_event(
        cls,
        error_type: str = "overloaded_error",
        *,
        after_events: int = 4,
        message: str | None = None,
        reply: Reply | None = None,
    ) -> Reply:
        """An SSE ``event: error`` after ``after_events`` events of ``reply``; then the stream ends.

        A non-streaming request gets the matching HTTP status instead (529 for ``overloaded_error``).
        """
        base = reply or cls.text("This answer is interrupted by an error event mid-stream.", chunk=6)
        return replace(base, error_type=error_type, error_message=message, error_after_events=after_events)

    @classmethod
    def _build(cls, blocks: tuple[OutBlock, ...], default_stop: str, options: ReplyOptions) -> Reply:
        opts: dict[str, Any] = dict(options)
        usage = Usage(
            input_tokens=opts.pop("input_tokens", None),
            output_tokens=opts.pop("output_tokens", None),
            cache_creation_input_tokens=opts.pop("cache_creation_input_tokens", 0),
            cache_read_input_tokens=opts.pop("cache_read_input_tokens", 0),
        )
        tps = opts.pop("tokens_per_second", None)
        if tps is not None:
            opts["delay"] = 1.0 / tps  # every delta counts as one token
        opts.setdefault("stop_reason", default_stop)
        if opts.get("chunk", 1) < 1 or opts.get("json_chunk", 1) < 1:
            raise ValueError("chunk sizes must be >= 1")
        return cls(blocks=blocks, usage=usage, **opts)

    # ---- rendering -----------------------------------------------------------------------------------

    def _output_tokens(self) -> int:
        if self.usage.output_tokens is not None:
            return self.usage.output_tokens
        chars = 0
        for block in self.blocks:
            chars += len(block.text) if isinstance(block, TextOut) else len(json.dumps(block.input)) + 8
        return max(1, chars // 4)

    def _usage(self, request_bytes: int, cache: CacheUse | None = None) -> JSON:
        input_tokens = self.usage.input_tokens
        created, read = self.usage.cache_creation_input_tokens, self.usage.cache_read_input_tokens
        if input_tokens is None:
            total = max(1, request_bytes // 4)
            if cache is not None and not (created or read):
                # Estimated usage with the prompt cache modelled: what was not read or written is input.
                created, read = cache.created, cache.read
                total = max(1, total - created - read)
            input_tokens = total
        return {
            "input_tokens": input_tokens,
            "cache_creation_input_tokens": created,
            "cache_read_input_tokens": read,
            "output_tokens": self._output_tokens(),
        }

    def message_json(self, *, model: str, request_bytes: int = 0, cache: CacheUse | None = None) -> JSON:
        """The non-streaming Message body (usage estimated where not scripted, see :class:`Usage`)."""
        content: list[JSON] = []
        for block in self.blocks:
            if isinstance(block, TextOut):
                content.append({"type": "text", "text": block.text})
            else:
                content.append({"type": "tool_use", "id": block.id, "name": block.name, "input": block.input})
        usage = self._usage(request_bytes, cache)
        usage["cache_creation"] = {
            "ephemeral_5m_input_tokens": usage["cache_creation_input_tokens"],
            "ephemeral_1h_input_tokens": 0,
        }
        usage["service_tier"] = "standard"
        message: JSON = {
            "id": self.message_id or _new_id("msg"),
            "type": "message",
            "role": "assistant",
            "model": self.model or model,
            "content": content,
            "stop_reason": self.stop_reason,
            "stop_sequence": self.stop_sequence,
            "usage": usage,
        }
        if self.stop_details is not None:
            message["stop_details"] = self.stop_details
        return message

    def sse_events(
        self, *, model: str, request_bytes: int = 0, cache: CacheUse | None = None
    ) -> list[tuple[str, JSON]]:
        """The full event sequence of a successful stream, as ``(event name, data)`` pairs."""
        final = self.message_json(model=model, request_bytes=request_bytes, cache=cache)
        usage = final["usage"]
        start_usage = {**usage, "output_tokens": min(1, usage["output_tokens"])}
        start = {**final, "content": [], "stop_reason": None, "stop_sequence": None, "usage": start_usage}
        start.pop("stop_details", None)
        events: list[tuple[str, JSON]] = [("message_start", {"type": "message_start", "message": start})]
        for index, block in enumerate(self.blocks):
            if isinstance(block, TextOut):
                first: JSON = {"type": "text", "text": ""}
                deltas = [
                    {"type": "text_delta", "text": block.text[i : i + self.chunk]}
                    for i in range(0, len(block.text), self.chunk)
                ]
            else:
                first = {"type": "tool_use", "id": block.id, "name": block.name, "input": {}}
                pieces = ["", *_json_pieces(block.input, self.json_chunk)]
                deltas = [{"type": "input_json_delta", "partial_json": piece} for piece in pieces]
            events.append(
                (
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": first},
                )
            )
            if index == 0 and self.ping:
                events.append(("ping", {"type": "ping"}))
            for delta in deltas:
                events.append(
                    ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
                )
            events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        delta_body: JSON = {"stop_reason": self.stop_reason, "stop_sequence": self.stop_sequence}
        if self.stop_details is not None:
            delta_body["stop_details"] = self.stop_details
        end_usage = {
            k: usage[k]
            for k in (
                "input_tokens",
                "cache_creation_input_tokens",
                "cache_read_input_tokens",
                "output_tokens",
            )
        }
        events.append(("message_delta", {"type": "message_delta", "delta": delta_body, "usage": end_usage}))
        events.append(("message_stop", {"type": "message_stop"}))
        return events

    def error_json(self, request_id: str | None = None) -> JSON:
        if self.body is not None:
            return self.body
        etype = self.error_type or "api_error"
        return _error_body(etype, self.error_message or DEFAULT_ERROR_MESSAGE.get(etype, etype), request_id)


def _json_pieces(value: JSON, size: int) -> list[str]:
    """Split the JSON of ``value`` into ``size``-character pieces, plus one cut inside a string value."""
    text = json.dumps(value, ensure_ascii=False)
    cuts = set(range(size, len(text), size))
    mid = _mid_string_value_offset(text)
    if mid is not None:
        cuts.add(mid)
    points = [0, *sorted(cuts), len(text)]
    return [text[a:b] for a, b in itertools.pairwise(points) if b > a]


def _mid_string_value_offset(text: str) -> int | None:
    """Offset in the middle of the first JSON string *value* (not key) at least 2 characters long."""
    i = 0
    while i < len(text):
        if text[i] != '"':
            i += 1
            continue
        start = i
        i += 1
        while i < len(text) and text[i] != '"':
            i += 2 if text[i] == "\\" else 1
        end = i  # closing quote
        i += 1
        rest = text[i:].lstrip()
        if not rest.startswith(":") and end - start - 1 >= 2:
            return start + 1 + (end - start - 1) // 2
    return None


# --------------------------------------------------------------------------------------------------------
# Prompt caching


@dataclass(frozen=True)
class CacheUse:
    """Estimated tokens of one request read from and written to the prompt cache."""

    read: int = 0
    created: int = 0


class PromptCache:
    """The API's prompt cache, modelled closely enough for usage figures to be honest.

    A request is a sequence of blocks in prefix order: tools, then system blocks, then each message's
    content blocks (a block's identity includes its message's role and position; ``cache_control`` is left
    out of it). A block with ``cache_control`` is a breakpoint: its prefix is written to the cache (if it
    is at least ``min_tokens`` long) and kept for ``ttl`` seconds from its last use. A request reads the
    longest cached prefix that ends at one of its breakpoints or at most ``lookback`` blocks before one;
    tokens from there to its last cacheable breakpoint are written; the rest is plain input. Caches are per
    model. Tokens are estimated as the block's JSON length / 4, like the rest of the fake's usage.
    """

    def __init__(
        self,
        *,
        min_tokens: int = 1024,
        ttl: float = 300.0,
        lookback: int = 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.min_tokens = min_tokens
        self.ttl = ttl
        self.lookback = lookback
        self._clock = clock
        self._expiry: dict[str, float] = {}

    def clear(self) -> None:
        self._expiry.clear()

    def __len__(self) -> int:
        now = self._clock()
        return sum(1 for expiry in self._expiry.values() if expiry > now)

    def use(self, body: Any) -> CacheUse:
        """Account for one request: what it reads and writes; records its breakpoints."""
        if not isinstance(body, dict):
            return CacheUse()
        blocks = _prefix_blocks(body)
        if not blocks:
            return CacheUse()
        now = self._clock()
        digest = hashlib.sha256(str(body.get("model")).encode())
        hashes: list[str] = []
        totals: list[int] = []
        total = 0
        for identity, tokens, _ in blocks:
            digest.update(identity.encode())
            hashes.append(digest.copy().hexdigest())
            total += tokens
            totals.append(total)
        breakpoints = [i for i, (_, _, marked) in enumerate(blocks) if marked]
        if body.get("cache_control") is not None and (not breakpoints or breakpoints[-1] != len(blocks) - 1):
            breakpoints.append(len(blocks) - 1)  # automatic caching: the last block
        if not breakpoints:
            return CacheUse()
        hit = -1
        for point in breakpoints:
            for i in range(point, max(-1, point - self.lookback - 1), -1):
                if i <= hit:
                    break
                if self._expiry.get(hashes[i], 0.0) > now:
                    hit = i
                    break
        read = totals[hit] if hit >= 0 else 0
        if hit >= 0:
            self._expiry[hashes[hit]] = now + self.ttl
        cacheable = [p for p in breakpoints if totals[p] >= self.min_tokens]
        for point in cacheable:
            self._expiry[hashes[point]] = now + self.ttl
        written = max(0, totals[cacheable[-1]] - read) if cacheable else 0
        return CacheUse(read=read, created=written)


def _prefix_blocks(body: JSON) -> list[tuple[str, int, bool]]:
    """(identity, estimated tokens, has cache_control) of each block in prefix order."""
    out: list[tuple[str, int, bool]] = []

    def add(kind: str, block: Any) -> None:
        marked = isinstance(block, dict) and block.get("cache_control") is not None
        bare = {k: v for k, v in block.items() if k != "cache_control"} if isinstance(block, dict) else block
        text = json.dumps(bare, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        out.append((f"{kind}|{text}", max(1, len(text) // 4), marked))

    for tool in body.get("tools") or ():
        add("tool", tool)
    system = body.get("system")
    if isinstance(system, str) and system:
        add("system", {"type": "text", "text": system})
    elif isinstance(system, list):
        for block in system:
            add("system", block)
    for index, message in enumerate(body.get("messages") or ()):
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        role = message.get("role")
        if isinstance(content, str):
            add(f"{index}:{role}", {"type": "text", "text": content})
        elif isinstance(content, list):
            for block in content:
                add(f"{index}:{role}", block)
    return out


# --------------------------------------------------------------------------------------------------------
# Recording


@dataclass
class RecordedRequest:
    """One HTTP request the fake received, and how it was answered."""

    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    raw: bytes
    body: Any  # parsed JSON, or None when the body was not JSON
    status: int | None = None  # status of the answer
    errors: list[str] = field(default_factory=list)  # validation errors of this request
    reply: Reply | None = None  # the scripted reply used, if any
    cache: CacheUse | None = None  # what the prompt cache model made of it (answered requests only)

    @property
    def stream(self) -> bool:
        return isinstance(self.body, dict) and self.body.get("stream") is True

    @property
    def messages(self) -> list[JSON]:
        return list(self.body.get("messages") or []) if isinstance(self.body, dict) else []

    @property
    def system(self) -> Any:
        return self.body.get("system") if isinstance(self.body, dict) else None

    @property
    def tools(self) -> list[JSON]:
        return list(self.body.get("tools") or []) if isinstance(self.body, dict) else []

    @property
    def model(self) -> str | None:
        model = self.body.get("model") if isinstance(self.body, dict) else None
        return model if isinstance(model, str) else None


Responder: TypeAlias = Callable[[RecordedRequest], "Reply | Awaitable[Reply]"]


# --------------------------------------------------------------------------------------------------------
# Validation


def validate_messages_request(body: Any, *, count_tokens: bool = False) -> list[str]:
    """The problems the Messages API would answer with 400 ``invalid_request_error`` (empty if none)."""
    if not isinstance(body, dict):
        return ["request body must be a JSON object"]
    errors: list[str] = []
    model = body.get("model")
    if "model" not in body:
        errors.append("model: Field required")
    elif not isinstance(model, str) or not model:
        errors.append("model: Input should be a non-empty string")
    if not count_tokens:
        max_tokens = body.get("max_tokens")
        if "max_tokens" not in body:
            errors.append("max_tokens: Field required")
        elif not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            errors.append("max_tokens: Input should be an integer greater than or equal to 1")
    if "stream" in body and not isinstance(body["stream"], bool):
        errors.append("stream: Input should be a valid boolean")

    breakpoints = [0]
    if "cache_control" in body and body["cache_control"] is not None:
        _check_cache_control(body, "cache_control", errors, breakpoints)

    _check_system(body.get("system"), errors, breakpoints)
    tool_names = _check_tools(body.get("tools"), errors, breakpoints)
    _check_tool_choice(body.get("tool_choice"), tool_names, errors)

    messages = body.get("messages")
    if "messages" not in body:
        errors.append("messages: Field required")
    elif not isinstance(messages, list):
        errors.append("messages: Input should be a valid list")
    elif not messages:
        errors.append("messages: at least one message is required")
    else:
        _check_messages(messages, "tools" in body and bool(body.get("tools")), errors, breakpoints)

    if breakpoints[0] > MAX_CACHE_BREAKPOINTS:
        errors.append(
            f"A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. "
            f"Found {breakpoints[0]}."
        )
    return errors


def _check_cache_control(obj: JSON, path: str, errors: list[str], breakpoints: list[int]) -> None:
    cc = obj.get("cache_control")
    if cc is None:
        return
    if not isinstance(cc, dict) or cc.get("type") != "ephemeral":
        errors.append(f"{path}.type: Input should be 'ephemeral'")
    elif "ttl" in cc and cc["ttl"] not in ("5m", "1h"):
        errors.append(f"{path}.ttl: Input should be '5m' or '1h'")
    breakpoints[0] += 1


def _check_text_block(block: JSON, path: str, errors: list[str]) -> None:
    text = block.get("text")
    if not isinstance(text, str):
        errors.append(f"{path}.text: Field required")
    elif not text:
        errors.append(f"{path}: text content blocks must be non-empty")
    elif not text.strip():
        errors.append(f"{path}: text content blocks must contain non-whitespace text")


def _check_system(system: Any, errors: list[str], breakpoints: list[int]) -> None:
    if system is None or isinstance(system, str):
        return
    if not isinstance(system, list):
        errors.append("system: Input should be a valid string or a list of text blocks")
        return
    for i, block in enumerate(system):
        path = f"system.{i}"
        if not isinstance(block, dict) or block.get("type") != "text":
            errors.append(f"{path}.type: Input should be 'text'")
            continue
        _check_text_block(block, path, errors)
        if "cache_control" in block:
            _check_cache_control(block, f"{path}.cache_control", errors, breakpoints)


def _check_tools(tools: Any, errors: list[str], breakpoints: list[int]) -> set[str]:
    names: set[str] = set()
    if tools is None:
        return names
    if not isinstance(tools, list):
        errors.append("tools: Input should be a valid list")
        return names
    for i, tool in enumerate(tools):
        path = f"tools.{i}"
        if not isinstance(tool, dict):
            errors.append(f"{path}: Input should be a valid dictionary")
            continue
        name = tool.get("name")
        if "name" not in tool:
            errors.append(f"{path}.name: Field required")
        elif not isinstance(name, str) or not _TOOL_NAME_RE.fullmatch(name):
            errors.append(f"{path}.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'")
        elif name in names:
            errors.append(f"tools: Tool names must be unique. Found duplicate: {name}")
        else:
            names.add(name)
        if tool.get("type") in (None, "custom"):  # server tools (web_search_…) carry no input_schema
            schema = tool.get("input_schema")
            if "input_schema" not in tool:
                errors.append(f"{path}.custom.input_schema: Field required")
            elif not isinstance(schema, dict) or schema.get("type") != "object":
                errors.append(f"{path}.custom.input_schema.type: Input should be 'object'")
            if "description" in tool and not isinstance(tool["description"], str):
                errors.append(f"{path}.custom.description: Input should be a valid string")
        if "cache_control" in tool:
            _check_cache_control(tool, f"{path}.cache_control", errors, breakpoints)
    return names


def _check_tool_choice(choice: Any, tool_names: set[str], errors: list[str]) -> None:
    if choice is None:
        return
    if not isinstance(choice, dict) or choice.get("type") not in ("auto", "any", "tool", "none"):
        errors.append("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'")
        return
    if choice["type"] == "tool" and choice.get("name") not in tool_names:
        errors.append(f"tool_choice.name: tool {choice.get('name')!r} is not defined in tools")
    elif choice["type"] in ("any", "tool") and not tool_names:
        errors.append("tool_choice: tool_choice may only be specified while providing tools")


def _check_block_shape(block: JSON, path: str, errors: list[str]) -> None:
    btype = block.get("type")
    if btype == "text":
        _check_text_block(block, path, errors)
    elif btype in ("image", "document"):
        source = block.get("source")
        if not isinstance(source, dict) or not isinstance(source.get("type"), str):
            errors.append(f"{path}.source: Field required")
        elif source["type"] == "base64" and not (source.get("media_type") and source.get("data")):
            errors.append(f"{path}.source: base64 sources need media_type and data")
    elif btype == "search_result":
        if not isinstance(block.get("source"), str) or not isinstance(block.get("title"), str):
            errors.append(f"{path}: search_result blocks need a string source and title")
        content = block.get("content")
        if not isinstance(content, list) or not content:
            errors.append(f"{path}.content: search_result content must be a non-empty list of text blocks")
        else:
            for k, inner in enumerate(content):
                if not isinstance(inner, dict) or inner.get("type") != "text":
                    errors.append(f"{path}.content.{k}.type: Input should be 'text'")
                else:
                    _check_text_block(inner, f"{path}.content.{k}", errors)


_EMPTY_CONTENT = "all messages must have non-empty content except for the optional final assistant message"


def _missing_results(index: int, ids: list[str]) -> str:
    return (
        f"messages.{index}: `tool_use` ids were found without `tool_result` blocks immediately after: "
        f"{', '.join(ids)}. Each `tool_use` block must have a corresponding `tool_result` block "
        "in the next message."
    )


def _check_messages(messages: list[Any], has_tools: bool, errors: list[str], breakpoints: list[int]) -> None:
    expected_results: list[str] = []  # tool_use ids of the immediately preceding assistant message
    all_tool_use_ids: set[str] = set()
    prev_role: str | None = None
    uses_tools = False
    last = len(messages) - 1
    for i, message in enumerate(messages):
        path = f"messages.{i}"
        if not isinstance(message, dict):
            errors.append(f"{path}: Input should be a valid dictionary")
            continue
        role = message.get("role")
        if role not in ("user", "assistant"):
            errors.append(f"{path}.role: Input should be 'user' or 'assistant'")
            continue
        if i == 0 and role != "user":
            errors.append('messages: first message must use the "user" role')
        if prev_role == role:
            errors.append(
                f'messages: roles must alternate between "user" and "assistant", '
                f'but found multiple "{role}" roles in a row (at {path})'
            )
        prev_role = role

        content = message.get("content")
        blocks: list[Any]
        if isinstance(content, str):
            if not content and not (i == last and role == "assistant"):
                errors.append(f"{path}: {_EMPTY_CONTENT}")
            elif content and not content.strip():
                errors.append(f"{path}.content: text content blocks must contain non-whitespace text")
            blocks = []
        elif isinstance(content, list):
            if not content and not (i == last and role == "assistant"):
                errors.append(f"{path}: {_EMPTY_CONTENT}")
            blocks = content
        else:
            errors.append(f"{path}.content: Input should be a valid string or list of content blocks")
            blocks = []

        tool_use_ids: list[str] = []
        result_ids: list[tuple[int, str]] = []
        seen_other = False
        for j, block in enumerate(blocks):
            bpath = f"{path}.content.{j}"
            if not isinstance(block, dict):
                errors.append(f"{bpath}: Input should be a valid dictionary")
                continue
            btype = block.get("type")
            if btype not in ACCEPTED_BLOCK_TYPES:
                errors.append(
                    f"{bpath}.type: Input tag {btype!r} found using 'type' does not match any of the "
                    f"expected tags: {', '.join(sorted(ACCEPTED_BLOCK_TYPES))}"
                )
                continue
            if "cache_control" in block:
                _check_cache_control(block, f"{bpath}.cache_control", errors, breakpoints)
            if btype == "tool_use":
                uses_tools = True
                if role != "assistant":
                    errors.append(f"{bpath}: tool_use blocks may only appear in assistant messages")
                tid = block.get("id")
                if not isinstance(tid, str) or not tid:
                    errors.append(f"{bpath}.id: Field required")
                    continue
                if not isinstance(block.get("name"), str) or not block["name"]:
                    errors.append(f"{bpath}.name: Field required")
                if not isinstance(block.get("input"), dict):
                    errors.append(f"{bpath}.input: Input should be a valid dictionary")
                if tid in all_tool_use_ids:
                    errors.append(f"{bpath}: `tool_use` ids must be unique. Found duplicate: {tid}")
                all_tool_use_ids.add(tid)
                tool_use_ids.append(tid)
            elif btype == "tool_result":
                uses_tools = True
                if role != "user":
                    errors.append(f"{bpath}: tool_result blocks may only appear in user messages")
                if seen_other:
                    errors.append(
                        f"{bpath}: tool_result blocks must come first in the user message content, "
                        "before any other blocks"
                    )
                rid = block.get("tool_use_id")
                if not isinstance(rid, str) or not rid:
                    errors.append(f"{bpath}.tool_use_id: Field required")
                else:
                    result_ids.append((j, rid))
                if "is_error" in block and not isinstance(block["is_error"], bool):
                    errors.append(f"{bpath}.is_error: Input should be a valid boolean")
                inner_content = block.get("content")
                if isinstance(inner_content, list):
                    for k, inner in enumerate(inner_content):
                        ipath = f"{bpath}.content.{k}"
                        if not isinstance(inner, dict) or inner.get("type") not in TOOL_RESULT_CONTENT_TYPES:
                            itype = inner.get("type") if isinstance(inner, dict) else None
                            errors.append(
                                f"{ipath}.type: Input tag {itype!r} is not allowed in tool_result content"
                            )
                            continue
                        _check_block_shape(inner, ipath, errors)
                        if "cache_control" in inner:
                            _check_cache_control(inner, f"{ipath}.cache_control", errors, breakpoints)
                elif inner_content is not None and not isinstance(inner_content, str):
                    errors.append(
                        f"{bpath}.content: Input should be a valid string or list of content blocks"
                    )
            else:
                seen_other = True
                _check_block_shape(block, bpath, errors)

        if role == "user":
            answered: set[str] = set()
            for j, rid in result_ids:
                if rid not in expected_results:
                    errors.append(
                        f"{path}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: {rid}. "
                        "Each `tool_result` block must have a corresponding `tool_use` block "
                        "in the previous message."
                    )
                elif rid in answered:
                    errors.append(f"{path}.content.{j}: duplicate `tool_result` for tool_use_id {rid}")
                answered.add(rid)
            missing = [tid for tid in expected_results if tid not in answered]
            if missing:
                errors.append(_missing_results(i - 1, missing))
            expected_results = []
        else:
            expected_results = tool_use_ids
    if expected_results:
        errors.append(_missing_results(last, expected_results))
    if uses_tools and not has_tools:
        errors.append("Requests which include `tool_use` or `tool_result` blocks must define tools.")


# --------------------------------------------------------------------------------------------------------
# The server


_DEFAULT_CACHE: Any = object()


class FakeAnthropic:
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
        self._runner: web.AppRunner | None = None
        self._port = 0

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

    @property
    def base_url(self) -> str:
        if not self._port:
            raise RuntimeError("fake anthropic is not started")
        return f"http://{self.host}:{self._port}"

    def client(
        self, *, api_key: str = "test", max_retries: int = 0, **kwargs: Any
    ) -> anthropic.AsyncAnthropic:
        """A real ``AsyncAnthropic`` pointed at this fake; close it (``async with fake.client() as c:``)."""
        return anthropic.AsyncAnthropic(
            base_url=self.base_url, api_key=api_key, max_retries=max_retries, **kwargs
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/messages", self._handle_messages)
        app.router.add_post("/v1/messages/count_tokens", self._handle_count_tokens)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self._port = sock.getsockname()[1]
        site = web.SockSite(self._runner, sock)
        await site.start()

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeAnthropic:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

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

    def _check_headers(self, rec: RecordedRequest) -> web.Response | None:
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
        if rec.body is None:
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
