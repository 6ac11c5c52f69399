"""A Discord message whose image the model API refuses (400): that answer fails with a short notice, and
the follow-ups in the thread are answered without sending that image again (a note stands in for it),
through discord.py, the anthropic SDK and the fakes."""

from __future__ import annotations

import base64

from fakes.anthropic import RecordedRequest, Reply

from bot.agent.loop import IMAGES_LEFT_OUT, REJECTED_IMAGE_NOTICE
from tests.discord.rig import PNG, RigFactory, assert_settled

BAD_IMAGE = "messages.0.content.1.image.source: Unable to process the image: too large"


def image_data(request: RecordedRequest) -> list[str]:
    """The base64 data of the images sent with ``request``."""
    return [
        block["source"]["data"]
        for message in request.messages
        for block in message["content"]
        if isinstance(block, dict) and block.get("type") == "image"
    ]


def texts(request: RecordedRequest) -> str:
    return "\n".join(
        block.get("text", "")
        for message in request.messages
        for block in message["content"]
        if isinstance(block, dict)
    )


async def test_an_image_the_model_refused_is_not_sent_again_with_the_follow_ups(
    discord_rig: RigFactory,
) -> None:
    rig = await discord_rig()
    fake = rig.fake
    huge = fake.attachment(fake.support, "huge.png", PNG + b"huge", "image/png")
    rig.model.script(
        Reply.status(400, message=BAD_IMAGE),
        Reply.text("Error 51 means the bank declined the card.", tokens_per_second=200),
        Reply.text("That screenshot shows the same error.", tokens_per_second=200),
    )

    question = await rig.say(
        fake.support, fake.alice, f"{fake.bot_user.mention} what is wrong here?", attachments=[huge]
    )
    thread = rig.thread_of(question)
    await rig.say(thread, fake.alice, "it says error 51 at checkout")
    small = fake.attachment(thread, "small.png", PNG + b"small", "image/png")
    await rig.say(thread, fake.alice, "and this one?", attachments=[small])

    refused, answered, last = rig.answers(thread)
    assert_settled([refused, answered, last])
    assert refused.content == f"_{REJECTED_IMAGE_NOTICE}_"
    assert answered.content == "Error 51 means the bank declined the card."
    assert last.content == "That screenshot shows the same error."
    first, second, third = rig.model.message_requests
    assert image_data(first) == [base64.b64encode(PNG + b"huge").decode()]
    assert image_data(second) == [] and IMAGES_LEFT_OUT in texts(second)
    assert image_data(third) == [base64.b64encode(PNG + b"small").decode()]  # not the refused one
    assert texts(third).count(IMAGES_LEFT_OUT) == 1
