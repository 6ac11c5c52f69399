"""Self-tests of the fake Message Batches API, driven through the real ``anthropic.AsyncAnthropic``."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from .anthropic import FakeAnthropic, Reply

MODEL = "claude-test-model"


def params(text: str, **extra: Any) -> Any:
    return {"model": MODEL, "max_tokens": 100, "messages": [{"role": "user", "content": text}], **extra}


async def test_a_batch_is_polled_until_it_ends_and_its_results_match_by_custom_id() -> None:
    async with FakeAnthropic(
        Reply.text("first answer"), Reply.tool_use(("lookup_order", {"id": "1"}))
    ) as fake:
        fake.batch_polls = 2
        async with fake.client() as client:
            batch = await client.messages.batches.create(
                requests=[
                    {"custom_id": "a", "params": params("one")},
                    {"custom_id": "b", "params": params("two")},
                ]
            )
            assert batch.processing_status == "in_progress"
            assert batch.request_counts.processing == 2
            assert batch.results_url is None
            statuses = []
            while batch.processing_status != "ended":
                batch = await client.messages.batches.retrieve(batch.id)
                statuses.append(batch.processing_status)
            assert statuses == ["in_progress", "in_progress", "ended"]
            assert batch.request_counts.succeeded == 2
            results = {
                line.custom_id: line.result async for line in await client.messages.batches.results(batch.id)
            }
    first, second = results["a"], results["b"]
    assert first.type == "succeeded" and second.type == "succeeded"
    assert first.message.content[0].type == "text" and first.message.content[0].text == "first answer"
    assert second.message.stop_reason == "tool_use"
    assert [r.body["messages"][0]["content"] for r in fake.batch_requests] == ["one", "two"]
    assert fake.message_requests == []
    assert fake.validation_errors == []


async def test_a_request_the_api_would_refuse_is_errored_and_the_others_succeed() -> None:
    async with FakeAnthropic(responder=lambda request: Reply.text("ok")) as fake:
        fake.batch_polls = 0
        async with fake.client() as client:
            batch = await client.messages.batches.create(
                requests=[
                    {"custom_id": "good", "params": params("fine")},
                    {"custom_id": "bad", "params": {"model": MODEL, "messages": []}},
                ]
            )
            assert batch.processing_status == "ended"
            results = {
                line.custom_id: line.result async for line in await client.messages.batches.results(batch.id)
            }
    assert results["good"].type == "succeeded"
    bad = results["bad"]
    assert bad.type == "errored"
    assert bad.error.error.type == "invalid_request_error"
    assert any(error.startswith("bad: ") for error in fake.validation_errors)


async def test_a_cancelled_batch_ends_with_its_requests_canceled() -> None:
    async with FakeAnthropic(responder=lambda request: Reply.text("ok")) as fake, fake.client() as client:
        batch = await client.messages.batches.create(requests=[{"custom_id": "x", "params": params("hi")}])
        batch = await client.messages.batches.cancel(batch.id)
        assert batch.processing_status == "ended"
        assert batch.request_counts.canceled == 1
        results = [line.result.type async for line in await client.messages.batches.results(batch.id)]
    assert results == ["canceled"]


async def test_a_malformed_batch_or_an_unknown_id_is_refused() -> None:
    async with FakeAnthropic() as fake:
        fake.strict = False
        async with fake.client() as client:
            with pytest.raises(anthropic.BadRequestError, match="used twice"):
                await client.messages.batches.create(
                    requests=[
                        {"custom_id": "a", "params": params("x")},
                        {"custom_id": "a", "params": params("y")},
                    ]
                )
            with pytest.raises(anthropic.NotFoundError):
                await client.messages.batches.retrieve("msgbatch_nope")
