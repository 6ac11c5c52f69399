"""A channel a lead paused on Discord: nothing is answered there, but the bot's record of its threads stays
complete (``bot.gate``, the same decision as on Slack)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fakes.anthropic import Reply

from tests.discord.rig import DiscordRig, RigFactory

if TYPE_CHECKING:
    from fakes.discord import FakeDiscord


def last_request_text(rig: DiscordRig) -> str:
    """The text of the last message in the model's last request."""
    message = rig.model.message_requests[-1].body["messages"][-1]
    return "\n".join(block["text"] for block in message["content"] if block.get("type") == "text")


async def test_a_message_in_a_paused_channel_is_not_answered_and_the_answer_after_resume_knows_it(
    discord_rig: RigFactory, fake_discord: FakeDiscord
) -> None:
    fake = fake_discord
    rig = await discord_rig(discord_roles={"lead_role_ids": [str(fake.lead_role.id)]})
    rig.model.script(
        Reply.text("Sorry to hear that. What arrived damaged?", tokens_per_second=200),
        Reply.text("A replacement mug is on its way.", tokens_per_second=200),
    )
    question = await rig.mention(fake.alice, "my order ORD-10001 arrived damaged")
    thread = rig.thread_of(question)
    paused = await rig.command(fake.lead, "pause")
    assert paused == f"I'm paused in <#{fake.support.id}> until a lead runs `/support resume` there."

    await rig.say(thread, fake.alice, "the box was crushed and the mug is broken")
    assert [m.content for m in rig.answers(thread)] == ["Sorry to hear that. What arrived damaged?"]
    assert len(rig.model.message_requests) == 1

    assert await rig.command(fake.lead, "resume") == f"I'm answering in <#{fake.support.id}> again."
    # Discord cannot be read this time: the answer is built from the bot's own record of the thread,
    # which has the message written while the channel was paused.
    fake.fail_next("GET", f"/channels/{thread.id}/messages", 403)
    await rig.say(thread, fake.alice, "any news?")
    assert rig.answers(thread)[-1].content == "A replacement mug is on its way."
    assert last_request_text(rig) == "alice: the box was crushed and the mug is broken\n\nany news?"
