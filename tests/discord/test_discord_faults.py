"""Discord failing the bot's posts, edits and thread creation: 429s of every scope (user, shared, global) and
server errors, once or in bursts. Whatever fails, every question ends with exactly one complete answer, no
message is left with the in-progress marker, nothing is said twice, and clicks on the answer's buttons
(a vote, "talk to a human") are recorded. Discord shows no placeholder: the first message comes with the
answer's first text.

discord.py waits out a 429 itself and sends the call again; a 500 it retries after a second; a 503 comes
straight back to the bot, which sends the whole text again.
"""

from __future__ import annotations

import asyncio

import pytest
from fakes.anthropic import RecordedRequest, Reply
from fakes.discord import FakeChannel, FakeDiscord

from bot.buttons import ASKED, THANKS
from integrations.discord.inbound import thread_ref
from tests.discord.rig import MARKER, DiscordRig, RigFactory, assert_settled
from tests.discord.test_discord_leads import HANDED_OVER, button, lead_tables, leads_channel

POSTS = "/channels/{channel_id}/messages"
EDITS = "/channels/{channel_id}/messages/{message_id}"
THREADS = "/channels/{channel_id}/messages/{message_id}/threads"
ANSWER = (
    "Your order ORD-10001 shipped on Monday.\n\n"
    "It should arrive within three working days; the tracking link is in your confirmation email. "
    "If it has not arrived by Friday, reply here and a colleague will look into it."
)


def assert_one_answer(rig: DiscordRig, channel: FakeChannel, answer: str) -> None:
    """The channel shows ``answer`` once, complete and settled, with the buttons under it."""
    messages = rig.answers(channel)
    assert_settled(messages)
    assert [m.content for m in messages] == [answer]
    assert messages[0].custom_ids() and not messages[0].content.endswith(MARKER)


async def ask(rig: DiscordRig, question: str, answer: str, tokens_per_second: float = 60) -> FakeChannel:
    """Alice mentions the bot in #support; the thread it answers in, once it is done."""
    rig.model.script(Reply.text(answer, tokens_per_second=tokens_per_second))
    asked = await rig.mention(rig.fake.alice, question)
    return rig.thread_of(asked)


@pytest.mark.parametrize(
    ("status", "scope", "times"),
    [(429, "shared", 2), (429, "global", 1), (503, "user", 2)],
)
async def test_a_failed_first_post_is_sent_again_and_the_question_gets_one_answer(
    discord_rig: RigFactory, status: int, scope: str, times: int
) -> None:
    rig = await discord_rig()
    rig.fake.fail_next(
        "POST", POSTS, status, retry_after=0.05, times=times, scope=scope, is_global=scope == "global"
    )
    thread = await ask(rig, "where is ORD-10001?", ANSWER)
    assert_one_answer(rig, thread, ANSWER)
    assert len(rig.fake.calls("POST", POSTS)) == times + 1


@pytest.mark.parametrize(
    ("status", "scope", "times"),
    [(429, "user", 3), (503, "user", 2)],
)
async def test_failed_edits_are_sent_again_and_the_answer_reads_complete(
    discord_rig: RigFactory, status: int, scope: str, times: int
) -> None:
    rig = await discord_rig()
    rig.fake.fail_next(
        "PATCH", EDITS, status, retry_after=0.05, times=times, scope=scope, is_global=scope == "global"
    )
    thread = await ask(rig, "where is ORD-10001?", ANSWER, tokens_per_second=40)
    assert_one_answer(rig, thread, ANSWER)
    failed = [c for c in rig.fake.calls("PATCH", EDITS) if c.status == status]
    assert len(failed) == times


@pytest.mark.parametrize(("status", "times"), [(429, 2), (502, 1)])
async def test_a_thread_that_failed_to_open_at_first_still_gets_the_one_answer(
    discord_rig: RigFactory, status: int, times: int
) -> None:
    rig = await discord_rig()
    rig.fake.fail_next("POST", THREADS, status, retry_after=0.05, times=times)
    thread = await ask(rig, "where is ORD-10001?", ANSWER)
    assert_one_answer(rig, thread, ANSWER)
    assert not rig.answers(rig.fake.support)


async def test_a_thread_discord_cannot_open_gets_the_answer_in_the_channel_once(
    discord_rig: RigFactory,
) -> None:
    rig = await discord_rig()
    rig.fake.fail_next("POST", THREADS, 503)
    rig.model.script(Reply.text(ANSWER, tokens_per_second=60))
    asked = await rig.mention(rig.fake.alice, "where is ORD-10001?")
    assert asked.id not in rig.fake.channels  # no thread
    assert_one_answer(rig, rig.fake.support, ANSWER)
    [reply] = rig.answers(rig.fake.support)
    assert reply.message_reference is not None and reply.message_reference.get("message_id") == str(asked.id)


async def test_votes_and_talk_to_a_human_are_recorded_when_discord_failed_their_posts_first(
    discord_rig: RigFactory, fake_discord: FakeDiscord
) -> None:
    rig = await discord_rig(**lead_tables(fake_discord))
    fake = rig.fake
    # The final edit, which adds the buttons, fails with a 503 first.
    fake.fail_next("PATCH", EDITS, 503, times=1)
    thread = await ask(rig, "I need a refund exception", ANSWER, tokens_per_second=300)
    assert_one_answer(rig, thread, ANSWER)
    [reply] = rig.answers(thread)
    reply_id = button(reply, "helpful").rsplit(":", 1)[1]
    assert await rig.click(fake.lead, reply, button(reply, "helpful")) == THANKS
    assert await rig.core.store.feedback_for(reply_id) == {str(fake.lead.id): True}

    # Asking for a human: the leads' notice is rate limited first, the thread's notice fails with a 503.
    leads = leads_channel(fake)
    fake.fail_next("POST", f"/channels/{leads.id}/messages", 429, retry_after=0.05)
    fake.fail_next("POST", f"/channels/{thread.id}/messages", 503)
    assert await rig.click(fake.alice, reply, button(reply, "escalate")) == ASKED
    [escalation] = await rig.core.store.open_escalations()
    ref = thread_ref(fake.guild.id, fake.support.id, thread.id)
    assert (escalation.ref, escalation.user_id) == (ref, str(fake.alice.id))
    [notice] = rig.answers(leads)
    assert f"Escalation #{escalation.id}" in notice.content
    assert [m.content for m in rig.answers(thread)] == [ANSWER, HANDED_OVER]
    assert await rig.core.store.feedback_for(reply_id) == {str(fake.lead.id): True}


async def test_several_threads_answered_through_bursts_of_429s_and_server_errors(
    discord_rig: RigFactory,
) -> None:
    rig = await discord_rig()
    fake = rig.fake
    count = 4
    answers = {
        n: f"Answer {n}: order ORD-{10000 + n} " + "is packed and ships tomorrow. " * 8 for n in range(count)
    }

    def respond(request: RecordedRequest) -> Reply:
        last = request.body["messages"][-1]["content"][0]["text"]
        return Reply.text(answers[int(last.rsplit(" ", 1)[1])].strip(), tokens_per_second=60)

    rig.model.responder = respond  # type: ignore[assignment]
    fake.fail_next("POST", THREADS, 429, retry_after=0.05, times=2, scope="shared")
    fake.fail_next("POST", POSTS, 503, times=2)
    fake.fail_next("POST", POSTS, 429, retry_after=0.1, is_global=True, scope="global")
    fake.fail_next("PATCH", EDITS, 429, retry_after=0.05, times=4)
    fake.fail_next("PATCH", EDITS, 503, times=3)
    people = [fake.add_member(fake.guild, f"user{n}") for n in range(count)]
    payloads = [
        fake.user_message(fake.support, people[n], f"{fake.bot_user.mention} where is my order {n}")
        for n in range(count)
    ]
    await asyncio.gather(*(rig.deliver(payload) for payload in payloads))
    for n, payload in enumerate(payloads):
        assert_one_answer(rig, fake.channels[int(payload["id"])], answers[n].strip())
    assert not rig.answers(fake.support)
