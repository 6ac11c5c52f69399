"""Privacy on Slack: pasted card numbers and keys are masked before the model and the store see them, and a
lead forgets a person with /support forget."""

from __future__ import annotations

import json

from fakes.anthropic import Reply
from fakes.slack import FakeUser

from bot.support_commands import REFUSAL
from integrations.slack.blocks import HELPFUL
from integrations.slack.commands import HELP
from integrations.slack.inbound import thread_ref
from tests.slack.rig import RigFactory, SlackRig, buttons

CARD = "4242 4242 4242 4242"
KEY = "sk-ant-" + "api03-" + "Q7r" * 12  # put together: no scanner takes it for a leak


async def answered(rig: SlackRig, user: FakeUser, question: str, answer: str) -> str:
    rig.model.script(Reply.text(answer, tokens_per_second=300))
    post = await rig.mention(user, question)
    await rig.settle()
    return post.ts


async def test_a_pasted_card_number_and_api_key_reach_neither_the_model_nor_the_store(
    slack_rig: RigFactory,
) -> None:
    rig = await slack_rig()
    ann = rig.user("ann")
    question = f"my card {CARD} (CVC 123) was charged twice for ORD-10001; my key is {KEY}"
    thread = await answered(rig, ann, question, "I'm sorry about that; let me look at ORD-10001.")
    rig.model.script(Reply.text("Refunds take 5 days.", tokens_per_second=300))
    await rig.say(ann, f"and again {CARD}?", thread_ts=thread)  # the platform's history has it too
    await rig.settle()

    assert len(rig.model.message_requests) == 2
    for request in rig.model.message_requests:
        sent = json.dumps(request.body)
        assert CARD not in sent and "4242424242424242" not in sent and KEY not in sent and "123)" not in sent
        assert "[card ending 4242]" in sent and "ORD-10001" in sent
    first = json.dumps(rig.model.message_requests[0].body)
    assert "(CVC [redacted])" in first and "my key is [redacted secret]" in first
    turns = await rig.core.store.load_turns(thread_ref(rig.fake.team_id, rig.fake.general.id, thread))
    people = [t.text for t in turns if t.role == "user"]
    assert len(people) == 2
    assert "my card [card ending 4242] (CVC [redacted]) was charged twice for ORD-10001" in people[0]
    assert people[0].endswith("my key is [redacted secret]") and people[1].endswith(
        "and again [card ending 4242]?"
    )
    assert not any(CARD in t.text or KEY in t.text for t in turns)


async def test_a_card_number_in_a_paused_channel_is_kept_masked(slack_rig: RigFactory) -> None:
    lead = FakeUser("U0LEAD", "lena", "Lena", "lena", "T0FAKE")
    rig = await slack_rig(slack={"lead_user_ids": [lead.id]})
    rig.fake.users[lead.id] = lead
    ann = rig.user("ann")
    thread = await answered(rig, ann, "where is ORD-10001?", "It shipped yesterday.")
    assert (await rig.command(lead, "pause") or "").startswith("I'm paused in")
    await rig.say(ann, f"it was charged to {CARD}, key {KEY}", thread_ts=thread)
    await rig.settle()

    turns = await rig.core.store.load_turns(thread_ref(rig.fake.team_id, rig.fake.general.id, thread))
    # Kept, not answered, and masked like an answered message.
    assert turns[-1].text == "it was charged to [card ending 4242], key [redacted secret]"
    assert len(rig.model.message_requests) == 1


async def test_a_lead_forgets_a_person_and_it_is_recorded(slack_rig: RigFactory) -> None:
    lead = FakeUser("U0LEAD", "lena", "Lena", "lena", "T0FAKE")
    rig = await slack_rig(slack={"lead_user_ids": [lead.id]})
    rig.fake.users[lead.id] = lead
    channel, team = rig.fake.general.id, rig.fake.team_id
    ann, bob = rig.user("ann"), rig.user("bob")
    ann_thread = await answered(rig, ann, "where is ORD-10001?", "It shipped yesterday.")
    bob_thread = await answered(rig, bob, "returns?", "Returns are free within 30 days.")
    [reply] = rig.bot_messages(channel, ann_thread)
    await rig.click(ann, reply, HELPFUL)
    await rig.command(lead, f"link <@{ann.id}|ann> C-1001")

    # Not a lead: refused, nothing removed.
    assert await rig.command(bob, f"forget <@{ann.id}|ann>") == REFUSAL.format(name="forget")
    assert await rig.command(lead, "forget") == f"Use `/support forget @user`.\n\n{HELP}"
    assert await rig.core.store.customer_for("slack", ann.id) == "C-1001"

    forgot = await rig.command(lead, f"forget <@{ann.id}|ann>")
    assert forgot == (
        f"Forgot <@{ann.id}>: deleted 1 message(s), 1 answer(s) to them, 1 customer link, "
        "1 feedback vote(s), 1 record(s) of what answers did; unlinked from them: 1 answer record(s)."
    )
    assert await rig.core.store.load_turns(thread_ref(team, channel, ann_thread)) == []
    assert [t.text for t in await rig.core.store.load_turns(thread_ref(team, channel, bob_thread))] == [
        "returns?",
        "Returns are free within 30 days.",
    ]
    assert await rig.core.store.customer_for("slack", ann.id) is None
    assert await rig.core.store.feedback_for(buttons(reply)[0][1]) == {}
    stats = await rig.command(lead, "stats")
    assert stats is not None and "• Answers: 2 (0 without the AI model); 0 failed" in stats  # still counted
    [forget, *_] = await rig.core.store.lead_actions("slack", team)
    assert (forget.user_id, forget.action, forget.channel_id, forget.argument) == (
        lead.id,
        "forget",
        channel,
        ann.id,
    )
    assert (
        await rig.command(lead, f"forget <@{ann.id}>")
    ) == f"Forgot <@{ann.id}>: nothing was stored about them."
    assert "• `forget @user`: delete what I stored about a person" in HELP
