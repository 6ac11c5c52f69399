"""The history kept to a token budget: which turns go word for word, which are folded into the summary,
and when the stored summary is reused (bot.agent.context)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.agent.context import (
    ContextBudget,
    ContextBuilder,
    Summarizer,
    after_summary,
    estimate_tokens,
    estimate_total,
    plan_context,
    transcript,
)
from bot.agent.llm import ModelRequest, ModelTurn, ModelUnavailable, TextChunk, TokenUsage
from bot.agent.messages import SUMMARY_PREFIX, turns_to_messages, with_cache_breakpoint
from bot.config import BotConfig, ModelPrice
from bot.store import ThreadSummary
from bot.store.sqlite import MEMORY, SQLiteStore
from bot.types import ThreadRef, Turn

T0 = datetime(2026, 1, 1, tzinfo=UTC)
REF = ThreadRef("test", "S1", "C1", "T1")
LOOKUP = (
    {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "lookup_order", "input": {}}]},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "shipped " * 200}]},
    {"role": "assistant", "content": [{"type": "text", "text": "It shipped."}]},
)


def thread(pairs: int, *, words: int = 10) -> list[Turn]:
    """``pairs`` question/answer pairs, a minute apart."""
    turns: list[Turn] = []
    for n in range(pairs):
        at = T0 + timedelta(minutes=2 * n)
        turns.append(Turn("user", "Ada", f"question {n} " + "word " * words, f"u{n}", at))
        turns.append(
            Turn("assistant", "bot", f"answer {n} " + "word " * words, f"b{n}", at + timedelta(minutes=1))
        )
    return turns


def asked(pairs: int) -> list[Turn]:
    """``pairs`` question/answer pairs and a new question, as when the bot is about to answer."""
    return thread(pairs + 1)[:-1]


def summary_of(turn: Turn, text: str = "earlier") -> ThreadSummary:
    return ThreadSummary(text, turn.message_id, turn.sent_at, T0)


# ---- estimate and plan ----------------------------------------------------------------------------------


def test_tokens_are_estimated_from_characters_and_a_tool_exchange_from_its_json() -> None:
    plain = Turn("user", "Ada", "x" * 400, "m", T0)
    assert estimate_tokens(plain) == (400 + 3 + 2) // 4 + 4
    with_tools = Turn("assistant", "bot", "It shipped.", "b", T0, LOOKUP)
    assert estimate_tokens(with_tools) > 400  # the tool result counts, not only the visible text


def test_a_thread_within_the_budget_goes_word_for_word() -> None:
    turns = thread(5)
    plan = plan_context(turns, None, ContextBudget(tokens=4000, turns=20))
    assert plan.recent == turns and plan.fold == []


def test_over_the_turn_budget_the_older_turns_are_folded_and_half_the_budget_is_kept() -> None:
    turns = thread(15)  # 30 turns
    plan = plan_context(turns, None, ContextBudget(tokens=100_000, turns=20))
    assert len(plan.recent) == 10 and plan.recent == turns[-10:]
    assert plan.fold == turns[:-10]
    assert plan.recent[0].role == "user"


def test_over_the_token_budget_the_newest_turns_that_fit_half_of_it_are_kept() -> None:
    turns = thread(20, words=40)  # each turn about 55 tokens
    budget = ContextBudget(tokens=1000, turns=100)
    plan = plan_context(turns, None, budget)
    assert estimate_total(plan.recent) <= budget.tokens // 2
    assert plan.fold + plan.recent == turns
    assert plan.recent[0].role == "user"  # it starts with a question, never with a lone answer


def test_a_tool_exchange_is_never_split_and_the_newest_turn_is_always_kept() -> None:
    big = Turn("assistant", "bot", "It shipped.", "b-big", T0 + timedelta(hours=1), LOOKUP)
    question = Turn("user", "Ada", "and now? " * 300, "u-last", T0 + timedelta(hours=2))
    turns = [*thread(3), big, question]
    plan = plan_context(turns, None, ContextBudget(tokens=500, turns=20))
    assert plan.recent == [question]  # alone over the budget, still sent
    assert plan.fold[-1] is big and plan.fold[-1].exchange == LOOKUP


def test_the_turns_after_the_summary_are_found_by_message_id_or_else_by_time() -> None:
    turns = thread(4)
    assert after_summary(turns, summary_of(turns[3])) == turns[4:]
    moved = ThreadSummary("s", "gone-from-the-platform", turns[3].sent_at, T0)
    assert after_summary(turns, moved) == turns[4:]
    assert after_summary(turns, None) == turns


def test_with_a_summary_only_the_turns_after_it_count_against_the_budget() -> None:
    turns = thread(15)  # 30 turns
    stored = summary_of(turns[13])  # covers 14 turns; 16 after it
    plan = plan_context(turns, stored, ContextBudget(tokens=100_000, turns=20))
    assert plan.fold == [] and plan.recent == turns[14:]


def test_the_transcript_shows_what_the_thread_shows_and_keeps_the_newest_part() -> None:
    turns = [
        Turn("user", "Ada", "where is ORD-1?", "u", T0),
        Turn("assistant", "bot", "It shipped.", "b", T0, LOOKUP),
    ]
    text = transcript(turns, 10_000)
    assert "Ada: where is ORD-1?" in text
    assert "Support bot (after using lookup_order): It shipped." in text
    assert "shipped shipped" not in text  # a tool result never goes into a summary
    short = transcript(thread(50), 500)
    assert short.startswith("[older messages left out]") and "answer 49" in short and len(short) <= 530


# ---- the summary in the messages ------------------------------------------------------------------------


def test_the_summary_is_the_first_user_message_with_its_own_cache_breakpoint() -> None:
    turns = [Turn("assistant", "bot", "an answer", "b", T0), Turn("user", "Ada", "thanks", "u", T0)]
    messages = with_cache_breakpoint(turns_to_messages(turns, "Ada asked about ORD-1."))
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]  # the answer is kept after it
    first = messages[0]["content"][0]
    assert first["text"] == SUMMARY_PREFIX + "Ada asked about ORD-1."
    assert first["cache_control"] == {"type": "ephemeral"}
    assert messages[-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}

    merged = turns_to_messages([Turn("user", "Ada", "hi", "u", T0)], "s")
    assert [block["text"] for block in merged[0]["content"]] == [SUMMARY_PREFIX + "s", "Ada: hi"]


# ---- the builder: fold once, then reuse -----------------------------------------------------------------


class StubLLM:
    """Answers summary requests with a numbered summary; can be told to fail."""

    def __init__(self) -> None:
        self.requests: list[ModelRequest] = []
        self.fail = False

    def stream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelTurn]:
        raise AssertionError("the summarizer does not stream")

    async def complete(self, request: ModelRequest) -> ModelTurn:
        self.requests.append(request)
        if self.fail:
            raise ModelUnavailable("the model API is unavailable (overloaded)")
        text = f"summary {len(self.requests)}"
        return ModelTurn(
            [{"type": "text", "text": text}], "end_turn", TokenUsage(2000, 100), "claude-haiku-x"
        )


@pytest.fixture
async def store() -> AsyncIterator[SQLiteStore]:
    opened = await SQLiteStore.open(MEMORY)
    yield opened
    await opened.close()


def builder(store: SQLiteStore, llm: StubLLM | None, turns: int = 10) -> ContextBuilder:
    config = BotConfig(
        prices={"claude-haiku": ModelPrice(input=1.0, output=5.0, cache_read=0.1, cache_write=1.25)}
    )
    summarizer = (
        None if llm is None else Summarizer(llm, model="claude-haiku-x", max_tokens=300, config=config)
    )
    return ContextBuilder(store, ContextBudget(tokens=100_000, turns=turns), summarizer)


async def test_a_fold_is_summarised_once_stored_and_reused_until_the_turns_outgrow_the_budget(
    store: SQLiteStore,
) -> None:
    llm = StubLLM()
    context = builder(store, llm)
    turns = asked(6)  # 13 turns > 10

    summary, recent = await context.build(REF, turns, "reply-1")

    assert summary == "summary 1" and recent == turns[-5:]
    [request] = llm.requests
    assert request.model == "claude-haiku-x" and request.max_tokens == 300
    body: Any = request.messages[0]["content"][0]["text"]
    assert "question 0" in body and "answer 3" in body and "question 5" not in body
    stored = await store.load_summary(REF)
    assert stored is not None and stored.text == "summary 1"
    assert (stored.covers_until_message_id, stored.covers_until_time) == ("b3", turns[7].sent_at)
    [usage] = await store.usage_since(T0 - timedelta(days=1000))
    assert (usage.reply_id, usage.model, usage.input_tokens, usage.output_tokens) == (
        "reply-1",
        "claude-haiku-x",
        2000,
        100,
    )
    assert usage.cost_usd == pytest.approx((2000 * 1.0 + 100 * 5.0) / 1_000_000)

    # The next turns reuse the stored summary: no request, the same text, the turns after it.
    more = asked(8)  # the same thread, two more pairs: 9 turns after the summary
    summary, recent = await context.build(REF, more, "reply-2")
    assert summary == "summary 1" and recent == more[8:] and len(llm.requests) == 1

    # Once those outgrow the budget, the old summary and the older of them are folded together.
    longer = asked(10)  # 13 turns after the summary
    summary, recent = await context.build(REF, longer, "reply-3")
    assert summary == "summary 2" and recent == longer[-5:]
    second = llm.requests[1].messages[0]["content"][0]["text"]
    assert (
        "<summary>\nsummary 1\n</summary>" in second and "question 4" in second and "question 0" not in second
    )


async def test_a_failed_summary_leaves_the_older_turns_out_and_is_tried_again(store: SQLiteStore) -> None:
    llm = StubLLM()
    llm.fail = True
    context = builder(store, llm)
    turns = asked(6)
    summary, recent = await context.build(REF, turns, "reply-1")
    assert summary is None and recent == turns[-5:]
    assert await store.load_summary(REF) is None

    llm.fail = False
    summary, _ = await context.build(REF, turns, "reply-2")
    assert summary == "summary 2" and len(llm.requests) == 2


async def test_without_a_model_the_history_is_only_trimmed(store: SQLiteStore) -> None:
    turns = asked(6)
    summary, recent = await builder(store, None).build(REF, turns, "reply-1")
    assert summary is None and recent == turns[-5:]
    assert await store.load_summary(REF) is None


def test_a_history_budget_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ContextBudget(tokens=0)
    with pytest.raises(ValueError):
        ContextBudget(keep_share=1.5)
