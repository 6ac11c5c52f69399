"""Feedback and escalation buttons, the leads' channel, and /support as a lead and as anyone else."""

from __future__ import annotations

import asyncio
import copy

from fakes.anthropic import Reply
from fakes.slack import FakeMessage, FakeSlack, FakeUser

from bot.buttons import NOT_YOURS
from integrations.slack.actions import ALREADY_ASKED, ASKED, LEADS_ONLY, THANKS
from integrations.slack.blocks import DRAFT_KB, ESCALATE, HELPFUL, NOT_HELPFUL, RESOLVE
from integrations.slack.commands import HELP
from integrations.slack.escalations import HANDED_OVER, RESOLVED
from integrations.slack.inbound import DM_THREAD, thread_ref
from tests.slack.rig import RigFactory, SlackRig, buttons, section_text, sources_line

LEADS = "C0LEADS"


async def leads_rig(slack_rig: RigFactory) -> tuple[SlackRig, FakeUser]:
    lead = FakeUser("U0LEAD", "lena", "Lena", "lena", "T0FAKE")
    rig = await slack_rig(slack={"lead_user_ids": [lead.id], "leads_channel": LEADS})
    rig.fake.users[lead.id] = lead
    rig.fake.add_channel(LEADS, name="support-leads")
    return rig, lead


async def answered(rig: SlackRig, user: FakeUser, question: str, answer: str) -> tuple[str, FakeMessage]:
    rig.model.script(Reply.text(answer, tokens_per_second=300))
    post = await rig.mention(user, question)
    await rig.settle()
    return post.ts, rig.bot_messages(rig.fake.general.id, post.ts)[-1]


async def test_feedback_buttons_record_one_vote_per_person(slack_rig: RigFactory) -> None:
    rig = await slack_rig()
    ann, bob = rig.user("ann"), rig.user("bob")
    _, reply = await answered(rig, ann, "how do returns work?", "Returns are free within 30 days.")
    reply_id = buttons(reply)[0][1]

    assert await rig.click(ann, reply, HELPFUL) == THANKS
    assert await rig.click(bob, reply, NOT_HELPFUL) == THANKS
    assert await rig.core.store.feedback_for(reply_id) == {ann.id: True, bob.id: False}
    assert await rig.click(ann, reply, NOT_HELPFUL) == THANKS  # a new vote replaces the old one
    assert await rig.core.store.feedback_for(reply_id) == {ann.id: False, bob.id: False}
    assert section_text(reply) == "Returns are free within 30 days."  # the answer itself is untouched


async def test_talk_to_a_human_escalates_and_the_bot_steps_back_until_a_lead_resolves(
    slack_rig: RigFactory,
) -> None:
    rig, lead = await leads_rig(slack_rig)
    channel = rig.fake.general.id
    ann = rig.user("ann")
    thread, reply = await answered(rig, ann, "I need a refund exception", "Refund exceptions need a lead.")
    ref = thread_ref(rig.fake.team_id, channel, thread)

    assert await rig.click(ann, reply, ESCALATE) == ASKED
    [escalation] = await rig.core.store.open_escalations()
    assert (escalation.ref, escalation.user_id) == (ref, ann.id)
    [notice] = rig.fake.bot_messages(LEADS)
    permalink = (await rig.fake.client().chat_getPermalink(channel=channel, message_ts=thread))["permalink"]
    assert f"*Escalation #{escalation.id}*: ann (employee) needs a human in <{permalink}|this thread>" in (
        section_text(notice)
    )
    assert buttons(notice) == [(RESOLVE, ref.key)]
    assert section_text(rig.bot_messages(channel, thread)[-1]) == HANDED_OVER
    assert await rig.click(ann, reply, ESCALATE) == ALREADY_ASKED
    assert len(rig.fake.bot_messages(LEADS)) == 1

    await rig.say(ann, "hello? anyone?", thread_ts=thread)
    await rig.say(lead, "Hi Ann, I'm Lena from support; I'll sort out your refund.", thread_ts=thread)
    await rig.settle()
    assert len(rig.model.message_requests) == 1  # the bot stayed quiet
    assert [t.text for t in await rig.core.store.load_turns(ref)][-2:] == [
        "hello? anyone?",
        "Hi Ann, I'm Lena from support; I'll sort out your refund.",
    ]

    assert await rig.command(ann, f"resolve <{permalink}>") == LEADS_ONLY_COMMAND.format(name="resolve")
    assert (
        await rig.command(lead, f"resolve <{permalink}>")
        == "Resolved 1 escalation(s); I answer in that thread again."
    )
    assert not await rig.core.store.is_escalated(ref)
    assert section_text(rig.bot_messages(channel, thread)[-1]) == RESOLVED
    # The leads' post says who resolved it, and no longer offers the button.
    [notice] = rig.fake.bot_messages(LEADS)
    assert buttons(notice) == [(DRAFT_KB, ref.key)] and sources_line(notice) == f"✅ Resolved by <@{lead.id}>"

    rig.model.script(Reply.text("Glad Lena could help!", tokens_per_second=300))
    await rig.say(ann, "thanks, all sorted", thread_ts=thread)
    await rig.settle()
    history = rig.model.message_requests[-1].body["messages"]
    assert "lena: Hi Ann, I'm Lena from support" in history[-1]["content"][0]["text"]
    assert section_text(rig.bot_messages(channel, thread)[-1]) == "Glad Lena could help!"


async def test_two_people_clicking_talk_to_a_human_at_once_open_one_escalation(slack_rig: RigFactory) -> None:
    rig, _ = await leads_rig(slack_rig)
    ann, bob = rig.user("ann"), rig.user("bob")
    thread, reply = await answered(rig, ann, "my parcel is lost", "I'm sorry to hear that.")

    said = await asyncio.gather(rig.click(ann, reply, ESCALATE), rig.click(bob, reply, ESCALATE))

    assert sorted(said, key=str) == sorted([ASKED, ALREADY_ASKED], key=str)
    assert len(await rig.core.store.open_escalations()) == 1
    assert len(rig.fake.bot_messages(LEADS)) == 1
    assert [section_text(m) for m in rig.bot_messages(rig.fake.general.id, thread)].count(HANDED_OVER) == 1


async def test_the_model_escalates_and_a_lead_resolves_with_the_button(slack_rig: RigFactory) -> None:
    rig, lead = await leads_rig(slack_rig)
    ann = rig.user("ann")
    dm = rig.fake.add_dm(ann.id)
    rig.model.script(
        Reply.tool_use(("escalate_to_human", {"summary": "Wants a refund after 60 days <!channel>"})),
        Reply.text("I've asked a support lead to help you here.", tokens_per_second=300),
    )
    await rig.deliver(
        rig.fake.post_as_user(dm.id, ann.id, "I want a refund for an old order, a human please")
    )
    await rig.settle()
    [notice] = rig.fake.bot_messages(LEADS)
    assert "needs a human in a direct message with the bot" in section_text(notice)
    assert "Wants a refund after 60 days &lt;!channel&gt;" in section_text(notice)  # model text, disarmed

    assert await rig.click(ann, notice, RESOLVE) == LEADS_ONLY
    stale = copy.deepcopy(notice)  # as a second lead's Slack still shows it
    assert await rig.click(lead, notice, RESOLVE) == "Resolved 1 escalation(s)."
    assert not await rig.core.store.is_escalated(thread_ref(rig.fake.team_id, dm.id, DM_THREAD))
    assert section_text(rig.bot_messages(dm.id)[-1]) == RESOLVED
    [resolved] = rig.fake.bot_messages(LEADS)
    assert "Wants a refund after 60 days" in section_text(resolved)
    dm_key = thread_ref(rig.fake.team_id, dm.id, DM_THREAD).key
    assert buttons(resolved) == [(DRAFT_KB, dm_key)]
    assert sources_line(resolved) == f"✅ Resolved by <@{lead.id}>"
    assert await rig.click(lead, stale, RESOLVE) == "That escalation was already resolved."


LEADS_ONLY_COMMAND = (
    "Sorry, only support leads can use `/support {name}`. You can use `/support help` and "
    "`/support kb search QUERY`."
)


async def test_support_commands_for_a_lead(slack_rig: RigFactory) -> None:
    rig, lead = await leads_rig(slack_rig)
    channel = rig.fake.general.id
    ann = rig.user("ann")
    _, reply = await answered(rig, ann, "returns?", "Returns are free within 30 days.")
    await rig.click(ann, reply, HELPFUL)
    await rig.click(ann, reply, ESCALATE)

    assert await rig.command(lead, "") == HELP
    assert await rig.command(lead, "help") == HELP
    stats = await rig.command(lead, "stats 3")
    assert stats is not None and stats.startswith("*Slack, the last 3 day(s)*")
    assert "• Questions: 1 (0 answered with a limit notice)" in stats
    assert "• Answers: 1 (0 without the AI model); 0 failed" in stats
    assert "• Feedback: 1 helpful, 0 not helpful" in stats
    assert "• Escalations: 1 opened; 1 open now" in stats
    assert f"*Per channel*\n• <#{channel}> 1 questions, 1 answers" in stats
    escalations = await rig.command(lead, "escalations")
    assert escalations is not None and escalations.startswith("*1 open escalation(s)*\n• *#1* in <http")
    assert f"by <@{ann.id}>: ann asked for a human" in escalations

    assert (
        await rig.command(lead, f"link <@{ann.id}|ann> C-1001") == f"Linked <@{ann.id}> to customer `C-1001`."
    )
    assert await rig.core.store.customer_for("slack", ann.id) == "C-1001"
    assert await rig.command(lead, f"unlink <@{ann.id}|ann>") == f"Unlinked <@{ann.id}>."
    assert await rig.command(lead, f"unlink <@{ann.id}|ann>") == f"<@{ann.id}> was not linked to a customer."

    search = await rig.command(lead, "kb search refund approval")
    assert search is not None and "Refund approval policy (staff)" in search and "(internal)" in search
    reload = await rig.command(lead, "kb reload")
    assert reload is not None and reload.startswith("Indexed 17 articles (0 skipped).")

    assert (
        await rig.command(lead, "pause")
        == f"I'm paused in <#{channel}> until a lead runs `/support resume` there."
    )
    assert await rig.core.store.is_paused("slack", rig.fake.team_id, channel)
    await rig.mention(ann, "are you there?")
    await rig.settle()
    assert len(rig.model.message_requests) == 1
    assert await rig.command(lead, "resume") == f"I'm answering in <#{channel}> again."
    assert await rig.command(lead, "resume") == f"I wasn't paused in <#{channel}>."

    assert await rig.command(lead, "resolve #1") == "Resolved 1 escalation(s); I answer in that thread again."
    assert await rig.command(lead, "resolve #1") == "There is no open escalation #1."
    assert (await rig.command(lead, "stats 1000") or "").startswith(
        "Use `/support stats [days]` with 1 to 90"
    )
    assert (
        await rig.command(lead, "link ann")
    ) == f"Use `/support link @user CUSTOMER_ID` (a customer id like `C-1001`).\n\n{HELP}"


async def test_kb_search_on_a_damaged_index_tells_the_lead_what_to_do(slack_rig: RigFactory) -> None:
    rig, lead = await leads_rig(slack_rig)
    kb = rig.core.kb
    assert "Returns policy" in (await rig.command(lead, "kb search return policy") or "")
    kb.close()
    data = kb.index_path.read_bytes()
    kb.index_path.write_bytes(data[: len(data) // 2])  # the disk filled up
    assert await rig.command(lead, "kb search return policy") == (
        "The knowledge base cannot be searched right now: its index file is damaged. "
        "`supportbot doctor` says how to rebuild it."
    )


async def test_support_commands_for_everyone_else(slack_rig: RigFactory) -> None:
    rig, _ = await leads_rig(slack_rig)
    ann = rig.user("ann")
    guest = rig.user("gina", external=True)
    assert await rig.command(ann, "help") == HELP
    for text, name in [
        ("stats", "stats"),
        ("escalations", "escalations"),
        (f"link <@{guest.id}> C-1001", "link"),
        (f"unlink <@{guest.id}>", "unlink"),
        ("kb reload", "kb reload"),
        ("pause", "pause"),
        ("resume", "resume"),
        ("resolve #1", "resolve"),
    ]:
        assert await rig.command(ann, text) == LEADS_ONLY_COMMAND.format(name=name), text
    assert await rig.core.store.customer_for("slack", guest.id) is None
    assert not await rig.core.store.is_paused("slack", rig.fake.team_id, rig.fake.general.id)

    staff_search = await rig.command(ann, "kb search refund approval")
    customer_search = await rig.command(guest, "kb search refund approval")
    assert staff_search is not None and "(internal)" in staff_search
    assert (
        customer_search is not None and "(internal)" not in customer_search and "staff" not in customer_search
    )
    assert await rig.command(ann, "kb search ?!") == "No articles matched _?!_."
    assert await rig.command(ann, "frobnicate") == f"I don't know `frobnicate`.\n\n{HELP}"


async def test_a_lead_by_user_group(slack_rig: RigFactory, wall_clock_slack: FakeSlack) -> None:
    grouped = wall_clock_slack.add_user(name="gus")
    group = wall_clock_slack.add_usergroup([grouped.id])
    rig = await slack_rig(slack={"lead_usergroup_id": group})
    stats = await rig.command(grouped, "stats")
    assert stats is not None and stats.startswith("*Slack, the last 7 day(s)*")


async def test_only_the_asker_or_staff_can_ask_for_a_human_under_an_answer(slack_rig: RigFactory) -> None:
    rig, _ = await leads_rig(slack_rig)
    channel = rig.fake.general.id
    # Guests are customers: neither is staff. Gus asked; Gwen only reads the channel.
    gus = rig.fake.add_user(name="gus", is_restricted=True)
    gwen = rig.fake.add_user(name="gwen", is_restricted=True)
    thread, reply = await answered(rig, gus, "my parcel is lost", "I'm sorry to hear that.")
    ref = thread_ref(rig.fake.team_id, channel, thread)

    assert await rig.click(gwen, reply, ESCALATE) == NOT_YOURS
    assert await rig.core.store.open_escalations() == []
    assert not await rig.core.store.is_escalated(ref)
    assert rig.fake.bot_messages(LEADS) == []
    assert [section_text(m) for m in rig.bot_messages(channel, thread)] == ["I'm sorry to hear that."]

    assert await rig.click(gus, reply, ESCALATE) == ASKED
    [escalation] = await rig.core.store.open_escalations()
    assert escalation.user_id == gus.id
    assert len(rig.fake.bot_messages(LEADS)) == 1


async def test_what_leads_do_is_recorded_and_support_audit_shows_it(slack_rig: RigFactory) -> None:
    rig, lead = await leads_rig(slack_rig)
    channel, team = rig.fake.general.id, rig.fake.team_id
    ann = rig.user("ann")
    gus = rig.fake.add_user(name="gus", is_restricted=True)  # a guest: a customer, not a lead
    thread, reply = await answered(rig, ann, "I need a refund exception", "Refund exceptions need a lead.")
    await rig.click(ann, reply, ESCALATE)
    [escalation] = await rig.core.store.open_escalations()
    ref = thread_ref(team, channel, thread)

    await rig.command(lead, f"link <@{gus.id}|gus> C-1001")
    await rig.command(lead, f"unlink <@{gus.id}|gus>")
    await rig.command(lead, "pause", channel=LEADS)
    await rig.command(lead, "resume", channel=LEADS)
    await rig.command(lead, f"resolve #{escalation.id}")
    # Refused or without effect: not recorded.
    await rig.command(ann, f"link <@{gus.id}|gus> C-666")
    await rig.command(lead, f"unlink <@{gus.id}|gus>")

    recorded = await rig.core.store.lead_actions("slack", team)
    assert [(a.user_id, a.action, a.channel_id, a.argument) for a in reversed(recorded)] == [
        (lead.id, "link", channel, f"{gus.id} → C-1001"),
        (lead.id, "unlink", channel, gus.id),
        (lead.id, "pause", LEADS, ""),
        (lead.id, "resume", LEADS, ""),
        (lead.id, "resolve", channel, f"#{escalation.id} {ref.key}"),
    ]

    audit = await rig.command(lead, "audit")
    assert audit is not None
    lines = audit.splitlines()
    assert lines[0] == "*The last 5 lead action(s), newest first*"
    assert lines[1].endswith(f"<@{lead.id}> *resolve* in <#{channel}>: `#{escalation.id} {ref.key}`")
    assert lines[5].endswith(f"<@{lead.id}> *link* in <#{channel}>: `{gus.id} → C-1001`")
    assert "UTC" in lines[1]
    assert await rig.command(ann, "audit") == LEADS_ONLY_COMMAND.format(name="audit")
    assert "• `audit`: what leads did lately" in HELP
