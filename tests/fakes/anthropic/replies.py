"""Scripted replies (:class:`Reply`) and how each is rendered: a JSON Message or server-sent events."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeAlias, TypedDict

from typing_extensions import Unpack

from .cache import CacheUse
from .wire import DEFAULT_ERROR_MESSAGE, ERROR_TYPE_BY_STATUS, JSON, _error_body, _new_id

# --------------------------------------------------------------------------------------------------------
# Scripting


@dataclass(frozen=True)
class TextOut:
    """A text block the fake model writes, with the citations it carries (e.g. ``search_result_location``
    dicts pointing into a ``search_result`` block of the request)."""

    text: str
    citations: tuple[JSON, ...] = ()


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
    def text(cls, text: str, *, citations: Sequence[JSON] = (), **options: Unpack[ReplyOptions]) -> Reply:
        """A text answer, streamed ``chunk`` characters per ``text_delta``; ``stop_reason`` ``end_turn``.
        ``citations`` are streamed as ``citations_delta`` events before the text."""
        blocks: tuple[OutBlock, ...] = (TextOut(text, tuple(citations)),)
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
                content.append(
                    {"type": "text", "text": block.text, **_citations(block, list(block.citations))}
                )
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
                first: JSON = {"type": "text", "text": "", **_citations(block, [])}
                deltas = [{"type": "citations_delta", "citation": citation} for citation in block.citations]
                deltas += [
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


def _citations(block: TextOut, value: list[JSON]) -> JSON:
    """The ``citations`` key of a text block that carries citations (``value``: all of them, or the empty
    list a stream starts with); nothing for one that carries none."""
    return {"citations": value} if block.citations else {}
