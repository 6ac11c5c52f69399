"""StreamingReply against a RecordingStream on virtual time: what the user sees, call by call."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.agent.events import AgentEvent, Failed, TextDelta, ToolFinished, ToolStarted
from bot.streaming.budget import Budget, EditBudget
from bot.streaming.protocol import DeliveryError, Footer, MessageRef, RateLimited
from bot.streaming.reply import (
    BROKEN_NOTICE,
    DEFAULT_MARKER,
    DEFAULT_PLACEHOLDER,
    EMPTY_NOTICE,
    INTERRUPTED_NOTICE,
    RenderOutcome,
    StreamingReply,
)
from bot.types import Source
from tests.recording_stream import Call, FakeClock, RecordingStream, WindowLimit, completed, scripted

MARKER = DEFAULT_MARKER
PLACEHOLDER = DEFAULT_PLACEHOLDER
SOURCE = Source("Returns policy", "https://kb.example.com/returns")
FENCE_LINE = re.compile(r"^```", re.MULTILINE)


def _reply(
    stream: RecordingStream,
    *,
    budget: Budget | None = None,
    post_budget: Budget | None = None,
    reply_id: str = "r-1",
    **options: Any,
) -> StreamingReply:
    clock = stream.clock
    return StreamingReply(
        stream,
        budget=budget or EditBudget(100.0, 100, clock=clock),
        post_budget=post_budget or EditBudget(100.0, 100, clock=clock),
        reply_id=reply_id,
        clock=clock,
        **options,
    )


async def _render(reply: StreamingReply, events: AsyncIterator[AgentEvent]) -> RenderOutcome:
    async with asyncio.timeout(10):  # a hang is a failure; virtual time makes a passing test instant
        return await reply.render(events)


def _deltas(words: list[str], every: float) -> list[float | AgentEvent]:
    steps: list[float | AgentEvent] = []
    for word in words:
        steps += [every, TextDelta(word)]
    return steps


def _edits(stream: RecordingStream) -> list[tuple[str, float]]:
    return [(call.text, call.at) for call in stream.edits()]


def _assert_edits(stream: RecordingStream, *expected: tuple[str, float]) -> None:
    """The successful edits were exactly these texts, at these (virtual) times."""
    assert [text for text, _ in _edits(stream)] == [text for text, _ in expected]
    assert [at for _, at in _edits(stream)] == pytest.approx([at for _, at in expected])


# --- showing the answer ------------------------------------------------------------------------------------


async def test_placeholder_is_posted_at_once_and_reported_to_the_caller() -> None:
    clock = FakeClock()
    stream = RecordingStream(clock)
    reported: list[tuple[MessageRef, float, list[str]]] = []

    async def on_post(ref: MessageRef) -> None:
        reported.append((ref, clock.monotonic(), stream.texts()))

    reply = _reply(stream, on_post=on_post)
    outcome = await _render(reply, scripted(clock, 2.0, TextDelta("Hello"), 3.0, completed("Hello")))
    assert stream.calls[0] == Call("post", "m1", PLACEHOLDER, None, 0.0)
    assert reported == [("m1", 0.0, [PLACEHOLDER])]
    assert stream.texts() == ["Hello"]
    assert outcome.first_text_at == pytest.approx(2.0)
    assert outcome.refs == ("m1",)


async def test_the_first_text_does_not_wait_for_a_slow_on_post_but_render_does() -> None:
    clock = FakeClock()
    stream = RecordingStream(clock)
    recorded: list[tuple[MessageRef, float]] = []

    async def slow_store(ref: MessageRef) -> None:
        await clock.sleep(5.0)  # a busy store
        recorded.append((ref, clock.monotonic()))

    outcome = await _render(
        _reply(stream, on_post=slow_store), scripted(clock, 0.5, TextDelta("Hi"), completed("Hi"))
    )
    assert outcome.first_text_at == pytest.approx(0.5)
    assert recorded == [("m1", pytest.approx(5.0))]  # done before render returned


async def test_placeholder_comes_first_even_when_text_is_ready_at_once() -> None:
    clock = FakeClock()
    stream = RecordingStream(clock)
    await _render(_reply(stream), scripted(clock, TextDelta("Hi"), completed("Hi")))
    assert [(call.kind, call.text) for call in stream.calls] == [("post", PLACEHOLDER), ("edit", "Hi")]


async def test_first_text_is_shown_at_once_then_one_edit_per_interval() -> None:
    clock = FakeClock()
    stream = RecordingStream(clock, edit_interval=1.0)
    events = scripted(clock, 0.3, TextDelta("Hi"), 0.2, TextDelta(" there"), 5.0, completed("Hi there"))
    await _render(_reply(stream), events)
    _assert_edits(
        stream,
        ("Hi" + MARKER, 0.3),
        ("Hi there" + MARKER, 1.3),
        ("Hi there", 5.5),
    )


async def test_deltas_within_an_interval_coalesce_into_one_edit_with_the_latest_text() -> None:
    clock = FakeClock()
    stream = RecordingStream(clock)
    events = scripted(
        clock, 0.1, TextDelta("A"), *_deltas(list("BCDEFGHI"), 0.1), 4.0, completed("ABCDEFGHI")
    )
    await _render(_reply(stream), events)
    _assert_edits(
        stream,
        ("A" + MARKER, 0.1),
        ("ABCDEFGHI" + MARKER, 1.1),
        ("ABCDEFGHI", 4.9),
    )


async def test_a_long_stream_edits_a_message_at_most_once_per_interval_and_never_goes_back() -> None:
    clock = FakeClock()
    stream = RecordingStream(clock, edit_interval=1.0, latency=0.05)
    words = [f"w{i} " for i in range(120)]
    answer = "".join(words)
    await _render(_reply(stream), scripted(clock, *_deltas(words, 0.05), completed(answer)))
    edits = _edits(stream)
    assert len(edits) >= 6
    assert all(later - earlier >= 1.0 - 1e-9 for (_, earlier), (_, later) in itertools.pairwise(edits))
    shown = [text.removesuffix(MARKER) for text, _ in edits]
    assert all(answer.startswith(text) for text in shown)
    assert shown == sorted(shown, key=len) and len(set(shown)) == len(shown)
    assert stream.texts() == [answer]
    assert stream.problems == []


async def test_final_text_is_the_answer_exactly_without_marker_and_with_the_footer() -> None:
    clock = FakeClock()
    stream = RecordingStream(clock)
    answer = "**Order ORD-10001** shipped on 3 May.\n\nSee [returns](https://kb.example.com/returns)."
    words = re.findall(r"\S+\s*", answer)
    outcome = await _render(_reply(stream), scripted(clock, *_deltas(words, 0.4), completed(answer, SOURCE)))
    assert stream.texts() == [answer]
    assert stream.footers() == [Footer("r-1", (SOURCE,))]
    assert outcome.text == answer and not outcome.failed and outcome.delivered
    assert outcome.edits == len(stream.edits())
    assert outcome.posts == 1


async def test_a_note_is_added_as_a_last_italic_line() -> None:
    clock = FakeClock()
    stream = RecordingStream(clock)
    answer = "The first steps are:\n1. Open settings"
    await _render(
        _reply(stream),
        scripted(clock, TextDelta(answer), 1.0, completed(answer, note="The answer was cut short.")),
    )
    assert stream.texts() == [answer + "\n\n_The answer was cut short._"]


async def test_a_tool_status_replaces_the_placeholder_until_text_comes() -> None:
    clock = FakeClock()
    stream = RecordingStream(clock)
    events = scripted(
        clock,
        0.1,
        ToolStarted("tu-1", "lookup_order"),
        0.2,
        ToolFinished("tu-1", "lookup_order", ok=True),
        0.2,
        TextDelta("Found it."),
        ToolStarted("tu-2", "search_kb"),  # text is there: no status any more
        3.0,
        completed("Found it."),
    )
    await _render(_reply(stream), events)
    _assert_edits(
        stream,
        ("_Using lookup order…_", 0.1),
        ("Found it." + MARKER, 0.5),  # the first text does not wait for the interval
        ("Found it.", 3.5),
    )


async def test_an_answer_without_text_says_so() -> None:
    clock = FakeClock()
    stream = RecordingStream(clock)
    outcome = await _render(_reply(stream), scripted(clock, 1.0, completed("")))
    assert stream.texts() == [EMPTY_NOTICE]
    assert not outcome.failed
    assert outcome.first_text_at is None


# --- long answers ---------------------------------------------------------------------------------------


async def test_a_long_answer_with_code_continues_in_new_messages_with_fences_closed_and_reopened() -> None:
    clock = FakeClock()
    stream = RecordingStream(clock, max_chars=200)
    code = "".join(f"    result_{i} = fix_order({i})\n" for i in range(20))
    answer = (
        "Here is the script you asked for:\n\n```python\ndef main():\n"
        + code
        + "```\n\nRun it with `python fix.py`."
    )
    pieces = [answer[i : i + 7] for i in range(0, len(answer), 7)]
    outcome = await _render(
        _reply(stream), scripted(clock, *_deltas(pieces, 0.05), completed(answer, SOURCE))
    )

    texts = stream.texts()
    assert len(texts) >= 4
    assert stream.problems == []  # every text within 200 characters, one call at a time
    assert not any(MARKER in text for text in texts)
    assert stream.footers() == [None] * (len(texts) - 1) + [Footer("r-1", (SOURCE,))]
    assert all(len(FENCE_LINE.findall(text)) % 2 == 0 for text in texts)
    assert sum(text.startswith("```python\n") for text in texts[1:]) >= 2

    def content(text: str) -> list[str]:
        return [line for line in text.split("\n") if line and not line.startswith("```")]

    assert content("".join(texts)) == content(answer)
    assert outcome.refs == tuple(f"m{i}" for i in range(1, len(texts) + 1))
    # A message is settled before the next one is posted.
    for index in range(1, len(texts)):
        post_at = stream.calls.index(
            next(c for c in stream.calls if c.kind == "post" and c.ref == f"m{index + 1}")
        )
        settled_at = max(i for i, c in enumerate(stream.calls) if c.ref == f"m{index}" and c.error is None)
        assert settled_at < post_at


async def test_every_interim_edit_of_an_answer_with_code_shows_its_code_block_closed() -> None:
    """A reader watching the answer grow sees code as code: a block still being written is closed in each
    in-progress edit, with the marker after it, never raw backticks with ``*args`` read as emphasis."""
    clock = FakeClock()
    stream = RecordingStream(clock, max_chars=2000)
    answer = (
        "Call it like this:\n\n```python\ndef refund(*args, **kwargs):\n    return _total(*args)\n"
        "print(refund(1, 2))\n```\n\nThen check *the* order page."
    )
    pieces = [answer[i : i + 5] for i in range(0, len(answer), 5)]
    await _render(_reply(stream), scripted(clock, *_deltas(pieces, 0.4), completed(answer, SOURCE)))

    interim = [call.text for call in stream.calls if call.error is None and call.text.endswith(MARKER)]
    closed_by_us = [text for text in interim if text.endswith("```\n" + MARKER)]
    assert len(interim) >= 5 and closed_by_us  # some edits were shown while the block was being written
    for text in interim:
        assert len(FENCE_LINE.findall(text)) % 2 == 0, text
        assert text.endswith(MARKER), text
        assert len(text) <= 2000
    assert stream.texts() == [answer]


async def test_each_continuation_is_reported_in_order_even_when_the_store_is_slow() -> None:
    """A restart must settle the newest message (the one showing the marker): the caller hears of every
    message in the order they were posted, whatever its store's delays."""
    clock = FakeClock()
    stream = RecordingStream(clock, max_chars=60)
    noted: list[MessageRef] = []
    delays = iter([3.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0])

    async def slow_store(ref: MessageRef) -> None:
        await clock.sleep(next(delays))
        noted.append(ref)

    answer = " ".join(f"Step {n}: check the order status page again." for n in range(6))
    pieces = [answer[i : i + 9] for i in range(0, len(answer), 9)]
    outcome = await _render(
        _reply(stream, on_post=slow_store), scripted(clock, *_deltas(pieces, 0.05), completed(answer))
    )
    assert len(outcome.refs) >= 3
    assert noted == list(outcome.refs)  # all of them, in order, before render returned


async def test_a_final_text_that_differs_from_the_streamed_one_is_split_anew() -> None:
    clock = FakeClock()
    stream = RecordingStream(clock, max_chars=50)
    streamed = "word " * 16
    outcome = await _render(_reply(stream), scripted(clock, TextDelta(streamed), 2.0, completed("Short.")))
    assert stream.texts() == ["Short.", "…"]
    assert stream.footers() == [None, Footer("r-1")]
    assert outcome.text == "Short."


async def test_a_continuation_never_posted_needs_no_surplus_message() -> None:
    clock = FakeClock()
    stream = RecordingStream(clock, max_chars=50)
    slow_posts = EditBudget(rate=0.1, burst=1, clock=clock)  # the continuation would be posted at 10 s
    reply = _reply(stream, post_budget=slow_posts)
    await _render(reply, scripted(clock, TextDelta("word " * 16), 2.0, completed("Short.")))
    assert stream.texts() == ["Short."]


# --- errors never lose text -------------------------------------------------------------------------------


async def test_a_429_mid_stream_pauses_the_budget_and_loses_no_text() -> None:
    clock = FakeClock()
    stream = RecordingStream(clock)
    stream.fail(RateLimited(3.0), when=lambda text, footer: "two" in text)
    answer = "one two three four "
    events = scripted(
        clock,
        *(0.1, TextDelta("one "), 1.5, TextDelta("two "), 0.5, TextDelta("three "), 0.5, TextDelta("four ")),
        6.0,
        completed(answer),
    )
    outcome = await _render(_reply(stream), events)
    refused = next(call for call in stream.calls if call.error is not None)
    after = stream.calls[stream.calls.index(refused) + 1]
    assert refused.at == pytest.approx(1.6)
    assert after.at >= refused.at + 3.0
    assert after.text == answer + MARKER  # the whole latest text, not the refused one
    assert stream.texts() == [answer]
    assert outcome.rate_limited == 1


async def test_final_edit_is_retried_until_it_lands() -> None:
    clock = FakeClock()
    stream = RecordingStream(clock)
    stream.fail(DeliveryError("connection reset"), times=2, when=lambda text, footer: footer is not None)
    outcome = await _render(_reply(stream), scripted(clock, TextDelta("Answer."), 2.0, completed("Answer.")))
    finals = [call for call in stream.calls if call.footer is not None]
    assert [call.error is None for call in finals] == [False, False, True]
    assert finals[1].at - finals[0].at >= 0.5 and finals[2].at - finals[1].at >= 1.0  # backoff
    assert stream.texts() == ["Answer."]
    assert outcome.refs == ("m1",) and outcome.delivered


async def test_final_edit_of_a_deleted_message_posts_the_text_anew() -> None:
    clock = FakeClock()
    stream = RecordingStream(clock)
    answer = "Your refund was approved."

    async def delete_later() -> None:
        await clock.sleep(1.5)
        stream.delete("m1")

    deleter = asyncio.create_task(delete_later())
    outcome = await _render(
        _reply(stream), scripted(clock, TextDelta(answer), 3.0, completed(answer, SOURCE))
    )
    await deleter
    assert stream.texts() == [answer]
    assert stream.footers() == [Footer("r-1", (SOURCE,))]
    assert outcome.refs == ("m2",) and outcome.delivered


async def test_final_edit_that_keeps_failing_is_posted_anew_after_bounded_retries() -> None:
    clock = FakeClock()
    stream = RecordingStream(clock)
    stream.fail(DeliveryError("timeout"), times=100, when=lambda text, footer: footer is not None)
    stream.fail(DeliveryError("timeout"), kind="post", times=1, when=lambda text, footer: footer is not None)
    outcome = await _render(_reply(stream), scripted(clock, TextDelta("Answer."), 2.0, completed("Answer.")))
    final_edits = [c for c in stream.calls if c.kind == "edit" and c.footer is not None]
    final_posts = [c for c in stream.calls if c.kind == "post" and c.footer is not None]
    assert len(final_edits) == 5
    assert [c.error is None for c in final_posts] == [False, True]
    assert stream.messages["m2"] == ("Answer.", Footer("r-1"))
    assert outcome.refs == ("m2",) and outcome.delivered


async def test_when_nothing_can_be_delivered_the_outcome_says_so() -> None:
    clock = FakeClock()
    stream = RecordingStream(clock)
    stream.fail(DeliveryError("down"), times=100, when=lambda text, footer: footer is not None)
    stream.fail(DeliveryError("down"), kind="post", times=100, when=lambda text, footer: footer is not None)
    outcome = await _render(_reply(stream), scripted(clock, TextDelta("Answer."), 2.0, completed("Answer.")))
    assert not outcome.delivered
    assert len([c for c in stream.calls if c.footer is not None]) == 10


async def test_a_message_deleted_mid_stream_continues_in_a_new_message() -> None:
    clock = FakeClock()
    stream = RecordingStream(clock)
    first_posts: list[MessageRef] = []

    async def record(ref: MessageRef) -> None:
        first_posts.append(ref)

    async def delete_later() -> None:
        await clock.sleep(1.5)
        stream.delete("m1")

    deleter = asyncio.create_task(delete_later())
    words = ["Step ", "one, ", "step ", "two, ", "step ", "three."]
    events = scripted(clock, *_deltas(words, 0.5), 2.0, completed("".join(words)))
    outcome = await _render(_reply(stream, on_post=record), events)
    await deleter
    assert stream.texts() == ["".join(words)]
    assert outcome.refs == ("m2",)
    assert first_posts == ["m1", "m2"]  # the message a restart would settle moved to m2


async def test_a_failing_on_post_callback_does_not_stop_the_reply() -> None:
    clock = FakeClock()
    stream = RecordingStream(clock)

    async def broken_store(ref: MessageRef) -> None:
        raise OSError("database is locked")

    outcome = await _render(
        _reply(stream, on_post=broken_store), scripted(clock, TextDelta("Hi"), completed("Hi"))
    )
    assert stream.texts() == ["Hi"] and outcome.delivered


# --- failure and cancellation never leave a placeholder ---------------------------------------------------


async def test_failed_keeps_the_partial_text_and_adds_the_notice() -> None:
    clock = FakeClock()
    stream = RecordingStream(clock)
    failure = Failed("overloaded", "Sorry, I could not finish that answer.")
    outcome = await _render(_reply(stream), scripted(clock, TextDelta("Partial answer"), 1.0, failure))
    assert stream.texts() == ["Partial answer\n\n_Sorry, I could not finish that answer._"]
    assert stream.footers() == [None]
    assert outcome.failed and outcome.end is failure


async def test_a_notice_after_open_code_closes_the_code_block_first() -> None:
    clock = FakeClock()
    stream = RecordingStream(clock)
    failure = Failed("overloaded", "Sorry, I could not finish that answer.")
    await _render(_reply(stream), scripted(clock, TextDelta("Try:\n```sh\nmake fix"), 1.0, failure))
    assert stream.texts() == ["Try:\n```sh\nmake fix\n```\n\n_Sorry, I could not finish that answer._"]


async def _broken(clock: FakeClock, *texts: str) -> AsyncIterator[AgentEvent]:
    for text in texts:
        yield TextDelta(text)
    await clock.sleep(1.0)
    raise RuntimeError("connection to the model dropped")


@pytest.mark.parametrize(
    ("texts", "expected"),
    [((), BROKEN_NOTICE), (("Some text",), "Some text\n\n" + BROKEN_NOTICE)],
)
async def test_a_broken_event_stream_leaves_no_placeholder(texts: tuple[str, ...], expected: str) -> None:
    clock = FakeClock()
    stream = RecordingStream(clock)
    outcome = await _render(_reply(stream), _broken(clock, *texts))
    assert stream.texts() == [expected]
    assert outcome.failed and outcome.end is None


async def test_an_event_stream_that_ends_without_an_answer_leaves_no_placeholder() -> None:
    clock = FakeClock()
    stream = RecordingStream(clock)
    outcome = await _render(_reply(stream), scripted(clock, TextDelta("Half"), 1.0))
    assert stream.texts() == ["Half\n\n" + BROKEN_NOTICE]
    assert outcome.failed


@pytest.mark.parametrize("cancel_at", [0.05, 2.15, 2.3])
async def test_cancellation_settles_the_message_then_propagates(cancel_at: float) -> None:
    clock = FakeClock()
    stream = RecordingStream(clock, latency=0.2)  # at 2.15 an edit is under way
    words = [f"w{i} " for i in range(40)]
    task = asyncio.create_task(_reply(stream).render(scripted(clock, *_deltas(words, 0.3))))
    await clock.sleep(cancel_at)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    shown = "".join(words[: int(cancel_at / 0.3)])
    assert stream.texts() == [(shown + "\n\n" if shown else "") + INTERRUPTED_NOTICE]
    assert stream.problems == []


async def test_a_cancellation_while_settling_does_not_stop_the_final_edit() -> None:
    clock = FakeClock()
    stream = RecordingStream(clock, latency=0.5)
    events = scripted(clock, TextDelta("Answer."), 1.2, completed("Answer."))
    task = asyncio.create_task(_reply(stream).render(events))
    await clock.sleep(1.5)  # the first text was shown at 0.5-1.0; the final edit waits for its interval
    assert stream.texts() == ["Answer." + MARKER]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await clock.sleep(5.0)
    assert stream.texts() == ["Answer."]
    assert stream.problems == []


async def test_render_runs_once() -> None:
    clock = FakeClock()
    reply = _reply(RecordingStream(clock))
    await _render(reply, scripted(clock, completed("Done.")))
    with pytest.raises(RuntimeError, match="once"):
        await _render(reply, scripted(clock, completed("Again.")))


# --- many replies, one budget ----------------------------------------------------------------------------


async def _stream_many(
    clock: FakeClock, budget_for: Callable[[int], Budget], limit: WindowLimit
) -> list[tuple[RecordingStream, RenderOutcome, str, float]]:
    """Five replies streaming at once, the k-th for 8 + 2k seconds; returns stream, outcome, answer, end."""
    post_budget = EditBudget(10.0, 10, clock=clock)
    runs = []
    for k in range(5):
        stream = RecordingStream(clock, edit_limit=limit)
        words = [f"r{k}w{i} " for i in range(32 + 8 * k)]
        answer = "".join(words)
        events = scripted(clock, 0.1 * k, *_deltas(words, 0.25), completed(answer))
        reply = _reply(stream, budget=budget_for(k), post_budget=post_budget, reply_id=f"r-{k}")
        runs.append((stream, reply.render(events), answer, 0.1 * k + 0.25 * len(words)))
    async with asyncio.timeout(10):
        outcomes = await asyncio.gather(*(run for _, run, _, _ in runs))
    return [
        (stream, outcome, answer, end)
        for (stream, _, answer, end), outcome in zip(runs, outcomes, strict=True)
    ]


async def test_replies_sharing_a_budget_stay_within_the_rate_and_every_final_lands_soon() -> None:
    clock = FakeClock()
    limit = WindowLimit(clock, calls=1, per=1.0)  # the platform: one edit a second, 429 beyond
    shared = EditBudget(rate=1.0, burst=1, clock=clock)
    runs = await _stream_many(clock, lambda k: shared, limit)
    assert limit.rejected == 0
    for k, (stream, outcome, answer, end) in enumerate(runs):
        assert stream.texts() == [answer]
        assert stream.footers() == [Footer(f"r-{k}")]
        assert outcome.rate_limited == 0 and stream.problems == []
        final = stream.edits()[-1]
        assert final.at <= end + 2.0 + 1e-9  # one interval, then the next permit: finals are not starved
        streaming = [call for call in stream.edits() if call.text.endswith(MARKER)]
        assert len(streaming) >= 2  # first text and more: every reply keeps moving while the others stream


async def test_replies_with_separate_budgets_hit_429s_but_still_lose_no_text() -> None:
    clock = FakeClock()
    limit = WindowLimit(clock, calls=1, per=1.0)
    runs = await _stream_many(clock, lambda k: EditBudget(rate=1.0, burst=1, clock=clock), limit)
    assert limit.rejected > 0
    assert sum(outcome.rate_limited for _, outcome, _, _ in runs) == limit.rejected
    for stream, outcome, answer, _ in runs:
        assert stream.texts() == [answer] and outcome.delivered
