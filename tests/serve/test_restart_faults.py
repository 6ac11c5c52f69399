"""`supportbot serve` killed with ``kill -9`` while several answers are streaming in several threads, then
started again on the same store: every cut-off answer is settled with the interrupted notice (nothing is
left showing "Thinking…" or the in-progress marker), what was recorded before the crash (a vote, an
escalation, the tool-call audit) is all still there, and questions asked after the restart are answered.
"""

from __future__ import annotations

import asyncio
import re
import signal
import tomllib
from pathlib import Path

from fakes.anthropic import FakeAnthropic, RecordedRequest, Reply
from fakes.slack import FakeSlack

from bot.streaming.reply import DEFAULT_MARKER, INTERRUPTED_NOTICE
from integrations.slack.blocks import ESCALATE, HELPFUL
from tests.serve.rig import ROOT
from tests.serve.test_serve import ask, click, replies, slack_bot, stored
from tests.slack.rig import buttons, section_text, toml_text

MARKER = DEFAULT_MARKER.strip()
IN_FLIGHT = 3


def slow_answer(n: int) -> str:
    return " ".join([f"Answer {n}: order ORD-1000{n} left our warehouse on Monday and is on its way."] * 8)


async def test_several_replies_cut_off_by_kill_9_are_settled_and_earlier_records_survive(
    tmp_path: Path, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    bot, sender = await slack_bot(tmp_path, fake_slack, fake_anthropic)
    ann = fake_slack.add_user(name="ann")
    # Before the crash: an answer that looked an order up (audited), a vote on it and an escalation.
    fake_anthropic.script(
        Reply.tool_use(("lookup_order", {"order_id": "ORD-10001"})),
        Reply.text("Order ORD-10001 is on its way."),
    )
    first_ts = await ask(fake_slack, sender, ann.id)
    await fake_slack.wait_for(
        lambda: any(buttons(m) for m in replies(fake_slack, first_ts)), seconds=30, what="the first answer"
    )
    [answer] = replies(fake_slack, first_ts)
    for action in (HELPFUL, ESCALATE):
        await click(fake_slack, sender, ann.id, answer, action)
    await fake_slack.wait_for(lambda: len(fake_slack.bot_messages()) >= 2, what="the handed-over notice")
    [reply_id] = [value for action, value in buttons(answer) if action == HELPFUL]
    store = await stored(tmp_path)
    try:
        audit_before = await store.tool_calls()
        assert [row.tool for row in audit_before] == ["lookup_order"]
        assert await store.feedback_for(reply_id) == {ann.id: True}
        [escalation] = await store.open_escalations()
    finally:
        await store.close()

    # Several slow answers streaming at once in several threads, cut off by kill -9.
    def respond(request: RecordedRequest) -> Reply:
        last = request.body["messages"][-1]["content"][-1]["text"]
        match = re.search(r"question (\d+)", last)
        if match is None:
            return Reply.text("Yes, it is on its way.")
        return Reply.text(slow_answer(int(match.group(1))), chunk=8, delay=0.1)

    fake_anthropic.responder = respond
    people = [fake_slack.add_user(name=f"user{n}") for n in range(IN_FLIGHT)]
    threads = await asyncio.gather(
        *(ask(fake_slack, sender, people[n].id, f"<@U0BOT> question {n}") for n in range(IN_FLIGHT))
    )

    def streaming() -> bool:
        shown = [section_text(m) for ts in threads for m in replies(fake_slack, ts)]
        return len(shown) == IN_FLIGHT and all(t.startswith("Answer") and t.endswith(MARKER) for t in shown)

    await fake_slack.wait_for(streaming, seconds=30, what="every answer streaming")
    store = await stored(tmp_path)
    try:
        for _ in range(1000):  # recorded just after each reply's first message is posted
            if len(await store.pending_replies("slack")) == IN_FLIGHT:
                break
            await asyncio.sleep(0.01)
        assert len(await store.pending_replies("slack")) == IN_FLIGHT
    finally:
        await store.close()
    assert await bot.stop(signal.SIGKILL) == -signal.SIGKILL

    restarted, sender = await slack_bot(tmp_path, fake_slack, fake_anthropic)
    try:
        for n, ts in enumerate(threads):
            [cut] = replies(fake_slack, ts)
            text = section_text(cut)
            assert text.startswith(f"Answer {n}: ") and text.endswith(f"\n\n{INTERRUPTED_NOTICE}"), text
            assert MARKER not in text and "Thinking" not in text
        [settled] = replies(fake_slack, first_ts)[:1]
        assert section_text(settled) == "Order ORD-10001 is on its way."
        store = await stored(tmp_path)
        try:
            assert await store.pending_replies("slack") == []
            assert await store.feedback_for(reply_id) == {ann.id: True}
            assert await store.open_escalations() == [escalation]
            assert await store.tool_calls() == audit_before
        finally:
            await store.close()

        # Asked again after the restart: answered normally.
        again = await ask(fake_slack, sender, people[0].id, "<@U0BOT> is it still on its way?")
        await fake_slack.wait_for(
            lambda: any(buttons(m) for m in replies(fake_slack, again)), seconds=30, what="the new answer"
        )
        assert [section_text(m) for m in replies(fake_slack, again)] == ["Yes, it is on its way."]
    finally:
        assert await restarted.stop() == 0
    for message in fake_slack.bot_messages():
        assert MARKER not in message.visible_text and "Thinking" not in message.visible_text
    assert_no_duplicates(fake_slack, [first_ts, *threads])


def assert_no_duplicates(fake_slack: FakeSlack, threads: list[str]) -> None:
    """One answer per question: the first thread holds the answer and the handed-over notice only."""
    assert len(replies(fake_slack, threads[0])) == 2
    for ts in threads[1:]:
        assert len(replies(fake_slack, ts)) == 1


async def test_a_long_answer_cut_off_in_its_second_message_is_settled_where_it_stopped(
    tmp_path: Path, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    """A long answer continues in a new message; killed while that one streams, the restart settles it
    (its text plus the notice) and the message before keeps its finished text: no marker anywhere."""
    config = tomllib.loads((ROOT / "config" / "bot.toml").read_text(encoding="utf-8"))
    config["platforms"]["slack"]["max_message_chars"] = 300  # a long answer after a few lines
    (tmp_path / "bot.toml").write_text(toml_text(config), encoding="utf-8")
    bot, sender = await slack_bot(
        tmp_path, fake_slack, fake_anthropic, BOT_CONFIG_PATH=str(tmp_path / "bot.toml")
    )
    steps = "\n\n".join(
        f"Step {n}: open the order page and check the parcel's status again." for n in range(30)
    )
    fake_anthropic.script(Reply.text(steps, chunk=8, delay=0.05))
    thread = await ask(fake_slack, sender, fake_slack.add_user(name="ann").id)

    def second_streaming() -> bool:
        shown = [section_text(m) for m in replies(fake_slack, thread)]
        return len(shown) == 2 and shown[1].startswith("Step") and shown[1].endswith(MARKER)

    await fake_slack.wait_for(second_streaming, seconds=30, what="the second message streaming")
    store = await stored(tmp_path)
    try:
        second = replies(fake_slack, thread)[1].ts
        for _ in range(1000):  # the pending reply names the newest message once it is recorded
            if [p.message_ref for p in await store.pending_replies("slack")] == [second]:
                break
            await asyncio.sleep(0.01)
    finally:
        await store.close()
    assert await bot.stop(signal.SIGKILL) == -signal.SIGKILL

    restarted, _ = await slack_bot(
        tmp_path, fake_slack, fake_anthropic, BOT_CONFIG_PATH=str(tmp_path / "bot.toml")
    )
    try:
        first, cut = [section_text(m) for m in replies(fake_slack, thread)]
        assert first.startswith("Step 0: ") and MARKER not in first and INTERRUPTED_NOTICE not in first
        assert cut.startswith("Step") and cut.endswith(f"\n\n{INTERRUPTED_NOTICE}") and MARKER not in cut
    finally:
        assert await restarted.stop() == 0
