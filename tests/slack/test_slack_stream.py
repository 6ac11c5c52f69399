"""SlackReplyStream through the real slack_sdk client: what it sends, and Slack's answers as core errors."""

from __future__ import annotations

import pytest
from fakes.slack import FakeSlack, validate_blocks

from bot.streaming.protocol import DeliveryError, Footer, MessageGone, RateLimited, ReplyLimits
from bot.types import Source
from integrations.slack.blocks import ESCALATE, HELPFUL, NOT_HELPFUL, feedback_blocks, parse_vote
from integrations.slack.stream import Refused, SlackReplyStream

LIMITS = ReplyLimits(2900, 1.0)


def stream(fake: FakeSlack, channel: str, thread_ts: str | None = None) -> SlackReplyStream:
    return SlackReplyStream(fake.client(), channel_id=channel, thread_ts=thread_ts, limits=LIMITS)


async def test_post_in_the_thread_then_edit_with_sources_and_buttons(fake_slack: FakeSlack) -> None:
    channel = fake_slack.general.id
    asker = fake_slack.add_user(name="ann")
    question = fake_slack.post_as_user(channel, asker.id, "where is my order?").ts
    replies = stream(fake_slack, channel, question)
    # In a thread the status shows the answer being prepared: no placeholder message.
    assert replies.limits == ReplyLimits(2900, 1.0, placeholder=False)
    assert stream(fake_slack, fake_slack.add_dm(asker.id).id).limits == LIMITS  # a DM's top level keeps it

    ts = await replies.post("_Thinking…_")
    message = fake_slack.message(channel, ts)
    assert message.thread_ts == question and message.visible_text == "_Thinking…_"
    assert message.unfurl_links is False

    footer = Footer("ab" * 16, (Source("Returns <policy>", "https://help.example/returns?a=1&b=2"),))
    await replies.edit(ts, "It **shipped** @here", footer)
    blocks = fake_slack.message(channel, ts).blocks
    assert blocks is not None and validate_blocks(blocks) == []
    assert blocks[0]["text"]["text"] == "It *shipped* @\u2060here"
    assert blocks[1]["elements"][0]["text"] == (
        "Sources: <https://help.example/returns?a=1&amp;b=2|Returns &lt;policy&gt;>"
    )
    # Slack's own feedback buttons (only a context_actions block holds them), then "Talk to a human".
    [feedback] = blocks[2]["elements"]
    assert (blocks[2]["type"], feedback["type"]) == ("context_actions", "feedback_buttons")
    assert [feedback[side]["value"] for side in ("positive_button", "negative_button")] == [
        f"{HELPFUL}:{'ab' * 16}",
        f"{NOT_HELPFUL}:{'ab' * 16}",
    ]
    assert blocks[3]["type"] == "actions"
    assert [(b["action_id"], b["value"]) for b in blocks[3]["elements"]] == [(ESCALATE, "ab" * 16)]
    update = fake_slack.calls("chat.update")[-1]
    assert update.args["text"] == "It *shipped* @\u2060here"  # the notification text, formatted the same

    await replies.edit(ts, "Plain again")  # a footer-less edit replaces the blocks too
    assert fake_slack.message(channel, ts).visible_text == "Plain again"


async def test_a_top_level_dm_reply_has_no_thread(fake_slack: FakeSlack) -> None:
    ann = fake_slack.add_user(name="ann")
    dm = fake_slack.add_dm(ann.id)
    ts = await stream(fake_slack, dm.id).post("hello")
    assert fake_slack.message(dm.id, ts).thread_ts is None


async def test_slack_errors_become_core_delivery_errors(fake_slack: FakeSlack) -> None:
    channel = fake_slack.general.id
    replies = stream(fake_slack, channel)
    ts = await replies.post("first")

    fake_slack.fail_next("chat.update", status=429, retry_after=7)
    with pytest.raises(RateLimited) as limited:
        await replies.edit(ts, "x")
    assert limited.value.retry_after == 7.0

    fake_slack.fail_next("chat.postMessage", status=429, retry_after=2)
    with pytest.raises(RateLimited):
        await replies.post("x")

    for error in ("message_not_found", "cant_update_message", "edit_window_closed"):
        fake_slack.fail_next("chat.update", error=error)
        with pytest.raises(MessageGone):
            await replies.edit(ts, "x")

    fake_slack.fail_next("chat.update", status=500)
    with pytest.raises(DeliveryError) as server_error:
        await replies.edit(ts, "x")
    assert server_error.value.retryable and type(server_error.value) is DeliveryError

    with pytest.raises(Refused) as refused:
        await stream(fake_slack, "CNOPE").post("x")
    assert not refused.value.retryable
    assert fake_slack.visible_text(channel, ts) == "first"


async def test_a_network_failure_is_a_retryable_delivery_error(fake_slack: FakeSlack) -> None:
    replies = stream(fake_slack, fake_slack.general.id)
    ts = await replies.post("first")
    await fake_slack.close()
    with pytest.raises(DeliveryError) as failure:
        await replies.edit(ts, "x")
    assert failure.value.retryable


def test_feedback_buttons_go_only_in_a_context_actions_block_as_slack_requires() -> None:
    [feedback, talk] = feedback_blocks("r" * 32)
    assert validate_blocks([feedback, talk]) == []
    # Slack refuses an ordinary button in a context_actions block, and feedback buttons without a value.
    assert validate_blocks([{"type": "context_actions", "elements": talk["elements"]}]) == [
        "unsupported type: button [json-pointer:/blocks/0/elements/0/type]"
    ]
    del feedback["elements"][0]["negative_button"]["value"]
    assert validate_blocks([feedback]) == [
        "must be 1 to 2000 characters [json-pointer:/blocks/0/elements/0/negative_button/value]"
    ]
    assert parse_vote(f"{HELPFUL}:{'r' * 32}") == (True, "r" * 32)
    assert parse_vote(f"{NOT_HELPFUL}:{'r' * 32}") == (False, "r" * 32)
    assert parse_vote("something_else:r") is None and parse_vote(f"{HELPFUL}:") is None
