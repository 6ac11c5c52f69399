"""Slack users asking while the model misbehaves: its stream cut off or broken by an error event at any
point, and bursts of 429, 500 and 529 answers. Everything runs through the real slack-bolt front end, the
real slack_sdk and anthropic clients, and the local fakes.

Whatever the model does, every question ends with exactly one settled reply in its thread: the answer, an
answer from the fallback responder that says the AI model is not available, or what was written plus a
notice that the answer was interrupted. No message keeps the "Thinking…" placeholder, a tool status or the
in-progress marker, and the feedback, escalations and tool-call audit rows of the conversation are stored.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fakes.anthropic import RecordedRequest, Reply
from fakes.slack import FakeMessage, FakeUser, UserPost

import bot.run.app
from bot.agent.circuit import CircuitBreaker
from bot.agent.fallback import MODEL_UNAVAILABLE_NOTE
from bot.agent.loop import INTERRUPTED_NOTICE as MODEL_STOPPED
from bot.buttons import ASKED, THANKS
from bot.escalations import handed_over_text
from bot.settings import Settings
from bot.streaming.reply import DEFAULT_MARKER, DEFAULT_PLACEHOLDER, default_tool_status
from bot.types import ThreadRef
from integrations.slack.blocks import ESCALATE, HELPFUL, NOT_HELPFUL
from integrations.slack.inbound import thread_ref
from integrations.slack.mrkdwn import SLACK_MARKUP, to_mrkdwn
from tests.slack.rig import RigFactory, SlackRig, buttons, section_text

SDK_RETRIES = 2
"""The anthropic client's own retries in these tests (the fake asks for them at once: retry-after-ms 1)."""

FALLBACK_NOTE = to_mrkdwn(f"_{MODEL_UNAVAILABLE_NOTE}_")
HANDED_OVER = to_mrkdwn(handed_over_text(SLACK_MARKUP))
RETURNS_QUESTION = "how do returns work?"
ORDER_QUESTION = "where is ORD-10001?"
LOOK = "Let me look that up."
RETURNS_ANSWER = (
    "Returns are free within **30 days** of delivery. Start the return in your account, print the label "
    "and drop the parcel at any post office."
)
ORDER_ANSWER = "Order ORD-10001 shipped on Monday and should arrive on Friday."


class ManualClock:
    """The circuit breaker's clock, moved on by the test (the breaker's cooldown is 30 s)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def breaker_clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    """The app's circuit breaker runs on a manual clock; the model client retries ``SDK_RETRIES`` times."""
    clock = ManualClock()
    monkeypatch.setattr(bot.run.app, "CircuitBreaker", lambda: CircuitBreaker(clock=clock))
    build_llm = bot.run.app.build_llm

    def with_retries(settings: Settings) -> Any:
        return build_llm(settings.model_copy(update={"model_max_retries": SDK_RETRIES}))

    monkeypatch.setattr(bot.run.app, "build_llm", with_retries)
    return clock


# What a user sees.


def answer_messages(rig: SlackRig, post: UserPost) -> list[FakeMessage]:
    """The bot's replies in the question's thread (the hand-over notice of an escalation is not a reply)."""
    messages = rig.bot_messages(rig.fake.general.id, post.ts)
    return [m for m in messages if section_text(m) != HANDED_OVER]


def assert_settled(message: FakeMessage) -> None:
    """Nothing in the message says the bot is still at work."""
    text = message.visible_text
    assert DEFAULT_MARKER.strip() not in text, text
    assert to_mrkdwn(DEFAULT_PLACEHOLDER) not in text and "Thinking" not in text, text
    for tool in ("search_kb", "lookup_order", "list_my_orders", "escalate_to_human"):
        assert to_mrkdwn(default_tool_status(tool)) not in text, text


def only_reply(rig: SlackRig, post: UserPost) -> FakeMessage:
    """The question's one reply, settled."""
    replies = answer_messages(rig, post)
    assert len(replies) == 1, [m.visible_text for m in replies]
    assert_settled(replies[0])
    return replies[0]


def interrupted(written: str) -> str:
    """What a user sees of an answer the model stopped writing: what was written, then the notice."""
    return to_mrkdwn(f"{written}\n\n_{MODEL_STOPPED}_" if written else f"_{MODEL_STOPPED}_")


def streamed_text(reply: Reply, events: int) -> str:
    """The text of the first ``events`` server-sent events of ``reply`` (what reached the bot)."""
    return "".join(
        data["delta"]["text"]
        for name, data in reply.sse_events(model="m")[:events]
        if name == "content_block_delta" and data["delta"]["type"] == "text_delta"
    )


def reply_text(reply: Reply) -> str:
    return streamed_text(reply, len(reply.sse_events(model="m")))


async def audited_tools(rig: SlackRig, ref: ThreadRef) -> list[str]:
    """The tools the store's audit log holds for the thread, oldest first."""
    return [r.tool for r in reversed(await rig.core.store.tool_calls(10_000)) if r.thread_key == ref.key]


# Cuts and error events at every point of a tool loop.


@dataclass(frozen=True)
class Shape:
    """A question and the model's complete answer to it: a tool round, then the text."""

    name: str
    question: str
    tool_round: Reply
    final: Reply
    fallback_tool: str
    """The tool the fallback responder uses for this question."""


SHAPES = [
    Shape(
        "text then search",
        RETURNS_QUESTION,
        Reply.tool_use(("search_kb", {"query": "returns policy"}), text=LOOK, chunk=5),
        Reply.text(RETURNS_ANSWER, chunk=12),
        "search_kb",
    ),
    Shape(
        "silent order lookup",
        ORDER_QUESTION,
        Reply.tool_use(("lookup_order", {"order_id": "ORD-10001"}), json_chunk=4),
        Reply.text(ORDER_ANSWER, chunk=9),
        "lookup_order",
    ),
]


@dataclass(frozen=True)
class Fault:
    """The model's answer to a shape broken at one event of one round (0: the tool round, 1: the text)."""

    shape: Shape
    round: int
    event: int
    kind: str  # "cut" (the connection drops mid-event) or "error" (an overloaded_error event)

    @property
    def replies(self) -> list[Reply]:
        broken = self.shape.tool_round if self.round == 0 else self.shape.final
        if self.kind == "cut":
            faulty = Reply.cut(self.event, reply=broken)
        else:
            faulty = Reply.error_event("overloaded_error", after_events=self.event, reply=broken)
        return [faulty] if self.round == 0 else [self.shape.tool_round, faulty]

    @property
    def written(self) -> str:
        """The text the user saw before the fault."""
        if self.round == 0:
            return streamed_text(self.shape.tool_round, self.event)
        first, second = reply_text(self.shape.tool_round), streamed_text(self.shape.final, self.event)
        return f"{first}\n\n{second}" if first and second else first + second

    @property
    def tools_run(self) -> list[str]:
        """The tools that ran for the question: the model's (if its round completed), the fallback's."""
        tools = [] if self.round == 0 else [self.shape.tool_round.blocks[-1].name]  # type: ignore[union-attr]
        return tools + ([] if self.written else [self.shape.fallback_tool])


def faults() -> list[Fault]:
    """For both rounds of both shapes: cuts before message_start, right after it, in the middle of the
    text or of the tool input's JSON, just before message_stop, and at a seeded sample of other events;
    and error events at another seeded sample."""
    found: list[Fault] = []
    for shape in SHAPES:
        for round_, reply in enumerate((shape.tool_round, shape.final)):
            events = reply.sse_events(model="m")
            deltas = [i for i, (name, _) in enumerate(events) if name == "content_block_delta"]
            pick = random.Random(f"{shape.name}/{round_}")
            cuts = {0, 1, deltas[len(deltas) // 2], len(events) - 1, *pick.sample(range(len(events)), 4)}
            found += [Fault(shape, round_, event, "cut") for event in sorted(cuts)]
            found += [Fault(shape, round_, event, "error") for event in pick.sample(range(len(events)), 2)]
    return found


async def test_a_model_stream_broken_anywhere_leaves_one_settled_reply_and_the_bot_answers_next(
    slack_rig: RigFactory, breaker_clock: ManualClock
) -> None:
    """Wherever the model's stream breaks (the connection cut mid-event, or an error event), the asker
    gets one reply: the fallback answer when nothing was written yet, otherwise what was written and a
    notice to ask again; never a placeholder or a second answer. The follow-up in the same thread is
    answered normally, the tools that ran are in the audit log, and the store has each turn once."""
    rig = await slack_rig()
    channel = rig.fake.general.id
    cases = faults()
    assert len(cases) > 30
    for number, fault in enumerate(cases):
        asker = rig.user(f"asker{number}")
        rig.model.script(*fault.replies, Reply.text("Glad to help again.", chunk=7))
        post = await rig.mention(asker, fault.shape.question)
        await rig.settle()
        follow_up = await rig.say(asker, "thanks, anything else?", thread_ts=post.ts)
        await rig.settle()

        first, second = answer_messages(rig, post)
        for message in (first, second):
            assert_settled(message)
        where = f"{fault} saw {first.visible_text!r}"
        if fault.written:
            assert section_text(first) == interrupted(fault.written), where
            assert buttons(first) == [], where  # nothing to rate: the answer did not complete
        else:
            assert section_text(first).startswith(FALLBACK_NOTE), where
            assert [action for action, _ in buttons(first)] == [HELPFUL, NOT_HELPFUL, ESCALATE]
        assert section_text(second) == "Glad to help again.", where
        assert rig.fake.message(channel, second.ts).ts == second.ts
        assert follow_up.ts != post.ts

        ref = thread_ref(rig.fake.team_id, channel, post.ts)
        turns = await rig.core.store.load_turns(ref)
        assert [t.role for t in turns] == ["user", "assistant", "user", "assistant"], where
        assert [t.message_id for t in turns if t.role == "assistant"] == [first.ts, second.ts]
        assert await audited_tools(rig, ref) == fault.tools_run, where
    assert rig.model.pending == 0


# Bursts of 429, 500 and 529.


def answering(text_for: Callable[[str], str]) -> Callable[[RecordedRequest], Reply]:
    """A model that answers the last question of each request with ``text_for(question)``."""

    def respond(request: RecordedRequest) -> Reply:
        last = request.body["messages"][-1]["content"]
        question = last if isinstance(last, str) else " ".join(b.get("text", "") for b in last)
        return Reply.text(text_for(question.rsplit(": ", 1)[-1]), chunk=10)

    return respond


async def ask_all(rig: SlackRig, questions: list[tuple[FakeUser, str]]) -> list[UserPost]:
    """Everyone asks at once; returns when every reply has settled."""
    posts = await asyncio.gather(*(rig.mention(user, text) for user, text in questions))
    await rig.settle()
    return list(posts)


@pytest.mark.parametrize("status", [429, 500, 529])
async def test_a_burst_the_client_retries_through_is_answered_normally(
    slack_rig: RigFactory, breaker_clock: ManualClock, status: int
) -> None:
    """A burst of failures no longer than the client's retries is invisible to the user: they get the
    model's answer, once, and can rate it."""
    rig = await slack_rig()
    rig.model.script(*[Reply.status(status, retry_after=0)] * SDK_RETRIES, Reply.text(ORDER_ANSWER))
    ann = rig.user("ann")
    post = await rig.mention(ann, ORDER_QUESTION)
    await rig.settle()
    reply = only_reply(rig, post)
    assert section_text(reply) == ORDER_ANSWER
    assert len(rig.model.message_requests) == SDK_RETRIES + 1
    assert await rig.click(ann, reply, HELPFUL) == THANKS
    [(_, reply_id), *_] = buttons(reply)
    assert await rig.core.store.feedback_for(reply_id) == {ann.id: True}


async def test_a_long_burst_gets_fallback_answers_then_the_model_answers_again(
    slack_rig: RigFactory, breaker_clock: ManualClock
) -> None:
    """While the model answers 429, 500 and 529 for longer than the client retries, every question (one
    alone, then several at once) gets one answer from the fallback responder that says the AI model is not
    available, made from the same order lookup and help articles. After repeated failures the bot stops
    calling the model for a while and still answers from the fallback; once the pause is over and the
    model is back, questions get the model's answers again. Votes, escalations and the tool calls of the
    fallback answers are all in the store."""
    rig = await slack_rig()
    store = rig.core.store
    channel = rig.fake.general.id
    statuses = iter([429, 500, 529] * 20)
    burst = True

    def model(request: RecordedRequest) -> Reply:
        if burst:
            return Reply.status(next(statuses), retry_after=0)
        return answering(lambda question: f"The model says: {question}")(request)

    rig.model.responder = model
    since = datetime.now(UTC)
    users = [rig.user(f"user{i}") for i in range(6)]

    [alone] = await ask_all(rig, [(users[0], ORDER_QUESTION)])
    assert len(rig.model.message_requests) == SDK_RETRIES + 1
    together = await ask_all(
        rig,
        [(users[1], ORDER_QUESTION), (users[2], RETURNS_QUESTION), (users[3], "where is ORD-10002?")],
    )
    tried = len(rig.model.message_requests)
    assert tried == 4 * (SDK_RETRIES + 1)
    [while_paused] = await ask_all(rig, [(users[4], RETURNS_QUESTION)])
    assert len(rig.model.message_requests) == tried  # the bot gave the model a rest

    fallback_posts = [alone, *together, while_paused]
    fallback_replies = [only_reply(rig, post) for post in fallback_posts]
    for reply in fallback_replies:
        assert section_text(reply).startswith(FALLBACK_NOTE), reply.visible_text
    assert "ORD-10001" in section_text(fallback_replies[0])
    assert "ORD-10002" in section_text(fallback_replies[3])
    assert "help articles look relevant" in section_text(fallback_replies[2])

    burst = False
    [still_paused] = await ask_all(rig, [(users[5], "is the model back?")])
    assert section_text(only_reply(rig, still_paused)).startswith(FALLBACK_NOTE)
    breaker_clock.now += 31.0  # the pause is over
    back = await ask_all(rig, [(users[5], "and now?"), (users[0], "one more question")])
    assert [section_text(only_reply(rig, post)) for post in back] == [
        "The model says: and now?",
        "The model says: one more question",
    ]

    # What the asking left in the store.
    assert await rig.click(users[1], fallback_replies[1], HELPFUL) == THANKS
    assert await rig.click(users[2], fallback_replies[2], ESCALATE) == ASKED
    assert await rig.click(users[0], only_reply(rig, back[1]), HELPFUL) == THANKS
    votes = {(v.reply_id, v.user_id, v.helpful) for v in await store.feedback_since(since)}
    assert votes == {
        (buttons(fallback_replies[1])[0][1], users[1].id, True),
        (buttons(only_reply(rig, back[1]))[0][1], users[0].id, True),
    }
    [escalation] = await store.open_escalations()
    assert escalation.ref == thread_ref(rig.fake.team_id, channel, together[1].ts)
    assert escalation.user_id == users[2].id
    expected_tools = ["lookup_order", "lookup_order", "search_kb", "lookup_order", "search_kb", "search_kb"]
    for post, tool in zip([*fallback_posts, still_paused], expected_tools, strict=True):
        assert await audited_tools(rig, thread_ref(rig.fake.team_id, channel, post.ts)) == [tool]
    records = await store.replies_since(since)
    assert len(records) == 8
    assert sum(r.fallback for r in records) == 6 and not any(r.failed for r in records)


async def test_an_asker_whose_answer_broke_can_ask_for_a_human_and_it_is_recorded(
    slack_rig: RigFactory, breaker_clock: ManualClock
) -> None:
    """After an answer the model stopped writing, the asker says they want a person: the model hands the
    thread over (the escalation and its audit row are stored) and says so, and the bot then stays quiet in
    the thread."""
    rig = await slack_rig()
    channel = rig.fake.general.id
    cut_answer = Reply.cut(6, reply=Reply.text(ORDER_ANSWER, chunk=9))
    rig.model.script(
        cut_answer,
        Reply.tool_use(
            ("escalate_to_human", {"summary": "Ann's order answer broke off; she wants a person."})
        ),
        Reply.text("I've asked a support lead to join this thread.", chunk=11),
    )
    ann = rig.user("ann")
    post = await rig.mention(ann, ORDER_QUESTION)
    await rig.settle()
    await rig.say(ann, "please get me a human", thread_ts=post.ts)
    await rig.settle()
    await rig.say(ann, "hello?", thread_ts=post.ts)  # the bot has stepped back
    await rig.settle()

    broken, handed = answer_messages(rig, post)
    assert section_text(broken) == interrupted(streamed_text(cut_answer, 6))
    assert section_text(handed) == "I've asked a support lead to join this thread."
    assert rig.bot_messages(channel, post.ts) == [broken, handed]  # nothing after "hello?"
    for message in (broken, handed):
        assert_settled(message)
    ref = thread_ref(rig.fake.team_id, channel, post.ts)
    [escalation] = await rig.core.store.open_escalations()
    assert (escalation.ref, escalation.user_id) == (ref, ann.id)
    assert await audited_tools(rig, ref) == ["escalate_to_human"]
    assert len(rig.model.message_requests) == 3
