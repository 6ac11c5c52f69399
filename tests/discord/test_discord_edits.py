"""Edited questions (MESSAGE_UPDATE): an edit before the answer is final restarts it with the new text; a
later edit is answered as a follow-up; at most ``MAX_EDIT_ANSWERS`` edits of one message are answered
(``integrations.discord.answering.Answerer.revise``)."""

from __future__ import annotations

from fakes.anthropic import Reply
from fakes.discord import FakeDiscord

from integrations.discord.answering import MAX_EDIT_ANSWERS
from tests.discord.rig import RigFactory, assert_settled


def last_question(rig: object) -> str:
    """The text of the last user message in the model's last request."""
    message = rig.model.message_requests[-1].body["messages"][-1]  # type: ignore[attr-defined]
    return "\n".join(block["text"] for block in message["content"] if block.get("type") == "text")


async def test_an_edit_while_the_answer_streams_restarts_it_with_the_new_text(
    discord_rig: RigFactory, fake_discord: FakeDiscord
) -> None:
    fake = fake_discord
    rig = await discord_rig()
    slow = "Orders usually ship within two days of payment. " * 12
    rig.model.script(
        Reply.text(slow, tokens_per_second=20, chunk=4),
        Reply.text("Returns are free within 30 days."),
    )
    question = await fake.post_as_user(
        fake.support, fake.alice, f"{fake.bot_user.mention} when do orders ship?"
    )
    thread = await fake.wait_for(lambda: fake.channels.get(question.id), what="the thread")
    first = await fake.wait_for(lambda: rig.answers(thread), what="the first text")

    await rig.edit(question, f"{fake.bot_user.mention} how do returns work?")

    assert [m.content for m in rig.answers(thread)] == ["Returns are free within 30 days."]
    assert all(m.deleted for m in first)  # the cancelled answer is gone, not left half-written
    assert_settled(fake.messages(thread, include_deleted=True)[-1:])
    assert len(rig.model.message_requests) == 2
    assert last_question(rig).endswith("how do returns work?") and "ship" not in last_question(rig)


async def test_an_edit_after_the_answer_is_answered_as_a_follow_up_a_bounded_number_of_times(
    discord_rig: RigFactory, fake_discord: FakeDiscord
) -> None:
    fake = fake_discord
    rig = await discord_rig()
    answers = [f"Answer {n}." for n in range(MAX_EDIT_ANSWERS + 1)]
    rig.model.script(*(Reply.text(text) for text in answers))
    question = await rig.mention(fake.alice, "when do orders ship?")
    thread = rig.thread_of(question)

    await rig.edit(question, f"{fake.bot_user.mention} when do orders to Canada ship?")
    assert [m.content for m in rig.answers(thread)] == answers[:2]
    assert last_question(rig).endswith("when do orders to Canada ship?")
    for n in range(2, MAX_EDIT_ANSWERS + 2):
        await rig.edit(question, f"{fake.bot_user.mention} edit {n}")
    assert [m.content for m in rig.answers(thread)] == answers  # the edit past the bound is left alone
    assert len(rig.model.message_requests) == MAX_EDIT_ANSWERS + 1


async def test_an_edit_in_a_thread_is_answered_where_it_was_written(
    discord_rig: RigFactory, fake_discord: FakeDiscord
) -> None:
    fake = fake_discord
    rig = await discord_rig()
    rig.model.script(Reply.text("Within two days."), Reply.text("Yes, to Canada too."), Reply.text("Free."))
    thread = rig.thread_of(await rig.mention(fake.alice, "when do orders ship?"))
    follow_up = await rig.say(thread, fake.alice, "and to canada?")
    await rig.edit(follow_up, "and is shipping free?")
    assert [m.content for m in rig.answers(thread)] == ["Within two days.", "Yes, to Canada too.", "Free."]
    assert last_question(rig).endswith("and is shipping free?") and "canada" not in last_question(rig)
