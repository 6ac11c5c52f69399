"""Feedback and escalation buttons, the leads' channel, forum posts marked solved, and /support as a lead
and as anyone else."""

from __future__ import annotations

import copy
from typing import Any

from fakes.anthropic import Reply
from fakes.discord import FakeChannel, FakeDiscord, FakeMember, FakeMessage

from bot.buttons import ALREADY_ASKED, ASKED, LEADS_ONLY, NOT_YOURS, THANKS
from bot.escalations import handed_over_text, resolved_text
from bot.support_commands import REFUSAL, help_text
from integrations.discord.commands import DISCORD_DIALECT
from integrations.discord.inbound import thread_ref, web_link
from integrations.discord.markup import DISCORD_MARKUP
from tests.discord.rig import DiscordRig, RigFactory

HANDED_OVER = handed_over_text(DISCORD_MARKUP)
RESOLVED = resolved_text(DISCORD_MARKUP)
HELP = help_text(DISCORD_DIALECT)


def lead_tables(fake: FakeDiscord, **channels: dict[str, Any]) -> dict[str, Any]:
    leads = fake.add_text_channel(fake.guild, "support-leads")
    return {
        "discord_roles": {"lead_role_ids": [str(fake.lead_role.id)], "leads_channel_id": str(leads.id)},
        "channels": channels,
    }


def leads_channel(fake: FakeDiscord) -> FakeChannel:
    return next(c for c in fake.channels.values() if c.name == "support-leads")


async def answered(
    rig: DiscordRig, member: FakeMember, question: str, answer: str
) -> tuple[FakeChannel, FakeMessage]:
    rig.model.script(Reply.text(answer, tokens_per_second=300))
    asked = await rig.mention(member, question)
    thread = rig.thread_of(asked)
    return thread, rig.answers(thread)[-1]


def button(message: FakeMessage, action: str) -> str:
    return next(custom_id for custom_id in message.custom_ids() if custom_id.split(":")[1] == action)


async def test_feedback_buttons_record_one_vote_per_person(discord_rig: RigFactory) -> None:
    rig = await discord_rig()
    fake = rig.fake
    _, reply = await answered(rig, fake.alice, "how do returns work?", "Returns are free within 30 days.")
    reply_id = button(reply, "helpful").rsplit(":", 1)[1]

    assert await rig.click(fake.alice, reply, button(reply, "helpful")) == THANKS
    assert await rig.click(fake.lead, reply, button(reply, "not_helpful")) == THANKS
    votes = {str(fake.alice.id): True, str(fake.lead.id): False}
    assert await rig.core.store.feedback_for(reply_id) == votes
    assert await rig.click(fake.alice, reply, button(reply, "not_helpful")) == THANKS  # replaces the vote
    assert (await rig.core.store.feedback_for(reply_id))[str(fake.alice.id)] is False
    assert reply.content == "Returns are free within 30 days."  # the answer itself is untouched


async def test_the_buttons_of_an_earlier_run_still_work(
    discord_rig: RigFactory, fake_discord: FakeDiscord
) -> None:
    rig = await discord_rig()
    _, reply = await answered(rig, fake_discord.alice, "returns?", "Returns are free within 30 days.")
    await rig.front.stop(1.0)
    restarted = await discord_rig()
    custom_id = button(reply, "helpful")
    assert await restarted.click(fake_discord.alice, reply, custom_id) == THANKS
    assert await restarted.core.store.feedback_for(custom_id.rsplit(":", 1)[1]) == {
        str(fake_discord.alice.id): True
    }


async def test_talk_to_a_human_escalates_and_the_bot_steps_back_until_a_lead_resolves(
    discord_rig: RigFactory, fake_discord: FakeDiscord
) -> None:
    rig = await discord_rig(**lead_tables(fake_discord))
    fake = rig.fake
    thread, reply = await answered(rig, fake.alice, "I need a refund exception", "Exceptions need a lead.")
    ref = thread_ref(fake.guild.id, fake.support.id, thread.id)

    assert await rig.click(fake.alice, reply, button(reply, "escalate")) == ASKED
    [escalation] = await rig.core.store.open_escalations()
    assert (escalation.ref, escalation.user_id) == (ref, str(fake.alice.id))
    [notice] = rig.answers(leads_channel(fake))
    link = web_link(str(fake.guild.id), str(thread.id))
    assert notice.content.startswith(
        f"🚨 **Escalation #{escalation.id}**: alice (customer) needs a human in [this thread](<{link}>) "
        f"in <#{fake.support.id}>.\n> alice asked for a human"
    )
    assert notice.custom_ids() == [f"supportbot:resolve:{ref.key}"] and not fake.pinged(notice)
    assert rig.answers(thread)[-1].content == HANDED_OVER
    assert await rig.click(fake.alice, reply, button(reply, "escalate")) == ALREADY_ASKED
    assert len(rig.answers(leads_channel(fake))) == 1

    await rig.say(thread, fake.alice, "hello? anyone?")
    await rig.say(thread, fake.lead, "Hi Alice, I'm the lead; I'll sort out your refund.")
    assert len(rig.model.message_requests) == 1  # the bot stayed quiet

    resolve = notice.custom_ids()[0]
    stale = copy.deepcopy(notice)  # as a second lead's Discord still shows it
    assert await rig.click(fake.alice, notice, resolve) == LEADS_ONLY
    assert await rig.click(fake.lead, notice, resolve) == "Resolved 1 escalation(s)."
    assert not await rig.core.store.is_escalated(ref)
    assert rig.answers(thread)[-1].content == RESOLVED
    # The notice says who resolved it, and offers a KB draft instead of the button.
    [notice] = rig.answers(leads_channel(fake))
    assert notice.content.endswith(f"\n✅ Resolved by <@{fake.lead.id}>") and not fake.pinged(notice)
    assert notice.custom_ids() == [f"supportbot:draft_kb:{ref.key}"]
    assert await rig.click(fake.lead, stale, resolve) == "That escalation was already resolved."

    rig.model.script(Reply.text("Glad the lead could help!", tokens_per_second=300))
    await rig.say(thread, fake.alice, "thanks, all sorted")
    said = [
        b["text"]
        for m in rig.model.message_requests[-1].body["messages"]
        for b in m["content"]
        if "text" in b
    ]
    print(said)
    assert any("Team Lead: Hi Alice, I'm the lead" in text for text in said)  # the human's reply is history
    assert said[-1] == "alice: thanks, all sorted"
    assert rig.answers(thread)[-1].content == "Glad the lead could help!"


async def test_only_the_asker_or_staff_can_ask_for_a_human_under_an_answer(
    discord_rig: RigFactory, fake_discord: FakeDiscord
) -> None:
    rig = await discord_rig(**lead_tables(fake_discord))
    fake = rig.fake
    bob = fake.add_member(fake.guild, fake.add_user("bob"))  # another community member, reading along
    thread, reply = await answered(rig, fake.alice, "my parcel is lost", "I'm sorry to hear that.")
    ref = thread_ref(fake.guild.id, fake.support.id, thread.id)

    assert await rig.click(bob, reply, button(reply, "escalate")) == NOT_YOURS
    assert await rig.core.store.open_escalations() == []
    assert not await rig.core.store.is_escalated(ref)
    assert rig.answers(leads_channel(fake)) == []
    assert [m.content for m in rig.answers(thread)] == ["I'm sorry to hear that."]

    assert await rig.click(fake.alice, reply, button(reply, "escalate")) == ASKED
    [escalation] = await rig.core.store.open_escalations()
    assert escalation.user_id == str(fake.alice.id)
    assert await rig.click(fake.lead, reply, button(reply, "escalate")) == ALREADY_ASKED  # staff may


async def test_the_model_escalates_a_forum_post_and_resolving_marks_it_solved(
    discord_rig: RigFactory, fake_discord: FakeDiscord
) -> None:
    forum = {str(fake_discord.forum.id): {"forum": True, "solved_tag": "resolved"}}
    rig = await discord_rig(**lead_tables(fake_discord, **forum))
    fake = rig.fake
    rig.model.script(
        Reply.tool_use(("escalate_to_human", {"summary": "Wants a refund after 60 days @everyone"})),
        Reply.text("I've asked a support lead to help you here.", tokens_per_second=300),
    )
    post = await fake.forum_post(
        fake.forum, fake.alice, "Old order", "A refund for an old order?", tags=["question"]
    )
    await rig.wait_seen(post.message.id)
    [notice] = rig.answers(leads_channel(fake))
    assert "needs a human in [this thread]" in notice.content
    assert "> Wants a refund after 60 days @\u200beveryone" in notice.content and not fake.pinged(notice)

    reply = await rig.command(fake.lead, "resolve", channel=post.thread)
    assert reply == "Resolved 1 escalation(s); I answer in that thread again."
    assert rig.answers(post.thread)[-1].content == RESOLVED
    assert post.thread.applied_tags == [fake.forum.tag_id("question"), fake.forum.tag_id("resolved")]
    assert post.thread.archived


LEAD_COMMANDS: list[tuple[tuple[str, ...], dict[str, Any], str]] = [
    (("stats",), {}, "stats"),
    (("escalations",), {}, "escalations"),
    (("unlink",), {"user": "alice"}, "unlink"),
    (("kb", "reload"), {}, "kb reload"),
    (("pause",), {}, "pause"),
    (("resume",), {}, "resume"),
    (("resolve",), {"target": "#1"}, "resolve"),
]


async def test_support_commands_for_a_lead(discord_rig: RigFactory, fake_discord: FakeDiscord) -> None:
    rig = await discord_rig(**lead_tables(fake_discord))
    fake = rig.fake
    _, reply = await answered(rig, fake.alice, "returns?", "Returns are free within 30 days.")
    await rig.click(fake.alice, reply, button(reply, "helpful"))
    await rig.click(fake.alice, reply, button(reply, "escalate"))

    assert await rig.command(fake.lead, "help") == HELP
    stats = await rig.command(fake.lead, "stats", days=3)
    assert stats.startswith("**Discord, the last 3 day(s)**")
    assert "• Answers: 1 (0 without the AI model); 0 failed" in stats
    assert "• Feedback: 1 helpful, 0 not helpful" in stats and "• Escalations: 1 opened; 1 open now" in stats
    assert f"**Per channel**\n• <#{fake.support.id}> 1 questions, 1 answers" in stats
    escalations = await rig.command(fake.lead, "escalations")
    assert escalations.startswith("**1 open escalation(s)**\n• **#1** in [this thread](<https://discord.com/")
    assert f"by <@{fake.alice.id}>: alice asked for a human" in escalations

    linked = await rig.command(fake.lead, "link", user=fake.alice, customer_id="C-1001")
    assert linked == f"Linked <@{fake.alice.id}> to customer `C-1001`."
    assert await rig.core.store.customer_for("discord", str(fake.alice.id)) == "C-1001"
    assert await rig.command(fake.lead, "unlink", user=fake.alice) == f"Unlinked <@{fake.alice.id}>."
    not_linked = f"<@{fake.alice.id}> was not linked to a customer."
    assert await rig.command(fake.lead, "unlink", user=fake.alice) == not_linked
    bad = await rig.command(fake.lead, "link", user=fake.alice, customer_id="no such id!")
    assert bad.startswith("Use `/support link @user CUSTOMER_ID` (a customer id like `C-1001`).")

    search = await rig.command(fake.lead, "kb", "search", query="refund approval")
    assert "Refund approval policy (staff)" in search and "(internal)" in search
    reload = await rig.command(fake.lead, "kb", "reload")
    assert reload.startswith("Indexed 17 articles (0 skipped).")

    paused = await rig.command(fake.lead, "pause", channel=fake.general)
    assert paused == f"I'm paused in <#{fake.general.id}> until a lead runs `/support resume` there."
    await rig.mention(fake.alice, "are you there?", channel=fake.general)
    assert len(rig.model.message_requests) == 1
    assert (
        await rig.command(fake.lead, "resume", channel=fake.general)
        == f"I'm answering in <#{fake.general.id}> again."
    )
    assert (
        await rig.command(fake.lead, "resume", channel=fake.general)
        == f"I wasn't paused in <#{fake.general.id}>."
    )

    resolved = await rig.command(fake.lead, "resolve", target="#1")
    assert resolved == "Resolved 1 escalation(s); I answer in that thread again."
    assert await rig.command(fake.lead, "resolve", target="#1") == "There is no open escalation #1."
    assert (await rig.command(fake.lead, "resolve")).startswith("Use `/support resolve` in the thread")
    # An administrator is a lead too.
    assert (await rig.command(fake.admin, "stats")).startswith("**Discord, the last 7 day(s)**")


async def test_support_commands_for_everyone_else(discord_rig: RigFactory, fake_discord: FakeDiscord) -> None:
    rig = await discord_rig(**lead_tables(fake_discord))
    fake = rig.fake
    assert await rig.command(fake.alice, "help") == HELP
    for path, options, name in LEAD_COMMANDS:
        options = (
            {key: getattr(fake, value) for key, value in options.items()} if path == ("unlink",) else options
        )
        assert await rig.command(fake.alice, *path, **options) == REFUSAL.format(name=name), path
    assert await rig.command(fake.alice, "link", user=fake.lead, customer_id="C-1001") == REFUSAL.format(
        name="link"
    )
    assert await rig.core.store.customer_for("discord", str(fake.lead.id)) is None
    assert not await rig.core.store.is_paused("discord", str(fake.guild.id), str(fake.support.id))
    customer_search = await rig.command(fake.alice, "kb", "search", query="refund approval")
    assert "(internal)" not in customer_search and "staff" not in customer_search
    assert await rig.command(fake.alice, "kb", "search", query="?!") == "No articles matched _?!_."


async def test_what_leads_do_is_recorded_and_support_audit_shows_it(
    discord_rig: RigFactory, fake_discord: FakeDiscord
) -> None:
    rig = await discord_rig(**lead_tables(fake_discord))
    fake = rig.fake
    lead, guild = str(fake.lead.id), str(fake.guild.id)
    thread, reply = await answered(rig, fake.alice, "I need a refund exception", "Exceptions need a lead.")
    await rig.click(fake.alice, reply, button(reply, "escalate"))
    ref = thread_ref(fake.guild.id, fake.support.id, thread.id)

    await rig.command(fake.lead, "link", user=fake.alice, customer_id="C-1001")
    await rig.command(fake.lead, "pause", channel=fake.general)
    await rig.command(fake.lead, "resume", channel=fake.general)
    [notice] = rig.answers(leads_channel(fake))
    assert await rig.click(fake.lead, notice, notice.custom_ids()[0]) == "Resolved 1 escalation(s)."
    await rig.command(fake.alice, "unlink", user=fake.alice)  # refused: not recorded

    recorded = await rig.core.store.lead_actions("discord", guild)
    assert [(a.user_id, a.action, a.channel_id, a.argument) for a in reversed(recorded)] == [
        (lead, "link", str(fake.support.id), f"{fake.alice.id} → C-1001"),
        (lead, "pause", str(fake.general.id), ""),
        (lead, "resume", str(fake.general.id), ""),
        (lead, "resolve", str(fake.support.id), f"{ref.key} (button)"),
    ]

    audit = (await rig.command(fake.lead, "audit")).splitlines()
    assert audit[0] == "**The last 4 lead action(s), newest first**"
    assert audit[1].endswith(f"<@{lead}> **resolve** in <#{fake.support.id}>: `{ref.key} (button)`")
    assert audit[3].endswith(f"<@{lead}> **pause** in <#{fake.general.id}>")
    assert await rig.command(fake.alice, "audit") == REFUSAL.format(name="audit")
    assert "• `audit`: what leads did lately" in await rig.command(fake.alice, "help")
