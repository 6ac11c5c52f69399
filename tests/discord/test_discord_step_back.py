"""Who the bot answers in its threads: the asker without a mention, others only with one, and staff
taking over a thread makes it step back until it is mentioned or resumed there
(``integrations.discord.step_back``)."""

from __future__ import annotations

from fakes.anthropic import Reply
from fakes.discord import FakeDiscord

from tests.discord.rig import RigFactory


def leads(fake: FakeDiscord) -> dict[str, list[str]]:
    return {"lead_role_ids": [str(fake.lead_role.id)]}


async def test_a_bystander_is_answered_only_when_mentioning_the_bot_and_the_asker_without(
    discord_rig: RigFactory, fake_discord: FakeDiscord
) -> None:
    fake = fake_discord
    bob = fake.add_member(fake.guild, "bob")
    rig = await discord_rig(discord_roles=leads(fake))
    rig.model.script(
        Reply.text("Returns are free within 30 days."),
        Reply.text("Yes, also for sale items."),
        Reply.text("Exchanges work the same way."),
    )
    thread = rig.thread_of(await rig.mention(fake.alice, "how do returns work?"))

    await rig.say(thread, bob, "I have the same question about exchanges")
    assert len(rig.answers(thread)) == 1
    await rig.say(thread, fake.alice, "also for sale items?")
    assert [m.content for m in rig.answers(thread)][-1] == "Yes, also for sale items."
    await rig.say(thread, bob, f"{fake.bot_user.mention} and exchanges?")
    assert [m.content for m in rig.answers(thread)][-1] == "Exchanges work the same way."
    assert len(rig.model.message_requests) == 3


async def test_staff_writing_in_the_thread_makes_the_bot_step_back_until_mentioned_or_resumed(
    discord_rig: RigFactory, fake_discord: FakeDiscord
) -> None:
    fake = fake_discord
    rig = await discord_rig(discord_roles=leads(fake))
    rig.model.script(
        Reply.text("Sorry to hear that. What arrived damaged?"),
        Reply.text("The lead sent the replacement, it ships today."),
        Reply.text("Anything else I can help with?"),
    )
    thread = rig.thread_of(await rig.mention(fake.alice, "my order ORD-10001 arrived damaged"))

    await rig.say(thread, fake.lead, "Hi Alice, I'm on it: sending a replacement now.")
    await rig.say(thread, fake.alice, "thanks! when will it ship?")
    assert [m.content for m in rig.answers(thread)] == ["Sorry to hear that. What arrived damaged?"]
    assert len(rig.model.message_requests) == 1

    # Mentioned again: the bot answers, knowing what was said while it stood back.
    await rig.say(thread, fake.alice, f"{fake.bot_user.mention} when will it ship?")
    assert rig.answers(thread)[-1].content == "The lead sent the replacement, it ships today."
    sent = str(rig.model.message_requests[-1].body["messages"])
    assert "sending a replacement now" in sent and "thanks! when will it ship?" in sent

    await rig.say(thread, fake.lead, "Tracking number is in your email.")
    await rig.say(thread, fake.alice, "got it")
    assert len(rig.model.message_requests) == 2
    assert await rig.command(fake.lead, "resume", channel=thread) == "I'm answering in this thread again."
    await rig.say(thread, fake.alice, "one more thing")
    assert rig.answers(thread)[-1].content == "Anything else I can help with?"


async def test_with_step_back_off_a_leads_message_is_like_anyone_elses(
    discord_rig: RigFactory, fake_discord: FakeDiscord
) -> None:
    fake = fake_discord
    rig = await discord_rig(discord_roles=leads(fake), channels={str(fake.support.id): {"step_back": False}})
    rig.model.script(Reply.text("Returns are free within 30 days."), Reply.text("Within 5 days."))
    thread = rig.thread_of(await rig.mention(fake.alice, "how do returns work?"))

    await rig.say(thread, fake.lead, "Adding: the label is prepaid.")
    await rig.say(thread, fake.alice, "how fast is the refund?")
    assert [m.content for m in rig.answers(thread)] == ["Returns are free within 30 days.", "Within 5 days."]
    assert len(rig.model.message_requests) == 2
