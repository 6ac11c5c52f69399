"""Slack failing the bot's posts and edits: 429s (with Retry-After) and server errors (500, 502, 503), once or
in bursts, also calls that took effect although the bot saw the error. Whatever fails, every question ends
with exactly one complete answer (or one clear notice), no message is left showing "Thinking…" or the
in-progress marker, nothing is said twice, and clicks on the answer's buttons are recorded.

Failures are injected on the call a user would notice: the placeholder post, the first text, a middle
edit, the final edit (the one that adds the buttons), a long answer's continuation post, a notice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from fakes.anthropic import RecordedRequest, Reply
from fakes.slack import FakeSlack, FakeUser, _ApiError

from bot.limits import size_text
from bot.streaming.reply import DEFAULT_MARKER, DEFAULT_PLACEHOLDER
from integrations.slack.actions import ASKED, THANKS
from integrations.slack.blocks import ESCALATE, HELPFUL
from integrations.slack.escalations import HANDED_OVER
from integrations.slack.inbound import thread_ref
from integrations.slack.mrkdwn import to_mrkdwn
from tests.slack.rig import RigFactory, SlackRig, buttons, section_text
from tests.slack.test_slack_answers import rejoin, sections

LEADS = "C0LEADS"
MARKER = DEFAULT_MARKER.strip()
PLACEHOLDER = to_mrkdwn(DEFAULT_PLACEHOLDER)
ANSWER = (
    "Your order ORD-10001 shipped on Monday.\n\n"
    "It should arrive within three working days; the tracking link is in your confirmation email. "
    "If it has not arrived by Friday, reply here and a colleague will look into it."
)


def fail_when(
    fake: FakeSlack,
    method: str,
    matches: Callable[[dict[str, Any]], bool],
    *,
    status: int,
    times: int = 1,
    retry_after: int = 0,
    apply: bool = False,
) -> list[dict[str, Any]]:
    """Slack answers the next ``times`` calls of ``method`` that ``matches`` with ``status`` (a 429 with
    ``Retry-After``); with ``apply`` the call takes effect first. Returns the failed calls' arguments."""
    handler = fake._handlers[method]
    failed: list[dict[str, Any]] = []

    def failing(args: dict[str, Any]) -> dict[str, Any]:
        if len(failed) >= times or not matches(args):
            return handler(args)
        failed.append(dict(args))
        if apply:
            handler(args)
        if status == 429:
            raise _ApiError("ratelimited", status=429, headers={"Retry-After": str(retry_after)})
        raise _ApiError("internal_error", status=status)

    fake._handlers[method] = failing
    return failed


def streaming(args: dict[str, Any]) -> bool:
    """An edit that shows text still being written."""
    return str(args.get("text", "")).endswith(DEFAULT_MARKER)


def final(args: dict[str, Any]) -> bool:
    """The edit or post that settles an answer: it carries the feedback buttons."""
    return HELPFUL in str(args.get("blocks", ""))


def not_placeholder(args: dict[str, Any]) -> bool:
    return args.get("text") != PLACEHOLDER


def nth(count: int, matches: Callable[[dict[str, Any]], bool]) -> Callable[[dict[str, Any]], bool]:
    """Matches the ``count``-th call (from 1) that ``matches`` and every one after it."""
    seen = 0

    def check(args: dict[str, Any]) -> bool:
        nonlocal seen
        if matches(args):
            seen += 1
        return matches(args) and seen >= count

    return check


def assert_one_answer(rig: SlackRig, thread_ts: str, answer: str, *, channel: str | None = None) -> None:
    """The thread shows ``answer`` once, complete, settled, with the buttons under its last message only."""
    messages = rig.bot_messages(channel or rig.fake.general.id, thread_ts)
    assert messages, "no answer"
    for message in messages:
        text = message.visible_text
        assert MARKER not in text and "Thinking" not in text, text
    assert rejoin([rejoin(sections(m), "\n") for m in messages], "") == to_mrkdwn(answer)
    assert [bool(buttons(m)) for m in messages] == [False] * (len(messages) - 1) + [True]


async def ask(rig: SlackRig, user: FakeUser, question: str, answer: str, **reply: Any) -> str:
    """``user`` asks; the model answers ``answer`` (streamed); returns the thread once the bot is done."""
    rig.model.script(Reply.text(answer, **({"tokens_per_second": 200} | reply)))
    post = await rig.mention(user, question)
    await rig.settle()
    return post.ts


@pytest.mark.parametrize(("status", "times"), [(429, 1), (500, 1), (502, 2), (503, 2)])
async def test_a_failed_thinking_post_is_retried_and_the_question_gets_one_answer(
    slack_rig: RigFactory, status: int, times: int
) -> None:
    rig = await slack_rig()
    rig.fake.fail_next("chat.postMessage", status=status, times=times, retry_after=1)
    thread = await ask(rig, rig.user("ann"), "where is ORD-10001?", ANSWER)
    assert_one_answer(rig, thread, ANSWER)
    assert len(rig.bot_messages(rig.fake.general.id, thread)) == 1


@pytest.mark.parametrize(("status", "times"), [(503, 2)])
async def test_a_thinking_post_that_went_through_despite_the_error_is_not_posted_twice(
    slack_rig: RigFactory, status: int, times: int
) -> None:
    rig = await slack_rig()
    rig.fake.fail_next("chat.postMessage", status=status, times=times, apply=True)
    thread = await ask(rig, rig.user("ann"), "where is ORD-10001?", ANSWER)
    assert_one_answer(rig, thread, ANSWER)
    assert len(rig.bot_messages(rig.fake.general.id, thread)) == 1


@pytest.mark.parametrize(
    ("which", "status", "times", "apply"),
    [
        ("first text", 500, 1, True),
        ("middle edit", 429, 2, False),
        ("middle edit", 503, 1, True),
        ("final edit", 429, 1, False),
        ("final edit", 502, 2, True),
    ],
)
async def test_a_failed_edit_is_sent_again_and_the_answer_reads_complete(
    slack_rig: RigFactory, which: str, status: int, times: int, apply: bool
) -> None:
    rig = await slack_rig()
    method, matches = {
        "first text": ("chat.postMessage", streaming),  # the first text is the reply's post
        "middle edit": ("chat.update", streaming),
        "final edit": ("chat.update", final),
    }[which]
    failed = fail_when(rig.fake, method, matches, status=status, times=times, apply=apply)
    # A burst during the stream needs a stream that outlasts the bot's backoff (0.5 s, then 1 s).
    speed = 25 if which != "final edit" and times > 1 else 100
    thread = await ask(rig, rig.user("ann"), "where is ORD-10001?", ANSWER, tokens_per_second=speed)
    assert len(failed) == times, f"the {which} was never sent"
    assert_one_answer(rig, thread, ANSWER)
    [reply] = rig.bot_messages(rig.fake.general.id, thread)
    assert reply.versions[0] != PLACEHOLDER and reply.versions[0].endswith(MARKER)  # no placeholder


def long_answer() -> str:
    return "\n\n".join(
        f"Step {i}: open order ORD-{10000 + i}, check that the refund of **{i} USD** was approved, "
        "and tell the customer when it will reach their card."
        for i in range(60)
    )


@pytest.mark.parametrize(("status", "times", "apply"), [(429, 1, False), (500, 1, True)])
async def test_a_long_answer_whose_next_message_fails_to_post_still_reads_complete_once(
    slack_rig: RigFactory, status: int, times: int, apply: bool
) -> None:
    rig = await slack_rig()
    answer = long_answer()
    failed = fail_when(rig.fake, "chat.postMessage", not_placeholder, status=status, times=times, apply=apply)
    thread = await ask(
        rig, rig.user("ann"), "how do I check refunds?", answer, tokens_per_second=400, chunk=40
    )
    assert len(failed) == times
    assert_one_answer(rig, thread, answer)
    assert len(rig.bot_messages(rig.fake.general.id, thread)) == len(to_mrkdwn(answer)) // 2900 + 1


@pytest.mark.parametrize(("status", "times", "apply"), [(429, 1, False), (500, 1, True), (503, 2, False)])
async def test_a_limit_notice_that_failed_to_post_is_shown_once(
    slack_rig: RigFactory, status: int, times: int, apply: bool
) -> None:
    rig = await slack_rig()
    rig.fake.fail_next("chat.postMessage", status=status, times=times, retry_after=0, apply=apply)
    question = "please read this: " + "my order is late. " * 300
    post = await rig.mention(rig.user("ann"), question)
    await rig.settle()
    [notice] = rig.bot_messages(rig.fake.general.id, post.ts)
    assert section_text(notice) == to_mrkdwn(size_text(len(question.strip()), 4000))
    assert not rig.model.message_requests


async def test_votes_and_talk_to_a_human_are_recorded_when_slack_failed_their_posts_first(
    slack_rig: RigFactory,
) -> None:
    lead = FakeUser("U0LEAD", "lena", "Lena", "lena", "T0FAKE")
    rig = await slack_rig(slack={"lead_user_ids": [lead.id], "leads_channel": LEADS})
    rig.fake.users[lead.id] = lead
    rig.fake.add_channel(LEADS, name="support-leads")
    channel = rig.fake.general.id
    ann, bob = rig.user("ann"), rig.user("bob")

    # The edit that adds the buttons fails first (it took effect, but the bot saw a 500).
    fail_when(rig.fake, "chat.update", final, status=500, apply=True)
    thread = await ask(rig, ann, "I need a refund exception", ANSWER)
    assert_one_answer(rig, thread, ANSWER)
    [reply] = rig.bot_messages(channel, thread)
    reply_id = dict(buttons(reply))[HELPFUL]
    assert await rig.click(bob, reply, HELPFUL) == THANKS
    assert await rig.core.store.feedback_for(reply_id) == {bob.id: True}

    # Asking for a human: the leads' notice is rate limited first, the thread's notice fails with a 503.
    fail_when(rig.fake, "chat.postMessage", lambda a: a.get("channel") == LEADS, status=429, retry_after=1)
    fail_when(rig.fake, "chat.postMessage", lambda a: a.get("channel") == channel, status=503)
    assert await rig.click(ann, reply, ESCALATE) == ASKED
    [escalation] = await rig.core.store.open_escalations()
    assert (escalation.ref, escalation.user_id) == (thread_ref(rig.fake.team_id, channel, thread), ann.id)
    [notice] = rig.fake.bot_messages(LEADS)
    assert f"Escalation #{escalation.id}" in section_text(notice)
    messages = rig.bot_messages(channel, thread)
    assert [section_text(m) for m in messages] == [to_mrkdwn(ANSWER), HANDED_OVER]
    assert await rig.core.store.feedback_for(reply_id) == {bob.id: True}


async def test_several_threads_answered_through_bursts_of_429s_and_server_errors(
    slack_rig: RigFactory,
) -> None:
    rig = await slack_rig()
    count = 5
    answers = {
        n: f"Answer {n}: order ORD-{10000 + n} " + "is packed and ships tomorrow. " * 8 for n in range(count)
    }

    def respond(request: RecordedRequest) -> Reply:
        last = request.body["messages"][-1]["content"][-1]["text"]
        n = int(last.rsplit(" ", 1)[1])
        return Reply.text(answers[n].strip(), tokens_per_second=80)

    rig.model.responder = respond
    rig.fake.fail_next("chat.postMessage", status=429, retry_after=0, times=2)
    rig.fake.fail_next("chat.postMessage", status=503, times=2, apply=True)
    fail_when(rig.fake, "chat.update", streaming, status=429, times=3)
    fail_when(rig.fake, "chat.update", final, status=500, times=2, apply=True)
    people = [rig.user(f"user{n}") for n in range(count)]
    posts = await asyncio.gather(*(rig.mention(people[n], f"where is my order {n}") for n in range(count)))
    await rig.settle()
    for n, post in enumerate(posts):
        assert_one_answer(rig, post.ts, answers[n].strip())
        assert len(rig.bot_messages(rig.fake.general.id, post.ts)) == 1
