"""Marking a thread solved: the "Mark solved" button under an answer and the "Mark solved" message command
(``integrations.discord.solved``), by the asker or staff; forum posts get their solved tag and close."""

from __future__ import annotations

from fakes.anthropic import Reply
from fakes.discord import FakeDiscord, FakeMessage

from integrations.discord.solved import ALREADY_SOLVED, NOT_YOURS, SOLVED
from tests.discord.rig import RigFactory


def solve_button(message: FakeMessage) -> str:
    [found] = [c for c in message.custom_ids() if c.startswith("supportbot:solve:")]
    return found


async def test_the_asker_marks_a_forum_post_solved_with_the_button_under_the_answer(
    discord_rig: RigFactory, fake_discord: FakeDiscord
) -> None:
    fake = fake_discord
    bob = fake.add_member(fake.guild, "bob")
    forum = {str(fake.forum.id): {"forum": True, "solved_tag": "resolved"}}
    rig = await discord_rig(discord_roles={"lead_role_ids": [str(fake.lead_role.id)]}, channels=forum)
    rig.model.script(Reply.text("Returns are free within 30 days."))
    post = await fake.forum_post(fake.forum, fake.alice, "Returns", "How do returns work?", tags=["question"])
    await rig.wait_seen(post.message.id)
    [answer] = rig.answers(post.thread)
    reply_id = answer.custom_ids()[0].rsplit(":", 1)[1]
    assert answer.custom_ids()[-1] == f"supportbot:solve:{reply_id}"

    assert await rig.click(bob, answer, solve_button(answer)) == NOT_YOURS
    assert not answer.reactions and not post.thread.archived
    assert await rig.click(fake.alice, answer, solve_button(answer)) == SOLVED
    assert answer.reactions == {"✅": {fake.bot_user.id}}
    assert post.thread.applied_tags == [fake.forum.tag_id("question"), fake.forum.tag_id("resolved")]
    assert post.thread.archived
    assert await rig.click(fake.alice, answer, solve_button(answer)) == ALREADY_SOLVED
    stats = await rig.command(fake.lead, "stats")
    assert "• Solved threads: 1" in stats


async def test_staff_mark_a_thread_solved_with_the_message_command_on_any_message(
    discord_rig: RigFactory, fake_discord: FakeDiscord
) -> None:
    fake = fake_discord
    rig = await discord_rig(discord_roles={"lead_role_ids": [str(fake.lead_role.id)]})
    rig.model.script(Reply.text("Try restarting the router."))
    question = await rig.mention(fake.alice, "my internet is down")
    thread = rig.thread_of(question)
    fix = await rig.say(thread, fake.lead, "It was the router's firmware: updating it fixed it.")
    [menu] = [c for c in fake.commands(fake.guild) if c["type"] == 3]
    assert menu["name"] == "Mark solved" and menu["description"] == ""

    interaction = await fake.message_command(fix, fake.lead, "Mark solved")
    assert await rig.private_reply(interaction) == SOLVED
    assert fix.reactions == {"✅": {fake.bot_user.id}}
    assert not thread.archived  # only forum posts are closed
    assert "• Solved threads: 1" in await rig.command(fake.lead, "stats")
