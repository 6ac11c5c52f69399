"""StreamingReply on a platform that shows a sign of life of its own (``ReplyLimits.placeholder`` off,
Discord's typing indicator): nothing is posted before the answer's first text, and nothing is left behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from bot.agent.events import AgentEvent, Failed, TextDelta, ToolStarted
from bot.streaming.budget import EditBudget
from bot.streaming.protocol import ReplyLimits
from bot.streaming.reply import DEFAULT_MARKER, StreamingReply
from tests.recording_stream import FakeClock, RecordingStream, completed, scripted


@dataclass
class TypingStream(RecordingStream):
    @property
    def limits(self) -> ReplyLimits:
        return ReplyLimits(self.max_chars, self.edit_interval, placeholder=False)


def reply(stream: TypingStream, progress: StatusLine | None = None) -> StreamingReply:
    clock = stream.clock
    budget = EditBudget(100.0, 100, clock=clock)
    return StreamingReply(
        stream, budget=budget, post_budget=budget, reply_id="r-1", clock=clock, progress=progress
    )


async def test_the_first_message_comes_with_the_first_text_not_before() -> None:
    clock = FakeClock()
    stream = TypingStream(clock)
    events = scripted(
        clock, ToolStarted("t1", "search_kb"), 2.0, TextDelta("Returns are "), 0.5, TextDelta("free.")
    )
    async with asyncio.timeout(10):
        outcome = await reply(stream).render(_then(events, completed("Returns are free.")))
    first = stream.calls[0]
    assert first.kind == "post" and first.at == 2.0 and first.text == "Returns are " + DEFAULT_MARKER
    assert all("Using" not in call.text and "Thinking" not in call.text for call in stream.calls)
    assert stream.texts() == ["Returns are free."] and not stream.problems
    assert outcome.first_text_at == 2.0 and outcome.refs == ("m1",)


async def test_an_answer_that_fails_before_any_text_still_says_so() -> None:
    clock = FakeClock()
    stream = TypingStream(clock)
    events = scripted(clock, 1.0, Failed("overloaded", "The AI model is busy; please ask again."))
    async with asyncio.timeout(10):
        outcome = await reply(stream).render(events)
    assert stream.texts() == ["_The AI model is busy; please ask again._"] and outcome.failed


async def _then(events: AsyncIterator[AgentEvent], end: AgentEvent) -> AsyncIterator[AgentEvent]:
    async for event in events:
        yield event
    yield end


@dataclass
class StatusLine:
    """A platform's own sign of progress (Slack's thread status), recording what it was told and when."""

    clock: FakeClock
    shown: list[tuple[float, str | None]] = field(default_factory=list)

    async def show_progress(self, tool: str | None, subject: str | None = None) -> None:
        self.shown.append((self.clock.monotonic(), tool))

    async def clear_progress(self) -> None:
        self.shown.append((self.clock.monotonic(), "<cleared>"))


async def test_the_progress_sign_shows_thinking_then_each_tool_and_is_cleared_after_a_late_tool() -> None:
    clock = FakeClock()
    stream = TypingStream(clock)
    status = StatusLine(clock)
    rendering = reply(stream, progress=status)
    events = scripted(
        clock,
        ToolStarted("t1", "search_kb"),
        1.0,
        TextDelta("Let me check the order. "),
        1.0,
        ToolStarted("t2", "lookup_order"),  # after the first text was posted (which cleared the sign)
        1.0,
        TextDelta("It shipped."),
    )
    async with asyncio.timeout(10):
        await rendering.render(_then(events, completed("Let me check the order. It shipped.")))
    assert [tool for _, tool in status.shown] == [None, "search_kb", "lookup_order", "<cleared>"]
    assert status.shown[0][0] == 0.0  # at once, before any text
    assert stream.texts() == ["Let me check the order. It shipped."]


async def test_the_progress_sign_is_left_to_the_post_when_nothing_ran_after_it() -> None:
    clock = FakeClock()
    stream = TypingStream(clock)
    status = StatusLine(clock)
    rendering = reply(stream, progress=status)
    events = scripted(clock, 1.0, TextDelta("Returns are free."))
    async with asyncio.timeout(10):
        await rendering.render(_then(events, completed("Returns are free.")))
    assert [tool for _, tool in status.shown] == [None]  # the post cleared it: no call to clear it
