"""What the service records for operators: the metrics of every outcome, tool decision and token, and log
lines tagged with the thread and a request id. Through the real service, agent and SDK, against the fake
Anthropic API."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest
from fakes.anthropic import FakeAnthropic, Reply

from bot.agent.llm import AnthropicLLM
from bot.logs import JsonFormatter
from bot.run.serve import ModelCheck
from bot.runtime import App
from bot.streaming.reply import INTERRUPTED_NOTICE
from bot.types import ThreadRef
from tests.e2e.rig import MakeApp, PlatformStream, ask, new_thread, who
from tests.scrape import value

C1001 = who("customer:C-1001")
PLATFORM = "e2e"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The JSON lines the service logs meanwhile."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("bot.service")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield out
    logger.removeHandler(handler)
    logger.setLevel(level)


async def test_outcomes_tool_decisions_and_tokens_are_counted(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef, json_log: io.StringIO
) -> None:
    fake_anthropic.script(
        Reply.tool_use(("lookup_order", {"order_id": "ORD-10001"})),
        Reply.text("ORD-10001 has shipped.", input_tokens=1200, output_tokens=40),
        Reply.tool_use(("lookup_order", {"order_id": "ORD-10002"})),  # another customer's order
        Reply.text("I can't find that order."),
        Reply.error_event("overloaded_error", after_events=5, reply=Reply.text("Half of it and", chunk=4)),
    )
    await ask(app, C1001, "Where is ORD-10001?", ref=thread, event_id="event-1")
    await ask(app, C1001, "Where is ORD-10001?", ref=thread, event_id="event-1")  # delivered again
    await ask(app, C1001, "And ORD-10002?", ref=thread)
    failed = await ask(app, C1001, "And returns?", ref=new_thread())
    assert failed.handled.outcome is not None and failed.handled.outcome.failed

    metrics = app.metrics
    assert metrics is not None
    body = metrics.render().decode()  # what GET /metrics shows
    outcomes = {
        outcome: value(body, "supportbot_replies_total", platform=PLATFORM, outcome=outcome)
        for outcome in ("answered", "duplicate", "failed", "fallback")
    }
    assert outcomes == {"answered": 2, "duplicate": 1, "failed": 1, "fallback": None}
    assert value(body, "supportbot_tool_calls_total", tool="lookup_order", decision="allowed") == 1
    assert value(body, "supportbot_tool_calls_total", tool="lookup_order", decision="denied") == 1
    assert value(body, "supportbot_tool_calls_total", tool="search_kb", decision="allowed") == 0
    assert (value(body, "supportbot_model_tokens_total", kind="input") or 0) >= 1200
    assert (value(body, "supportbot_model_tokens_total", kind="output") or 0) >= 40
    assert value(body, "supportbot_reply_final_text_seconds_count", platform=PLATFORM) == 3
    assert value(body, "supportbot_reply_first_text_seconds_count", platform=PLATFORM) == 3
    assert (value(body, "supportbot_reply_edits_total", platform=PLATFORM) or 0) >= 3
    assert value(body, "supportbot_replies_in_progress", platform=PLATFORM) == 0

    entries = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert all(entry.get("thread") and entry.get("request_id") for entry in entries), entries
    [duplicate] = [
        entry for entry in entries if entry["message"] == "answer" and entry["outcome"] == "duplicate"
    ]
    assert duplicate["thread"] == thread.key and len(str(duplicate["request_id"])) == 16
    assert duplicate["platform"] == PLATFORM and duplicate["reply_id"] is None
    assert len({entry["request_id"] for entry in entries}) == 4  # one per message

    answers = [entry for entry in entries if entry["message"] == "answer" and entry["outcome"] != "duplicate"]
    assert [entry["outcome"] for entry in answers] == ["answered", "answered", "failed"]
    first = answers[0]
    assert first["model"] and first["stop_reason"] == "end_turn" and first["input_tokens"] >= 1200
    assert first["output_tokens"] >= 40 and first["cost_usd"] > 0
    assert 0 <= first["first_text_s"] <= first["final_text_s"]
    assert {"cache_read_tokens", "cache_write_tokens", "reply_id"} <= set(first)
    assert answers[2]["failure"] and answers[2]["stop_reason"] is None
    said = ("ORD-10001 has shipped", "Where is ORD-10001", "And returns", "Half of it", "find that order")
    assert not any(words in json_log.getvalue() for words in said)  # never a word of the conversation


async def test_a_fallback_answer_is_counted_as_such(make_app: MakeApp, thread: ThreadRef) -> None:
    app = await make_app(anthropic_api_key=None)
    await ask(app, C1001, "Where is ORD-10001?", ref=thread)
    assert app.metrics is not None
    body = app.metrics.render().decode()
    assert value(body, "supportbot_replies_total", platform=PLATFORM, outcome="fallback") == 1
    assert value(body, "supportbot_tool_calls_total", tool="lookup_order", decision="allowed") == 1


async def test_a_reply_cancelled_at_shutdown_is_settled_and_counted_as_interrupted(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    fake_anthropic.script(Reply.text("A long answer, written slowly. " * 20, chunk=4, delay=0.05))
    stream = PlatformStream()
    answering = asyncio.create_task(ask(app, C1001, "Tell me everything.", ref=thread, stream=stream))
    for _ in range(400):
        if any("long answer" in text for text in stream.texts()):
            break
        await asyncio.sleep(0.01)
    answering.cancel()
    with pytest.raises(asyncio.CancelledError):
        await answering
    [shown] = stream.texts()
    assert shown.startswith("A long answer") and shown.endswith("\n\n" + INTERRUPTED_NOTICE)
    assert app.metrics is not None
    assert app.metrics.value("supportbot_replies_total", platform=PLATFORM, outcome="interrupted") == 1
    assert app.metrics.value("supportbot_replies_in_progress", platform=PLATFORM) == 0
    assert await app.store.pending_replies(PLATFORM) == []


async def test_the_model_check_asks_the_api_at_most_once_per_period() -> None:
    now = [0.0]
    async with FakeAnthropic(api_key="right") as fake:
        good = AnthropicLLM.from_key("right", base_url=fake.base_url)
        bad = AnthropicLLM.from_key("wrong-key", base_url=fake.base_url)
        try:
            check = ModelCheck(good, "claude-sonnet-5-5", ok_for=60, failure_for=5, clock=lambda: now[0])
            assert await check.status() == (True, "ok")
            now[0] = 59
            assert await check.status() == (True, "ok")
            assert len(fake.requests) == 1  # kept for a minute
            rejected = ModelCheck(bad, "claude-sonnet-5-5", ok_for=60, failure_for=5, clock=lambda: now[0])
            acceptable, report = await rejected.status()
            assert not acceptable and report.startswith("rejected: ") and "ANTHROPIC_API_KEY" in report
            now[0] = 65  # a failure is asked again sooner
            await rejected.status()
            assert [r.path for r in fake.requests] == ["/v1/messages/count_tokens"] * 3
        finally:
            await good.close()
            await bad.close()
    assert await ModelCheck(None, "m").status() == (True, "not configured: answering without the model")
