"""Limits and context control end to end: the real app from `build_app`, the real `anthropic` SDK against
the fake Messages API (with its prompt-cache model), replies rendered on a recording platform stream.

Limits (config/bot.toml [limits]) answer with a notice and never ask the model; a long thread is answered
from a stored summary and its newest turns, and the summary is reused on the next turn."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fakes.anthropic import FakeAnthropic, Reply

from bot.agent.messages import SUMMARY_PREFIX
from bot.runtime import App
from bot.store import UsageRecord
from bot.types import ThreadRef, Turn
from tests.e2e.rig import ask, new_thread, who

C1001 = who("customer:C-1001")
LEAD = who("lead")
SUMMARY = "Customer C-1001 asked about orders ORD-10001 and ORD-10002; both shipped with UPS."


def since() -> datetime:
    return datetime.now(UTC) - timedelta(hours=1)


async def limited_replies(app: App) -> dict[str, str | None]:
    return {r.reply_id: r.limited for r in await app.store.replies_since(since())}


# ---- limits ---------------------------------------------------------------------------------------------


async def test_an_oversized_message_gets_a_polite_reply_and_no_model_request(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    text = "My order has a problem. " * 200  # 4,800 characters; the limit is 4,000

    seen = await ask(app, C1001, text, ref=thread)

    assert seen.handled.status == "limited" and seen.handled.limited == "size"
    assert seen.stream.texts() == [seen.text]  # one message, posted once, no placeholder
    assert [call.kind for call in seen.stream.calls] == ["post"]
    assert "4,800 characters" in seen.text and "up to 4,000" in seen.text and "shorten" in seen.text
    assert fake_anthropic.message_requests == []
    turns = await app.store.load_turns(thread)
    assert [(t.role, t.text) for t in turns] == [("user", text), ("assistant", seen.text)]
    assert (await limited_replies(app))[seen.handled.reply_id or ""] == "size"

    # The next, shorter message is answered, and the model never sees the oversized one in full.
    fake_anthropic.script(Reply.text("Let me help with that."))
    follow = await ask(app, C1001, "Order ORD-10001 arrived broken.", ref=thread)
    assert follow.handled.status == "answered"
    [request] = fake_anthropic.message_requests
    sent = str(request.messages)
    assert "[cut: over the message size limit]" in sent and sent.count("My order has a problem.") < 170


async def test_the_eleventh_message_in_a_minute_is_asked_to_wait(
    app: App, fake_anthropic: FakeAnthropic
) -> None:
    for n in range(10):
        fake_anthropic.script(Reply.text(f"Answer {n}."))
        seen = await ask(app, C1001, f"Question {n}?", ref=new_thread())
        assert seen.handled.status == "answered"

    thread = new_thread()
    seen = await ask(app, C1001, "Question 11?", ref=thread)

    assert seen.handled.status == "limited" and seen.handled.limited == "rate"
    match = re.search(r"try again in (\d+) seconds?\.", seen.text)
    assert match is not None and 1 <= int(match.group(1)) <= 60, seen.text
    assert "up to 10 a minute" in seen.text
    assert len(fake_anthropic.message_requests) == 10
    assert [t.role for t in await app.store.load_turns(thread)] == ["user", "assistant"]
    assert list((await limited_replies(app)).values()).count("rate") == 1

    # Someone else is not held back by it.
    fake_anthropic.script(Reply.text("Hello."))
    other = await ask(app, who("customer:C-1002"), "Hi?", ref=new_thread())
    assert other.handled.status == "answered"


async def test_a_space_over_its_daily_token_budget_is_told_when_it_resets(
    app: App, fake_anthropic: FakeAnthropic
) -> None:
    full = new_thread()
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    await app.store.record_usage(
        UsageRecord(full, "old", "claude-sonnet-5-5", 900_000, 50_000, 1_000_000, 60_000, 9.0, midnight)
    )
    assert app.config.limits.daily_tokens_per_space == 2_000_000

    seen = await ask(app, C1001, "Where is ORD-10001?", ref=full)

    assert seen.handled.status == "limited" and seen.handled.limited == "budget"
    assert "used its AI answers for today" in seen.text
    assert re.search(r"resets at 00:00 UTC, in (\d+ h )?\d+ min", seen.text), seen.text
    assert fake_anthropic.message_requests == []

    # Another space has its own budget; yesterday's usage does not count.
    other_space = ThreadRef("e2e", "space-2", "channel-1", "t-1")
    await app.store.record_usage(
        UsageRecord(
            other_space, "old", "claude-sonnet-5-5", 3_000_000, 0, 0, 0, 9.0, midnight - timedelta(seconds=1)
        )
    )
    fake_anthropic.script(Reply.text("It has shipped."))
    answered = await ask(app, C1001, "Where is ORD-10001?", ref=other_space)
    assert answered.handled.status == "answered"


async def test_a_lead_is_exempt_from_the_rate_and_the_daily_budget(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    await app.store.record_usage(
        UsageRecord(thread, "old", "claude-sonnet-5-5", 5_000_000, 0, 0, 0, 15.0, datetime.now(UTC))
    )
    for n in range(12):
        fake_anthropic.script(Reply.text(f"Answer {n}."))
        seen = await ask(app, LEAD, f"Question {n}?", ref=new_thread())
        assert seen.handled.status == "answered", seen.text
    # Still, a lead's oversized message is not sent to the model.
    seen = await ask(app, LEAD, "x" * 4001, ref=thread)
    assert seen.handled.limited == "size"
    assert len(fake_anthropic.message_requests) == 12


# ---- context: a long thread is summarised once --------------------------------------------------------


async def seed_thread(app: App, ref: ThreadRef, pairs: int) -> list[Turn]:
    start = datetime.now(UTC) - timedelta(days=1)
    turns: list[Turn] = []
    for n in range(pairs):
        at = start + timedelta(minutes=2 * n)
        turns.append(Turn("user", "Customer C-1001", f"Old question {n} about ORD-1000{n % 3}?", f"u{n}", at))
        turns.append(
            Turn("assistant", "bot", f"Old answer {n}: it shipped.", f"b{n}", at + timedelta(minutes=1))
        )
    for turn in turns:
        await app.store.append_turn(ref, turn)
    return turns


async def test_a_long_thread_is_answered_from_one_summary_and_its_newest_turns_and_the_summary_is_reused(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    await seed_thread(app, thread, 40)  # 80 turns
    fake_anthropic.script(Reply.text(SUMMARY), Reply.text("ORD-10002 is on its way."))

    first = await ask(app, C1001, "And where is ORD-10002 now?", ref=thread)

    assert first.handled.status == "answered" and first.text == "ORD-10002 is on its way."
    summary_request, answer_request = fake_anthropic.message_requests
    # One summary request to the summary model, not streamed, with the older turns in it.
    assert summary_request.model == app.settings.summary_model and not summary_request.stream
    assert summary_request.body["max_tokens"] == app.settings.summary_max_tokens
    folded = summary_request.messages[0]["content"][0]["text"]
    # (the newest 80 turns are read: 4 x history_turns; the very first question is older than that)
    assert "Old question 1 about" in folded and "Old answer 30:" in folded
    assert "Old question 39" not in folded and "And where is ORD-10002" not in folded
    # The answer: the summary first, as a user message with a cache breakpoint, then only the newest turns.
    assert answer_request.model == app.settings.answer_model and answer_request.stream
    lead_block = answer_request.messages[0]["content"][0]
    assert lead_block["text"] == SUMMARY_PREFIX + SUMMARY
    assert lead_block["cache_control"] == {"type": "ephemeral"}
    sent = str(answer_request.messages)
    assert "Old question 36" in sent and "Old answer 35" not in sent and "Old answer 30" not in sent
    assert len(answer_request.messages) <= app.config.agent.history_turns // 2 + 1
    assert sent.count("cache_control") + 2 <= 4  # with the system prompt's and the tools': at most 4
    stored = await app.store.load_summary(thread)
    assert stored is not None and stored.text == SUMMARY and stored.covers_until_message_id == "b35"

    # The summary's usage is recorded at the summary model's price, with the answer's reply id.
    rows = await app.store.usage_since(since())
    by_model = {row.model: row for row in rows}
    assert set(by_model) == {app.settings.summary_model, app.settings.answer_model}
    summary_usage = by_model[app.settings.summary_model]
    assert summary_usage.reply_id == first.handled.reply_id and summary_usage.ref == thread
    price = app.config.price(app.settings.summary_model)
    assert price is not None and summary_usage.input_tokens > 0
    expected = (summary_usage.input_tokens * price.input + summary_usage.output_tokens * price.output) / 1e6
    assert abs(summary_usage.cost_usd - expected) < 1e-9

    # The next turn reuses the stored summary: no second summary request; the prefix is read from the cache.
    fake_anthropic.script(Reply.text("You're welcome."))
    second = await ask(app, C1001, "Thanks!", ref=thread)
    assert second.handled.status == "answered"
    assert len(fake_anthropic.message_requests) == 3
    follow_up = fake_anthropic.message_requests[2]
    assert follow_up.model == app.settings.answer_model
    assert follow_up.messages[0]["content"][0]["text"] == SUMMARY_PREFIX + SUMMARY
    assert follow_up.messages[: len(answer_request.messages) - 1] == answer_request.messages[:-1]
    [second_usage] = [
        row for row in await app.store.usage_since(since()) if row.reply_id == second.handled.reply_id
    ]
    assert second_usage.cache_read_tokens > 0
    assert second_usage.cache_read_tokens > 5 * (second_usage.input_tokens + second_usage.cache_write_tokens)


async def test_a_failed_summary_still_gets_an_answer_from_the_newest_turns(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    await seed_thread(app, thread, 40)
    fake_anthropic.script(Reply.status(400, message="bad summary request"), Reply.text("It is on its way."))

    seen = await ask(app, C1001, "Where is ORD-10002?", ref=thread)

    assert seen.handled.status == "answered" and seen.text == "It is on its way."
    answer = fake_anthropic.message_requests[-1]
    assert not answer.messages[0]["content"][0]["text"].startswith(SUMMARY_PREFIX)
    assert "Old answer 35" not in str(answer.messages)
    assert await app.store.load_summary(thread) is None


async def test_prompt_caching_serves_most_of_a_follow_up_from_the_cache(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    fake_anthropic.script(
        Reply.text("Standard shipping takes 3 to 5 business days. " * 5),
        Reply.text("Express takes 1 to 2 business days. " * 5),
        Reply.text("Yes, to Canada too. " * 5),
    )
    # The system prompt and tools are under the 1,024 tokens a prefix needs to be cached; with a detailed
    # first question the whole prompt is over it.
    detailed = "I ordered a tent and two sleeping bags for a trip that starts in nine days. " * 10
    for question in (detailed + "How long does shipping take?", "And express?", "Do you ship to Canada?"):
        await ask(app, C1001, question, ref=thread)

    rows = sorted(await app.store.usage_since(since()), key=lambda row: row.at)
    assert len(rows) == 3
    first, *later = rows
    assert first.cache_read_tokens == 0 and first.cache_write_tokens > 0
    for row in later:
        total = row.input_tokens + row.cache_read_tokens + row.cache_write_tokens
        assert row.cache_read_tokens / total > 0.8
