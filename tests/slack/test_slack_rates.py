"""Slack's rate limits, as the fake enforces them, with the repository's own [platforms.slack] facts:
429s never lose text, and replies streaming at once share the workspace's chat.update budget."""

from __future__ import annotations

import asyncio
import itertools
import re

from fakes.anthropic import RecordedRequest, Reply

from integrations.slack.mrkdwn import to_mrkdwn
from tests.slack.rig import RigFactory, buttons, section_text


def answer_for(n: int, length: int) -> str:
    sentence = f"Thread {n}: your refund for order ORD-{10000 + n} is **approved** and on its way. "
    return (sentence * (length // len(sentence) + 1))[:length].rstrip() + "."


async def test_a_429_storm_loses_no_text_and_retry_after_is_honoured(slack_rig: RigFactory) -> None:
    rig = await slack_rig(fast=False)
    answer = answer_for(1, 1200)
    rig.model.script(Reply.text(answer, tokens_per_second=40, chunk=8))  # about 4 s of streaming
    rig.fake.fail_next("chat.postMessage", status=429, retry_after=1)
    rig.fake.fail_next("chat.update", status=429, retry_after=1, times=3)
    ann = rig.user("ann")
    post = await rig.mention(ann, "is my refund approved?")
    await rig.settle()

    [reply] = rig.bot_messages(rig.fake.general.id, post.ts)
    assert section_text(reply) == to_mrkdwn(answer)
    assert buttons(reply)
    assert rig.fake.rate_limited_count == 4  # the injected ones; none from the limiters themselves
    calls = [c for c in rig.fake.calls() if c.method in ("chat.postMessage", "chat.update")]
    for refused, after in itertools.pairwise(calls):
        if refused.status == 429:
            assert after.time - refused.time >= 1.0 - 0.05  # nothing sent before Retry-After was up


async def test_many_threads_streaming_at_once_share_the_budget_without_429s(slack_rig: RigFactory) -> None:
    rig = await slack_rig(fast=False)
    channels = [rig.fake.general.id] + [rig.fake.add_channel(name=f"help-{i}").id for i in range(3)]
    threads = 8
    answers = {n: answer_for(n, 1200) for n in range(threads)}

    def respond(request: RecordedRequest) -> Reply:
        last = request.body["messages"][-1]["content"][-1]["text"]
        match = re.search(r"question (\d+)", last)
        assert match is not None, last
        return Reply.text(answers[int(match.group(1))], tokens_per_second=60, chunk=8)

    rig.model.responder = respond
    people = [rig.user(f"user{n}") for n in range(threads)]
    posts = await asyncio.gather(
        *(
            rig.mention(people[n], f"question {n}", channel=channels[n % len(channels)])
            for n in range(threads)
        )
    )
    await rig.settle()

    assert rig.fake.rate_limited_count == 0
    for n, post in enumerate(posts):
        [reply] = rig.bot_messages(channels[n % len(channels)], post.ts)
        assert section_text(reply) == to_mrkdwn(answers[n]), n
        assert "▍" not in reply.visible_text and buttons(reply)
        # The first text was the post (no placeholder), and the text grew until the final one.
        assert all(v.endswith(" ▍") for v in reply.versions[:-1])
    updates = sorted(c.time for c in rig.fake.calls("chat.update"))
    assert all(later - earlier >= 60 for earlier, later in zip(updates, updates[50:], strict=False))
