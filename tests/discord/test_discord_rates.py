"""Discord's rate limits, as the fake enforces them (5 posts and 5 edits per 5 s per channel), with the
repository's own [platforms.discord] facts: 429s never lose text, the budgets follow Discord's headers, and
replies streaming at once in one channel share its budget without a 429."""

from __future__ import annotations

import asyncio
import re

from fakes.anthropic import RecordedRequest, Reply
from fakes.discord import FakeDiscord

from integrations.discord.budgets import SLACK
from tests.discord.rig import RigFactory, assert_settled

EDITS = "/channels/{channel_id}/messages/{message_id}"
THREADS = "/channels/{channel_id}/messages/{message_id}/threads"


def answer_for(n: int, length: int) -> str:
    sentence = f"Reply {n}: your refund for order ORD-{10000 + n} is **approved** and on its way. "
    return (sentence * (length // len(sentence) + 1))[:length].rstrip() + "."


def respond_by_number(answers: dict[int, str], tokens_per_second: float) -> object:
    def respond(request: RecordedRequest) -> Reply:
        last = request.body["messages"][-1]["content"][0]["text"]
        match = re.search(r"question (\d+)", last)
        assert match is not None, last
        return Reply.text(answers[int(match.group(1))], tokens_per_second=tokens_per_second, chunk=8)

    return respond


async def test_429s_lose_no_text_whether_discord_py_or_the_core_retries(discord_rig: RigFactory) -> None:
    rig = await discord_rig(fast=False)
    fake = rig.fake
    answer = answer_for(1, 600)
    rig.model.script(
        Reply.text(answer, tokens_per_second=40, chunk=8),
        Reply.text("Yes, the refund is on its way.", tokens_per_second=100),
    )
    # Three 429s: discord.py waits each out and sends the same edit again.
    fake.fail_next("PATCH", EDITS, 429, retry_after=0.2, times=3)
    question = await rig.mention(fake.alice, "is my refund approved?")
    thread = rig.thread_of(question)
    [reply] = rig.answers(thread)
    assert reply.content == answer and reply.custom_ids()
    assert fake.rate_limited_count == 3

    # Five in a row: discord.py gives up, the core pauses the channel's budget and sends the whole text again.
    fake.reset_calls()
    fake.fail_next("POST", "/channels/*/messages", 429, retry_after=0.05, times=5)
    await rig.say(thread, fake.alice, "really?")
    assert rig.answers(thread)[-1].content == "Yes, the refund is on its way."
    posts = fake.calls("POST", "/channels/{channel_id}/messages")
    assert [c.status for c in posts] == [429] * 5 + [200]
    assert_settled(rig.answers(thread))


async def test_the_budgets_follow_discords_headers_and_stay_under_them(discord_rig: RigFactory) -> None:
    rig = await discord_rig(fast=False)
    fake = rig.fake
    fake.limits.message_edit = (3, 2.0)  # Discord decides; the bot reads it from the headers
    answer = answer_for(2, 800)
    rig.model.script(Reply.text(answer, tokens_per_second=30, chunk=8))  # about 3 s of streaming
    question = await rig.mention(fake.alice, "is my refund approved?")
    thread = rig.thread_of(question)
    [reply] = rig.answers(thread)
    assert reply.content == answer

    edits = rig.front.budgets.edits(str(thread.id))
    assert edits.burst == 1 and abs(edits.rate - 2 / (2.0 * (1 + SLACK))) < 1e-9
    calls = fake.calls("PATCH", EDITS)
    assert len(calls) >= 3 and fake.rate_limited_count == 0
    # Never to the last call of a window, so discord.py never had to sleep before the next edit.
    assert all(int(c.headers["X-RateLimit-Remaining"]) >= 1 for c in calls)


async def test_several_replies_stream_at_once_in_one_channel_without_a_429(
    discord_rig: RigFactory, fake_discord: FakeDiscord
) -> None:
    rig = await discord_rig(fast=False)
    fake = rig.fake
    count = 6
    answers = {n: answer_for(n, 400) for n in range(count)}
    rig.model.responder = respond_by_number(answers, 40)  # type: ignore[assignment]
    people = [fake.add_member(fake.guild, f"user{n}") for n in range(count)]
    payloads = [
        fake.user_message(fake.support, people[n], f"{fake.bot_user.mention} question {n}")
        for n in range(count)
    ]
    await asyncio.gather(*(rig.deliver(payload) for payload in payloads))

    assert fake.rate_limited_count == 0
    for n, payload in enumerate(payloads):
        thread = fake.channels[int(payload["id"])]
        [reply] = rig.answers(thread)
        assert reply.content == answers[n], n
        assert reply.versions[0].endswith(" ▍") and reply.custom_ids()
    assert len(fake.calls("POST", THREADS)) == count


async def test_replies_in_a_channel_without_threads_share_its_budget(discord_rig: RigFactory) -> None:
    rig = await discord_rig(fast=False)
    fake = rig.fake
    count = 3
    # The bot may not open threads here: the answers go to the channel, as replies to the questions.
    fake.fail_next("POST", THREADS, 403, times=count, body={"message": "Missing Permissions", "code": 50013})
    answers = {n: answer_for(n, 400) for n in range(count)}
    rig.model.responder = respond_by_number(answers, 15)  # type: ignore[assignment]
    payloads = [
        fake.user_message(fake.support, fake.alice, f"{fake.bot_user.mention} question {n}")
        for n in range(count)
    ]
    await asyncio.gather(*(rig.deliver(payload) for payload in payloads))

    assert fake.rate_limited_count == 0
    replies = rig.answers(fake.support)
    assert sorted(m.content for m in replies) == sorted(answers.values())
    for reply in replies:
        assert reply.message_reference is not None and not fake.pinged(reply)
    edits = fake.calls("PATCH", EDITS)
    assert all(int(c.headers["X-RateLimit-Remaining"]) >= 1 for c in edits)
    # Every reply streamed: more edits than finals, all on one channel's bucket.
    assert len(edits) > count and {c.params["channel_id"] for c in edits} == {str(fake.support.id)}
