"""Self-tests of the fake's prompt-cache model: estimated usage splits into plain input, cache reads and
cache writes the way the API's does (``PromptCache``), through the real ``anthropic.AsyncAnthropic``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from .anthropic import FakeAnthropic, PromptCache, Reply

MODEL = "claude-test-model"
CC = {"type": "ephemeral"}
SYSTEM = [{"type": "text", "text": "You are a support bot. " * 300, "cache_control": CC}]  # ~1,700 tokens


def turn(n: int) -> list[dict[str, Any]]:
    """A conversation of ``n`` questions and answers plus a question, the last block marked."""
    messages: list[dict[str, Any]] = []
    for i in range(n):
        messages.append({"role": "user", "content": [{"type": "text", "text": f"question {i} " * 40}]})
        messages.append({"role": "assistant", "content": [{"type": "text", "text": f"answer {i} " * 40}]})
    messages.append({"role": "user", "content": [{"type": "text", "text": f"question {n} " * 40}]})
    messages[-1]["content"][-1]["cache_control"] = CC
    return messages


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def body(messages: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "max_tokens": 100, "system": SYSTEM, "messages": messages, **extra}


def test_a_growing_conversation_reads_what_the_turn_before_wrote() -> None:
    cache = PromptCache()
    first = cache.use(body(turn(0)))
    assert first.read == 0 and first.created > 1700  # system and the question written
    second = cache.use(body(turn(1)))
    assert second.read == first.created  # everything up to the last breakpoint before
    assert 0 < second.created < 300  # the answer and the new question (about 110 tokens each)
    third = cache.use(body(turn(2)))
    assert third.read == second.read + second.created


def test_a_changed_prefix_reads_only_up_to_the_change_and_nothing_is_read_without_breakpoints() -> None:
    cache = PromptCache()
    cache.use(body(turn(3)))
    other = turn(3)
    other[0]["content"][0]["text"] = "a different first question"
    changed = cache.use(body(other))
    system_tokens = changed.read
    assert 1500 < system_tokens < 2000  # the system prompt's own breakpoint still hits
    assert (
        cache.use({"model": MODEL, "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}).read
        == 0
    )
    assert cache.use(body(turn(3), model="another-model")).read == 0  # caches are per model


def test_short_prefixes_are_not_cached_and_entries_expire() -> None:
    clock = Clock()
    cache = PromptCache(clock=clock, ttl=300)
    short = {"model": MODEL, "max_tokens": 10, "messages": turn(0)}  # ~100 tokens, under the minimum
    assert cache.use(short).created == 0 and len(cache) == 0
    cache.use(body(turn(1)))
    clock.now = 299.0
    assert cache.use(body(turn(1))).read > 0  # a hit refreshes the entry ...
    clock.now = 598.0
    assert cache.use(body(turn(1))).read > 0
    clock.now = 1000.0
    assert cache.use(body(turn(1))).read == 0  # ... which lives 5 minutes from its last use


def test_a_hit_is_looked_for_at_most_lookback_blocks_before_a_breakpoint() -> None:
    cache = PromptCache(lookback=20)
    cache.use(body(turn(0)))  # written: system + question 0 (blocks 0..1)
    far = turn(15)  # the question 0 block is now 30 blocks before the last breakpoint
    assert cache.use(body(far)).read < 2000  # only the system prompt's own entry is found
    near = turn(0)
    near.extend(turn(5)[1:])  # not a real conversation, but 10 blocks after the cached prefix
    cache2 = PromptCache(lookback=20)
    first = cache2.use(body(turn(0)))
    assert cache2.use(body(near)).read == first.created


@pytest.fixture
async def fake() -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic() as server:
        yield server


async def test_estimated_usage_reports_cache_reads_and_writes_scripted_usage_stays_as_scripted(
    fake: FakeAnthropic,
) -> None:
    fake.script(Reply.text("one"), Reply.text("two"), Reply.text("three", input_tokens=7))
    async with fake.client() as client:
        params: dict[str, Any] = {"model": MODEL, "max_tokens": 50, "system": SYSTEM}
        async with client.messages.stream(messages=turn(0), **params) as stream:  # type: ignore[arg-type]
            first = (await stream.get_final_message()).usage
        second = (await client.messages.create(messages=turn(1), **params)).usage  # type: ignore[arg-type]
        third = (await client.messages.create(messages=turn(2), **params)).usage  # type: ignore[arg-type]
    assert first.cache_read_input_tokens == 0 and (first.cache_creation_input_tokens or 0) > 1700
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens
    assert 0 < (second.cache_creation_input_tokens or 0) < 300
    assert 0 < second.input_tokens < 100  # only the request's JSON framing is plain input
    assert (third.input_tokens, third.cache_read_input_tokens, third.cache_creation_input_tokens) == (7, 0, 0)
    assert fake.message_requests[1].cache is not None and fake.message_requests[1].cache.read > 0


async def test_the_cache_model_can_be_switched_off() -> None:
    async with FakeAnthropic(Reply.text("one"), Reply.text("two"), prompt_cache=None) as fake:
        client = fake.client()
        for n in (0, 1):
            message = await client.messages.create(
                model=MODEL,
                max_tokens=50,
                system=SYSTEM,  # type: ignore[arg-type]
                messages=turn(n),  # type: ignore[arg-type]
            )
            assert message.usage.cache_read_input_tokens == 0
            assert message.usage.input_tokens > 1700
        await client.close()
