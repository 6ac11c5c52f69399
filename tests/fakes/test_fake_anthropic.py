"""Self-tests of the fake Anthropic API, driven through the real ``anthropic.AsyncAnthropic``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anthropic
import httpx2
import pytest
from anthropic.types import ToolParam

from .anthropic import (
    NO_SCRIPTED_REPLY,
    FakeAnthropic,
    RecordedRequest,
    Reply,
    ToolCall,
    fake_anthropic,  # noqa: F401  (the fixture, used by name below)
    validate_messages_request,
)

MODEL = "claude-test-model"
USER_HI: list[Any] = [{"role": "user", "content": "Where is ORD-10001?"}]
LOOKUP_TOOL: ToolParam = {
    "name": "lookup_order",
    "description": "Look up an order by id.",
    "input_schema": {
        "type": "object",
        "properties": {"order_id": {"type": "string"}},
        "required": ["order_id"],
    },
}
KB_TOOL: ToolParam = {
    "name": "search_kb",
    "description": "Search the knowledge base.",
    "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}},
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic() as server:
        yield server


@pytest.fixture
async def client(fake: FakeAnthropic) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with fake.client(max_retries=0) as c:
        yield c


async def _stream_final(client: anthropic.AsyncAnthropic, **kwargs: Any) -> tuple[list[str], Any]:
    params: dict[str, Any] = {"model": MODEL, "max_tokens": 256, "messages": USER_HI, **kwargs}
    async with client.messages.stream(**params) as stream:
        texts = [t async for t in stream.text_stream]
        return texts, await stream.get_final_message()


# ---- streaming --------------------------------------------------------------------------------------


async def test_text_stream_yields_the_text_in_chunks(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.script(Reply.text("Hello world, your order has shipped.", chunk=5))

    texts, message = await _stream_final(client)

    assert "".join(texts) == "Hello world, your order has shipped."
    assert texts[:2] == ["Hello", " worl"]
    assert message.stop_reason == "end_turn"
    assert message.model == MODEL
    assert message.id.startswith("msg_")
    assert fake.validation_errors == []
    request = fake.last_request
    assert request.stream is True
    assert request.body["messages"] == USER_HI
    assert request.headers["authorization"] == "Bearer test"  # SDK 2.x sends the key as a Bearer token
    assert request.headers["anthropic-version"]


async def test_sdk_sees_the_event_sequence_of_the_api(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.script(Reply.text("abcdef", chunk=3))

    async with client.messages.stream(model=MODEL, max_tokens=50, messages=USER_HI) as stream:
        kinds = [event.type async for event in stream]

    assert kinds == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "text",
        "content_block_delta",
        "text",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]


async def test_raw_wire_format_includes_ping_and_event_lines(fake: FakeAnthropic) -> None:
    fake.script(Reply.tool_use(("lookup_order", {"order_id": "ORD-10001"}), text="Checking."))
    body = {"model": MODEL, "max_tokens": 50, "messages": USER_HI, "tools": [LOOKUP_TOOL], "stream": True}

    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{fake.base_url}/v1/messages",
            json=body,
            headers={"x-api-key": "k", "anthropic-version": "2023-06-01"},
        ) as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert response.headers["request-id"].startswith("req_")
        raw = await response.text()

    frames = [f for f in raw.split("\n\n") if f]
    names = [f.split("\n")[0].removeprefix("event: ") for f in frames]
    datas = [json.loads(f.split("\n")[1].removeprefix("data: ")) for f in frames]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-2:] == ["message_delta", "message_stop"]
    assert all(name == data["type"] for name, data in zip(names, datas, strict=True))
    start = datas[0]["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    assert set(start["usage"]) >= {
        "input_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "output_tokens",
    }
    tool_start = next(d for d in datas if d["type"] == "content_block_start" and d["index"] == 1)
    assert tool_start["content_block"]["type"] == "tool_use" and tool_start["content_block"]["input"] == {}
    assert datas[-2]["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}


async def test_tool_use_input_split_mid_string_parses_to_the_full_dict(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.script(Reply.tool_use(("lookup_order", {"order_id": "ORD-10001"}, "toolu_1"), json_chunk=50))

    async with client.messages.stream(
        model=MODEL, max_tokens=50, messages=USER_HI, tools=[LOOKUP_TOOL]
    ) as stream:
        pieces = [event.partial_json async for event in stream if event.type == "input_json"]
        message = await stream.get_final_message()

    # Even with a large json_chunk the value "ORD-10001" is split across two deltas.
    assert "".join(pieces) == '{"order_id": "ORD-10001"}'
    assert not any("ORD-10001" in piece for piece in pieces)
    assert message.stop_reason == "tool_use"
    [block] = message.content
    assert block.type == "tool_use"
    assert (block.id, block.name, block.input) == ("toolu_1", "lookup_order", {"order_id": "ORD-10001"})


async def test_text_then_two_tool_uses_then_valid_tool_results(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.script(
        Reply.tool_use(
            ("lookup_order", {"order_id": "ORD-10001", "include": ["items", "tracking"]}),
            ToolCall("search_kb", {"query": 'délai de livraison "express"'}),
            text="Let me check two things.",
            json_chunk=4,
        ),
        Reply.text("Your order ships tomorrow."),
    )
    tools = [LOOKUP_TOOL, KB_TOOL]

    texts, message = await _stream_final(client, tools=tools)

    assert "".join(texts) == "Let me check two things."
    assert [b.type for b in message.content] == ["text", "tool_use", "tool_use"]
    uses = [b for b in message.content if b.type == "tool_use"]
    assert uses[0].input == {"order_id": "ORD-10001", "include": ["items", "tracking"]}
    assert uses[1].input == {"query": 'délai de livraison "express"'}
    assert uses[0].id != uses[1].id

    follow_up = [
        *USER_HI,
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in message.content]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": uses[0].id, "content": "shipped"},
                {
                    "type": "tool_result",
                    "tool_use_id": uses[1].id,
                    "content": [{"type": "text", "text": "2 days"}],
                },
            ],
        },
    ]
    texts, message = await _stream_final(client, tools=tools, messages=follow_up)

    assert "".join(texts) == "Your order ships tomorrow."
    assert fake.validation_errors == []
    assert len(fake.message_requests) == 2 and fake.pending == 0


@pytest.mark.parametrize(
    "stop_reason", ["max_tokens", "refusal", "pause_turn", "model_context_window_exceeded"]
)
async def test_stop_reasons_come_through(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic, stop_reason: str
) -> None:
    fake.script(Reply.text("Partial answer", stop_reason=stop_reason))

    _, message = await _stream_final(client)

    assert message.stop_reason == stop_reason


async def test_usage_fields_come_through(fake: FakeAnthropic, client: anthropic.AsyncAnthropic) -> None:
    fake.script(
        Reply.text(
            "Cached answer.",
            input_tokens=12,
            cache_read_input_tokens=3000,
            cache_creation_input_tokens=250,
            output_tokens=42,
        )
    )

    _, message = await _stream_final(client)

    usage = message.usage
    assert (usage.input_tokens, usage.cache_read_input_tokens, usage.cache_creation_input_tokens) == (
        12,
        3000,
        250,
    )
    assert usage.output_tokens == 42


async def test_tokens_per_second_still_streams_everything(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.script(Reply.text("slow but steady", chunk=4, tokens_per_second=2000, ttft=0.001))

    texts, _ = await _stream_final(client)

    assert "".join(texts) == "slow but steady"


# ---- errors and retries -----------------------------------------------------------------------------


async def test_429_then_success_is_retried_by_the_sdk(fake: FakeAnthropic) -> None:
    fake.script(Reply.status(429, retry_after=0), Reply.text("Recovered."))

    async with fake.client(max_retries=2) as client:
        texts, _ = await _stream_final(client)

    assert "".join(texts) == "Recovered."
    assert [r.status for r in fake.message_requests] == [429, 200]
    assert [r.headers["x-stainless-retry-count"] for r in fake.message_requests] == ["0", "1"]


async def test_429_exhausted_raises_rate_limit_error(fake: FakeAnthropic) -> None:
    fake.script(Reply.status(429, retry_after=0), Reply.status(429, retry_after=0))

    async with fake.client(max_retries=1) as client:
        with pytest.raises(anthropic.RateLimitError) as info:
            await _stream_final(client)

    assert info.value.status_code == 429
    assert info.value.type == "rate_limit_error"
    assert info.value.response.headers["retry-after"] == "0"
    assert len(fake.message_requests) == 2


async def test_529_raises_overloaded_error_without_retries(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.script(Reply.status(529))

    with pytest.raises(anthropic.OverloadedError) as info:
        await _stream_final(client)

    assert isinstance(info.value, anthropic.InternalServerError)  # catch OverloadedError first
    assert info.value.body == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
        "request_id": info.value.request_id,
    }


async def test_500_raises_internal_server_error(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.script(Reply.status(500))

    with pytest.raises(anthropic.InternalServerError) as info:
        await _stream_final(client)

    assert not isinstance(info.value, anthropic.OverloadedError)
    assert info.value.type == "api_error"


async def test_x_should_retry_false_stops_sdk_retries(fake: FakeAnthropic) -> None:
    fake.script(Reply.status(529, should_retry=False), Reply.text("never sent"))

    async with fake.client(max_retries=2) as client:
        with pytest.raises(anthropic.OverloadedError):
            await _stream_final(client)

    assert len(fake.message_requests) == 1 and fake.pending == 1


async def test_cut_stream_raises_httpx_remote_protocol_error(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.script(Reply.cut(after_events=4, reply=Reply.text("Hello, this will be cut", chunk=5)))

    received: list[str] = []
    with pytest.raises(httpx2.RemoteProtocolError, match="incomplete chunked read"):
        async with client.messages.stream(model=MODEL, max_tokens=50, messages=USER_HI) as stream:
            async for text in stream.text_stream:
                received.append(text)

    # message_start, content_block_start, ping, one delta; then the connection drops (SDK does not wrap it)
    assert received == ["Hello"]


async def test_cut_before_a_non_streaming_response_is_a_connection_error(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.script(Reply.cut())

    with pytest.raises(anthropic.APIConnectionError):
        await client.messages.create(model=MODEL, max_tokens=50, messages=USER_HI)


async def test_error_event_mid_stream_raises_api_status_error(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.script(Reply.error_event("overloaded_error", after_events=4))

    received: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as info:
        async with client.messages.stream(model=MODEL, max_tokens=50, messages=USER_HI) as stream:
            async for text in stream.text_stream:
                received.append(text)

    # The HTTP status was 200, so the SDK raises the base class; the error type is in the body.
    assert type(info.value) is anthropic.APIStatusError
    assert info.value.status_code == 200
    assert info.value.type == "overloaded_error"
    assert len(received) == 1


async def test_unscripted_request_fails_loudly(fake: FakeAnthropic, client: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(anthropic.InternalServerError, match=NO_SCRIPTED_REPLY):
        await _stream_final(client)

    assert fake.unscripted_requests == 1
    with pytest.raises(AssertionError, match="no scripted reply left"):
        fake.assert_clean()


async def test_wrong_api_key_is_401(fake: FakeAnthropic) -> None:
    fake.api_key = "sk-right"
    async with fake.client(api_key="sk-wrong") as client:
        with pytest.raises(anthropic.AuthenticationError) as info:
            await _stream_final(client)

    assert info.value.type == "authentication_error"
    assert fake.validation_errors == ["invalid x-api-key"]


async def test_missing_credentials_is_401(fake: FakeAnthropic) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.base_url}/v1/messages", json={"model": MODEL}) as response,
    ):
        body = await response.json()

    assert response.status == 401
    assert body["type"] == "error"
    assert body["error"] == {"type": "authentication_error", "message": "x-api-key header is required"}


# ---- validation ---------------------------------------------------------------------------------------


async def test_bad_tool_result_is_400_and_recorded(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.script(Reply.text("never sent"))
    messages = [
        *USER_HI,
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "toolu_a", "name": "lookup_order", "input": {"order_id": "1"}}
            ],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_b", "content": "x"}]},
    ]

    with pytest.raises(anthropic.BadRequestError) as info:
        await _stream_final(client, messages=messages, tools=[LOOKUP_TOOL])

    assert info.value.type == "invalid_request_error"
    assert "unexpected `tool_use_id`" in str(info.value.api_message)
    assert any("toolu_b" in e for e in fake.validation_errors)
    assert any("without `tool_result`" in e and "toolu_a" in e for e in fake.validation_errors)
    assert fake.pending == 1  # a rejected request consumes no scripted reply
    assert fake.last_request.status == 400 and fake.last_request.errors


def _tool_turn(*blocks: dict[str, Any]) -> list[dict[str, Any]]:
    tool_use = {"type": "tool_use", "id": "toolu_1", "name": "lookup_order", "input": {"order_id": "1"}}
    return [*USER_HI, {"role": "assistant", "content": [tool_use]}, {"role": "user", "content": list(blocks)}]


def _body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": MODEL, "max_tokens": 10, "messages": USER_HI, "tools": [LOOKUP_TOOL]}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


CC = {"cache_control": {"type": "ephemeral"}}
RESULT_OK = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (_body(model=None), "model: Field required"),
        ({"model": MODEL, "messages": USER_HI}, "max_tokens: Field required"),
        (_body(messages=None), "messages: Field required"),
        (_body(messages=[]), "at least one message"),
        (_body(messages=[{"role": "assistant", "content": "hi"}]), 'first message must use the "user" role'),
        (_body(messages=[*USER_HI, {"role": "user", "content": "again"}]), "roles must alternate"),
        (_body(messages=[{"role": "user", "content": [{"type": "text", "text": ""}]}]), "must be non-empty"),
        (_body(messages=[{"role": "user", "content": [{"type": "text", "text": "  "}]}]), "non-whitespace"),
        (_body(messages=[{"role": "user", "content": ""}]), "non-empty content"),
        (_body(messages=[{"role": "user", "content": [{"type": "thinking"}]}]), "does not match any"),
        (_body(messages=_tool_turn({"type": "text", "text": "no result"})), "without `tool_result`"),
        (_body(messages=_tool_turn({"type": "text", "text": "first"}, RESULT_OK)), "must come first"),
        (_body(messages=_tool_turn(RESULT_OK), tools=None), "must define tools"),
        (_body(messages=_tool_turn(RESULT_OK)[:2]), "without `tool_result`"),
        (_body(tools=[{"name": "x"}]), "input_schema: Field required"),
        (_body(tools=[{"input_schema": {"type": "object"}}]), "name: Field required"),
        (_body(tools=[LOOKUP_TOOL, LOOKUP_TOOL]), "Tool names must be unique"),
        (_body(tool_choice={"type": "tool", "name": "nope"}), "not defined in tools"),
        (
            _body(
                system=[{"type": "text", "text": "a", **CC}, {"type": "text", "text": "b", **CC}],
                tools=[{**LOOKUP_TOOL, **CC}, {**KB_TOOL, **CC}],
                messages=[{"role": "user", "content": [{"type": "text", "text": "q", **CC}]}],
            ),
            "A maximum of 4 blocks with cache_control may be provided. Found 5.",
        ),
    ],
)
def test_validation_rejects_what_the_api_rejects(body: dict[str, Any], expected: str) -> None:
    errors = validate_messages_request(body)

    assert any(expected in e for e in errors), errors


def test_validation_accepts_a_full_valid_conversation() -> None:
    body = _body(
        system=[{"type": "text", "text": "You are a support bot.", **CC}],
        tools=[LOOKUP_TOOL, {**KB_TOOL, **CC}],
        tool_choice={"type": "auto"},
        cache_control={"type": "ephemeral"},
        messages=[
            {"role": "user", "content": [{"type": "text", "text": "Where is ORD-10001?"}]},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Checking."},
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "lookup_order",
                        "input": {"order_id": "ORD-10001"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "content": [
                            {
                                "type": "search_result",
                                "source": "kb://shipping",
                                "title": "Shipping",
                                "content": [{"type": "text", "text": "2 days"}],
                            }
                        ],
                        **CC,
                    },
                    {"type": "text", "text": "thanks"},
                ],
            },
            {"role": "assistant", "content": "It ships"},
        ],
    )

    assert validate_messages_request(body) == []


# ---- non-streaming, responder, fixture ----------------------------------------------------------------


async def test_non_streaming_returns_a_message(fake: FakeAnthropic, client: anthropic.AsyncAnthropic) -> None:
    fake.script(Reply.text("A short summary.", input_tokens=100, output_tokens=5))

    message = await client.messages.create(model="claude-summary", max_tokens=100, messages=USER_HI)

    assert message.content[0].type == "text" and message.content[0].text == "A short summary."
    assert (message.model, message.stop_reason) == ("claude-summary", "end_turn")
    assert (message.usage.input_tokens, message.usage.output_tokens) == (100, 5)
    assert fake.last_request.stream is False


async def test_non_streaming_error_event_becomes_http_529(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.script(Reply.error_event("overloaded_error"))

    with pytest.raises(anthropic.OverloadedError):
        await client.messages.create(model=MODEL, max_tokens=100, messages=USER_HI)


async def test_responder_serves_unlimited_concurrent_conversations(fake: FakeAnthropic) -> None:
    def responder(request: RecordedRequest) -> Reply:
        question = request.messages[-1]["content"]
        return Reply.text(f"echo: {question}", chunk=3)

    fake.responder = responder
    fake.script(Reply.text("scripted first"))

    async with fake.client() as client:
        results = await asyncio.gather(
            *(_stream_final(client, messages=[{"role": "user", "content": f"q{i}"}]) for i in range(8))
        )

    answers = sorted("".join(texts) for texts, _ in results)
    assert "scripted first" in answers
    assert len([a for a in answers if a.startswith("echo: q")]) == 7
    assert fake.unscripted_requests == 0


async def test_async_responder(fake: FakeAnthropic, client: anthropic.AsyncAnthropic) -> None:
    async def responder(request: RecordedRequest) -> Reply:
        await asyncio.sleep(0)
        return Reply.text(f"{len(request.messages)} message(s)")

    fake.responder = responder

    texts, _ = await _stream_final(client)

    assert "".join(texts) == "1 message(s)"


async def test_count_tokens_endpoint(fake: FakeAnthropic, client: anthropic.AsyncAnthropic) -> None:
    result = await client.messages.count_tokens(model=MODEL, messages=USER_HI)

    assert result.input_tokens > 0


async def test_pytest_fixture(fake_anthropic: FakeAnthropic) -> None:  # noqa: F811  (the fixture)
    fake_anthropic.script(Reply.text("from the fixture"))

    async with fake_anthropic.client() as client:
        texts, _ = await _stream_final(client)

    assert "".join(texts) == "from the fixture"
    assert fake_anthropic.base_url.startswith("http://127.0.0.1:")
