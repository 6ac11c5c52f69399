"""The agent end to end: the real `anthropic` SDK against the fake Messages API, the real app from
`build_app`, rendered on a recording platform stream. Every test asserts what the user saw (the messages'
final text and footer) and what the store holds."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from fakes.anthropic import FakeAnthropic, RecordedRequest, Reply, ToolCall

from bot.agent.fallback import MODEL_UNAVAILABLE_NOTE
from bot.agent.loop import CUT_NOTE, INTERRUPTED_NOTICE, REFUSAL_TEXT
from bot.runtime import App
from bot.streaming.reply import DEFAULT_MARKER, DEFAULT_PLACEHOLDER
from bot.types import ThreadRef
from tests.e2e.rig import (
    MakeApp,
    PlatformStream,
    Seen,
    ask,
    result_text,
    tool_results,
    who,
)
from tests.recording_stream import FakeClock

C1001 = who("customer:C-1001")
TRACKING = "1Z999AA10123456784"
WHERE = "Where is my order ORD-10001?"


def settled(seen: Seen) -> None:
    """The reply is settled: no placeholder, no in-progress marker, no contract breach of the stream."""
    assert seen.handled.status == "answered"
    assert seen.stream.texts(), "nothing was posted"
    for text in seen.stream.texts():
        assert DEFAULT_PLACEHOLDER not in text
        assert not text.endswith(DEFAULT_MARKER)
    assert seen.stream.problems == []


async def stored_turns(app: App, ref: ThreadRef) -> list[tuple[str, str]]:
    return [(turn.role, turn.text) for turn in await app.store.load_turns(ref)]


def since() -> datetime:
    return datetime.now(UTC) - timedelta(hours=1)


# ---- plain streaming ------------------------------------------------------------------------------------


async def test_plain_answer_streams_by_editing_and_is_stored_with_usage(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    answer = (
        "Our standard shipping takes 3 to 5 business days within the US. Express arrives in 1 to 2 "
        "business days, and every parcel gets a tracking number by email."
    )
    fake_anthropic.script(Reply.text(answer, chunk=9, delay=0.01, input_tokens=1200, output_tokens=40))

    seen = await ask(app, C1001, "How long does shipping take?", ref=thread)

    settled(seen)
    assert seen.stream.texts() == [answer]
    assert seen.intermediate_edits >= 2  # the answer grew in place before its final edit
    assert seen.stream.calls[0].kind == "post" and seen.stream.calls[0].text == DEFAULT_PLACEHOLDER
    assert seen.handled.outcome is not None and not seen.handled.outcome.failed

    assert await stored_turns(app, thread) == [
        ("user", "How long does shipping take?"),
        ("assistant", answer),
    ]
    [usage] = await app.store.usage_since(since())
    assert (usage.input_tokens, usage.output_tokens) == (1200, 40)
    assert usage.model == app.settings.answer_model
    # claude-sonnet: 3 $/M input, 15 $/M output (config/bot.toml)
    assert usage.cost_usd == pytest.approx((1200 * 3.0 + 40 * 15.0) / 1_000_000)

    [request] = fake_anthropic.message_requests
    body = request.body
    assert body["stream"] is True
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert body["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert body["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert _breakpoints(body) <= 4
    assert fake_anthropic.validation_errors == []


def _breakpoints(value: object) -> int:
    if isinstance(value, dict):
        return ("cache_control" in value) + sum(_breakpoints(v) for v in value.values())
    if isinstance(value, list):
        return sum(_breakpoints(v) for v in value)
    return 0


# ---- tools ----------------------------------------------------------------------------------------------


async def test_tool_call_split_mid_string_is_run_and_the_exchange_is_kept_for_follow_ups(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    final = f"Your order ORD-10001 has shipped with UPS; the tracking number is {TRACKING}."
    tool_use = ToolCall("lookup_order", {"order_id": "ORD-10001"})
    lookup = Reply.tool_use(tool_use, text="Let me check.", json_chunk=5)
    fake_anthropic.script(lookup, Reply.text(final))

    seen = await ask(app, C1001, WHERE, ref=thread)

    settled(seen)
    assert seen.stream.texts() == ["Let me check.\n\n" + final]
    _, second = fake_anthropic.message_requests
    pieces = [
        data["delta"]["partial_json"]
        for name, data in lookup.sse_events(model="m")
        if name == "content_block_delta" and data["delta"]["type"] == "input_json_delta"
    ]
    assert not any("ORD-10001" in piece for piece in pieces)  # the id really arrived in pieces
    [result] = tool_results(second.messages)
    assert result["tool_use_id"] == tool_use.id and not result.get("is_error")
    assert TRACKING in result_text(result) and "shipped" in result_text(result)
    assert second.messages[-2]["content"][-1] == {
        "type": "tool_use",
        "id": tool_use.id,
        "name": "lookup_order",
        "input": {"order_id": "ORD-10001"},
    }

    [audit] = await app.store.tool_calls()
    assert (audit.tool, audit.allowed, audit.outcome) == ("lookup_order", True, "ok")
    assert audit.principal == "customer:C-1001"

    turns = await app.store.load_turns(thread)
    assert [t.role for t in turns] == ["user", "assistant"]
    kinds = [[block["type"] for block in m["content"]] for m in turns[1].exchange]
    assert kinds == [["text", "tool_use"], ["tool_result"], ["text"]]

    # A follow-up in the same thread sends the whole tool exchange back (the fake validates the pairing).
    fake_anthropic.script(Reply.text("It should arrive by November 24."))
    follow = await ask(app, C1001, "When will it arrive?", ref=thread)
    settled(follow)
    assert follow.text == "It should arrive by November 24."
    third = fake_anthropic.message_requests[2]
    sent = [[block["type"] for block in m["content"]] for m in third.messages]
    assert sent == [["text"], ["text", "tool_use"], ["tool_result"], ["text"], ["text"]]
    assert TRACKING in result_text(third.messages[2]["content"][0])
    assert "When will it arrive?" in third.messages[-1]["content"][0]["text"]
    assert fake_anthropic.validation_errors == []


async def test_two_tool_calls_in_one_turn_come_back_in_one_message_with_search_results(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    fake_anthropic.script(
        Reply.tool_use(
            ("lookup_order", {"order_id": "ORD-10001"}), ("search_kb", {"query": "return policy"})
        ),
        Reply.text("Your tent shipped, and you can return it within 30 days."),
    )

    seen = await ask(app, C1001, "Can I return the tent from ORD-10001?", ref=thread)

    settled(seen)
    assert seen.text == "Your tent shipped, and you can return it within 30 days."
    second = fake_anthropic.message_requests[1]
    order, search = tool_results(second.messages)
    uses = [b for b in second.messages[-2]["content"] if b["type"] == "tool_use"]
    assert [order["tool_use_id"], search["tool_use_id"]] == [u["id"] for u in uses]
    assert TRACKING in result_text(order)
    hits = search["content"]
    assert hits and {hit["type"] for hit in hits} == {"search_result"}
    assert all(hit["citations"] == {"enabled": True} for hit in hits)
    assert seen.sources, "the footer lists the articles the answer was based on"
    assert [s.url for s in seen.sources] == [hit["source"] for hit in hits][: len(seen.sources)]
    assert any("return" in s.title.lower() for s in seen.sources)
    audits = {a.tool: a.outcome for a in await app.store.tool_calls()}
    assert audits == {"lookup_order": "ok", "search_kb": "ok"}


async def test_bad_tool_input_is_a_tool_error_the_model_sees(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    fake_anthropic.script(
        Reply.tool_use(("lookup_order", {"order_id": 5})),
        Reply.text("Sorry, I could not look that order up. Could you send the full order id?"),
    )

    seen = await ask(app, C1001, "Where is order 5?", ref=thread)

    settled(seen)
    assert seen.text == "Sorry, I could not look that order up. Could you send the full order id?"
    [result] = tool_results(fake_anthropic.message_requests[1].messages)
    assert result["is_error"] is True
    assert "Invalid input for lookup_order" in result_text(result) and "order_id" in result_text(result)
    [audit] = await app.store.tool_calls()
    assert audit.outcome == "invalid_input"


# ---- model errors ---------------------------------------------------------------------------------------


async def test_429_is_retried_by_the_sdk_and_the_answer_shown(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    fake_anthropic.script(Reply.status(429, retry_after=0), Reply.text("Recovered after a rate limit."))

    seen = await ask(app, C1001, "Hello?", ref=thread)

    settled(seen)
    assert seen.text == "Recovered after a rate limit."
    assert [r.status for r in fake_anthropic.message_requests] == [429, 200]


async def test_529_on_every_try_falls_back_to_the_tools(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    # MODEL_MAX_RETRIES=1: the first try and one retry.
    fake_anthropic.script(Reply.status(529, retry_after=0), Reply.status(529, retry_after=0))

    seen = await ask(app, C1001, WHERE, ref=thread)

    settled(seen)
    assert len(fake_anthropic.message_requests) == 2 and fake_anthropic.pending == 0
    assert MODEL_UNAVAILABLE_NOTE in seen.text
    assert "Order ORD-10001: shipped" in seen.text and TRACKING in seen.text
    assert seen.handled.outcome is not None and not seen.handled.outcome.failed
    assert (await stored_turns(app, thread))[-1] == ("assistant", seen.text)


async def test_a_cut_stream_keeps_the_partial_text_with_a_notice(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    text = "Your parcel left our warehouse on Monday and is now with the carrier for delivery."
    # message_start, content_block_start, ping, then three deltas of 10 characters; cut inside the fourth
    fake_anthropic.script(Reply.cut(after_events=6, reply=Reply.text(text, chunk=10)))

    seen = await ask(app, C1001, "Where is my parcel?", ref=thread)

    settled(seen)
    assert seen.text == text[:30] + "\n\n_" + INTERRUPTED_NOTICE + "_"
    assert seen.handled.outcome is not None and seen.handled.outcome.failed
    assert (await stored_turns(app, thread))[-1] == ("assistant", seen.text)


async def test_an_error_event_mid_stream_keeps_the_partial_text_with_a_notice(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    text = "Refunds go back to the original payment method within five business days."
    fake_anthropic.script(
        Reply.error_event("overloaded_error", after_events=5, reply=Reply.text(text, chunk=12))
    )

    seen = await ask(app, C1001, "How long do refunds take?", ref=thread)

    settled(seen)
    assert seen.text == text[:24] + "\n\n_" + INTERRUPTED_NOTICE + "_"
    assert (await stored_turns(app, thread))[-1] == ("assistant", seen.text)


# ---- stop reasons ---------------------------------------------------------------------------------------


async def test_max_tokens_shows_the_text_and_says_it_was_cut(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    fake_anthropic.script(Reply.text("Here are the steps: first, open", stop_reason="max_tokens"))

    seen = await ask(app, C1001, "How do I return a jacket?", ref=thread)

    settled(seen)
    assert seen.text == "Here are the steps: first, open\n\n_" + CUT_NOTE + "_"


async def test_a_refusal_replaces_what_was_streamed(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    fake_anthropic.script(
        Reply.text("Sure, to get into a locked account you", stop_reason="refusal", delay=0.01)
    )

    seen = await ask(app, C1001, "Help me get into my ex's account.", ref=thread)

    settled(seen)
    assert any("get into a lock" in text for text in seen.every_text_sent)  # it was streamed ...
    assert seen.text == REFUSAL_TEXT  # ... and replaced by the polite refusal
    assert (await stored_turns(app, thread))[-1] == ("assistant", REFUSAL_TEXT)


async def test_pause_turn_continues_and_the_answer_is_both_parts(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    fake_anthropic.script(
        Reply.text("Part one of the answer.", stop_reason="pause_turn"), Reply.text("Part two of it.")
    )

    seen = await ask(app, C1001, "Tell me everything.", ref=thread)

    settled(seen)
    assert re.fullmatch(r"Part one of the answer\.\s*Part two of it\.", seen.text), seen.text
    second = fake_anthropic.message_requests[1]
    assert second.messages[-1]["role"] == "assistant"  # the paused turn is sent back to be continued
    assert second.messages[-1]["content"][0]["text"] == "Part one of the answer."


async def test_round_limit_forces_an_answer_without_tools(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    def stubborn(request: RecordedRequest) -> Reply:
        if (request.body.get("tool_choice") or {}).get("type") == "none":
            return Reply.text("I could not find more than this.")
        return Reply.tool_use(("search_kb", {"query": "returns"}))

    fake_anthropic.responder = stubborn
    rounds = app.config.agent.max_tool_rounds

    seen = await ask(app, C1001, "Search forever.", ref=thread)

    settled(seen)
    assert seen.text == "I could not find more than this."
    requests = fake_anthropic.message_requests
    assert len(requests) == rounds + 1
    assert all("tool_choice" not in r.body for r in requests[:-1])
    assert requests[-1].body["tool_choice"] == {"type": "none"}
    assert len(await app.store.tool_calls()) == rounds


# ---- keys -----------------------------------------------------------------------------------------------


async def test_a_wrong_key_is_an_operator_error_and_the_fallback_answers(
    make_app: MakeApp, thread: ThreadRef, caplog: pytest.LogCaptureFixture
) -> None:
    wrong_key = "sk-ant-wrong-1f2e3d4c5b6a"
    caplog.set_level(logging.DEBUG)
    async with FakeAnthropic(api_key="right") as fake:
        app = await make_app(anthropic_base_url=fake.base_url, anthropic_api_key=wrong_key)
        seen = await ask(app, C1001, WHERE, ref=thread)

    settled(seen)
    assert [r.status for r in fake.message_requests] == [401]  # not retried
    assert MODEL_UNAVAILABLE_NOTE in seen.text and TRACKING in seen.text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("ANTHROPIC_API_KEY" in r.getMessage() for r in errors), caplog.text
    assert wrong_key not in caplog.text
    assert not any(wrong_key in text for text in seen.every_text_sent)


# ---- one reply per thread, dedup ------------------------------------------------------------------------


async def test_a_second_message_waits_for_the_first_answer_and_sees_it(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    first_answer = "Standard shipping takes 3 to 5 business days."
    replies = [
        Reply.text(first_answer, chunk=4, delay=0.02),
        Reply.text("Express takes 1 to 2 days.", chunk=4),
    ]
    writing = asyncio.Event()

    def model(request: RecordedRequest) -> Reply:
        writing.set()
        return replies.pop(0)

    fake_anthropic.responder = model
    journal: list[tuple[str, str, str]] = []
    clock = FakeClock()

    first = asyncio.create_task(
        ask(
            app,
            C1001,
            "How long is shipping?",
            ref=thread,
            stream=PlatformStream(clock, journal=journal, name="A"),
        )
    )
    await writing.wait()  # the first answer is being written when the second message comes
    second = await ask(
        app, C1001, "And express?", ref=thread, stream=PlatformStream(clock, journal=journal, name="B")
    )
    first_seen = await first

    settled(first_seen)
    settled(second)
    assert first_seen.text == first_answer and second.text == "Express takes 1 to 2 days."
    one, two = fake_anthropic.message_requests
    assert "And express?" not in str(one.messages)
    assert [m["role"] for m in two.messages] == ["user", "assistant", "user"]
    assert two.messages[1]["content"][0]["text"] == first_answer
    assert "And express?" in two.messages[2]["content"][0]["text"]
    # Never interleaved: every call of reply B comes after the last call of reply A.
    names = [name for name, _, _ in journal]
    assert names == sorted(names), names
    assert [t for _, t in await stored_turns(app, thread)] == [
        "How long is shipping?",
        first_answer,
        "And express?",
        "Express takes 1 to 2 days.",
    ]


async def test_a_duplicate_event_is_answered_once(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    fake_anthropic.script(Reply.text("Hello! How can I help?"))

    once = await ask(app, C1001, "Hi", ref=thread, event_id="Ev-1")
    again = await ask(app, C1001, "Hi", ref=thread, event_id="Ev-1")

    settled(once)
    assert once.text == "Hello! How can I help?"
    assert again.handled.status == "duplicate" and again.stream.calls == []
    assert len(fake_anthropic.message_requests) == 1
    assert len(await app.store.load_turns(thread)) == 2


async def test_pause_turn_then_a_tool_call_is_a_valid_conversation(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    fake_anthropic.script(
        Reply.text("Let me look into it.", stop_reason="pause_turn"),
        Reply.tool_use(("lookup_order", {"order_id": "ORD-10001"})),
        Reply.text(f"It shipped; tracking {TRACKING}."),
    )
    fake_anthropic.strict = False  # asserted below, with the request that broke

    seen = await ask(app, C1001, WHERE, ref=thread)

    assert fake_anthropic.validation_errors == []
    settled(seen)
    assert seen.text.endswith(f"It shipped; tracking {TRACKING}.")


async def test_an_answer_cut_inside_a_tool_call_does_not_break_the_thread(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    fake_anthropic.script(
        Reply.tool_use(("lookup_order", {"order_id": "ORD-10001"})),
        Reply.tool_use(
            ("search_kb", {"query": "delivery times"}),
            text="It shipped. Let me also",
            stop_reason="max_tokens",
        ),
        Reply.text("It should arrive by November 24."),
    )
    fake_anthropic.strict = False  # asserted below, with the request that broke

    seen = await ask(app, C1001, WHERE, ref=thread)
    settled(seen)
    assert seen.text.startswith("It shipped. Let me also") and CUT_NOTE in seen.text

    follow = await ask(app, C1001, "When will it arrive?", ref=thread)

    assert fake_anthropic.validation_errors == []  # the thread's history is still a valid conversation
    assert follow.text == "It should arrive by November 24."


async def test_a_context_overflow_trims_the_history_and_retries_once(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    fake_anthropic.script(Reply.text("First answer."), Reply.text("Second answer."))
    await ask(app, C1001, "First question?", ref=thread)
    await ask(app, C1001, "Second question?", ref=thread)
    fake_anthropic.script(
        Reply.status(400, message="prompt is too long: 212000 tokens > 200000 maximum"),
        Reply.text("Third answer."),
    )

    seen = await ask(app, C1001, "Third question?", ref=thread)

    settled(seen)
    assert seen.text == "Third answer."
    overflowed, retried = fake_anthropic.message_requests[2:]
    assert len(overflowed.messages) == 5
    assert len(retried.messages) < len(overflowed.messages)
    assert "Third question?" in retried.messages[-1]["content"][-1]["text"]


async def test_an_escalation_makes_the_bot_step_back_in_the_thread(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    fake_anthropic.script(
        Reply.tool_use(("escalate_to_human", {"summary": "Wants a refund exception for ORD-10001"})),
        Reply.text("I have asked a support lead to help; they will reply here."),
    )

    seen = await ask(app, C1001, "I want a refund exception, get me a human.", ref=thread)
    later = await ask(app, C1001, "Hello? Anyone?", ref=thread)

    settled(seen)
    assert seen.text == "I have asked a support lead to help; they will reply here."
    [escalation] = await app.store.open_escalations()
    assert escalation.ref == thread and "refund exception" in escalation.summary
    assert later.handled.status == "stepped_back" and later.stream.calls == []
    assert len(fake_anthropic.message_requests) == 2  # the model was not asked again
    assert (await stored_turns(app, thread))[-1] == ("user", "Hello? Anyone?")
