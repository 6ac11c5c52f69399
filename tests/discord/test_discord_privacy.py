"""Privacy on Discord: pasted card numbers and keys are masked before the model and the store see them, and
a lead forgets a member with /support forget."""

from __future__ import annotations

import json

from fakes.anthropic import Reply
from fakes.discord import FakeChannel, FakeDiscord, FakeMember, FakeMessage

from bot.support_commands import REFUSAL
from integrations.discord.inbound import thread_ref
from tests.discord.rig import DiscordRig, RigFactory

CARD = "4242-4242-4242-4242"
KEY = "xoxb-" + "1234567890-0987654321-" + "ZyXwVuTsRqPo"  # put together: no scanner takes it for a leak


async def answered(
    rig: DiscordRig, member: FakeMember, question: str, answer: str
) -> tuple[FakeChannel, FakeMessage]:
    rig.model.script(Reply.text(answer, tokens_per_second=300))
    asked = await rig.mention(member, question)
    thread = rig.thread_of(asked)
    return thread, rig.answers(thread)[-1]


async def test_a_pasted_card_number_and_api_key_reach_neither_the_model_nor_the_store(
    discord_rig: RigFactory,
) -> None:
    rig = await discord_rig()
    fake = rig.fake
    question = f"card {CARD}, security code 987, ORD-10001 was charged twice; token {KEY}"
    thread, _ = await answered(rig, fake.alice, question, "Sorry about that; let me look at ORD-10001.")
    rig.model.script(Reply.text("Refunds take 5 days.", tokens_per_second=300))
    await rig.say(thread, fake.alice, f"again: {CARD}")  # the thread's history has it too
    await rig.settle()

    assert len(rig.model.message_requests) == 2
    for request in rig.model.message_requests:
        sent = json.dumps(request.body)  # type: ignore[attr-defined]
        assert CARD not in sent and KEY not in sent and "987" not in sent
        assert "[card ending 4242]" in sent and "ORD-10001" in sent
    first = json.dumps(rig.model.message_requests[0].body)  # type: ignore[attr-defined]
    assert "security code [redacted]" in first and "token [redacted secret]" in first
    turns = await rig.core.store.load_turns(thread_ref(fake.guild.id, fake.support.id, thread.id))
    people = [t.text for t in turns if t.role == "user"]
    assert len(people) == 2
    assert "card [card ending 4242], security code [redacted], ORD-10001 was charged twice" in people[0]
    assert people[0].endswith("token [redacted secret]") and people[1] == "again: [card ending 4242]"
    assert not any(CARD in t.text or KEY in t.text for t in turns)


async def test_a_lead_forgets_a_member_and_it_is_recorded(
    discord_rig: RigFactory, fake_discord: FakeDiscord
) -> None:
    rig = await discord_rig(discord_roles={"lead_role_ids": [str(fake_discord.lead_role.id)]})
    fake = rig.fake
    bob = fake.add_member(fake.guild, "bob")
    alice_thread, reply = await answered(rig, fake.alice, "where is ORD-10001?", "It shipped yesterday.")
    bob_thread, _ = await answered(rig, bob, "returns?", "Returns are free within 30 days.")
    helpful = next(c for c in reply.custom_ids() if c.split(":")[1] == "helpful")
    await rig.click(fake.alice, reply, helpful)
    await rig.command(fake.lead, "link", user=fake.alice, customer_id="C-1001")
    alice = str(fake.alice.id)

    assert await rig.command(bob, "forget", user=fake.alice) == REFUSAL.format(name="forget")
    assert await rig.core.store.customer_for("discord", alice) == "C-1001"

    forgot = await rig.command(fake.lead, "forget", user=fake.alice)
    assert forgot == (
        f"Forgot <@{alice}>: deleted 1 message(s), 1 answer(s) to them, 1 customer link, 1 feedback vote(s), "
        "1 record(s) of what answers did; unlinked from them: 1 answer record(s)."
    )
    guild, support = fake.guild.id, fake.support.id
    assert await rig.core.store.load_turns(thread_ref(guild, support, alice_thread.id)) == []
    bob_turns = await rig.core.store.load_turns(thread_ref(guild, support, bob_thread.id))
    assert [t.role for t in bob_turns] == ["user", "assistant"]
    assert await rig.core.store.customer_for("discord", alice) is None
    assert await rig.core.store.feedback_for(helpful.rsplit(":", 1)[1]) == {}
    [forget, *_] = await rig.core.store.lead_actions("discord", str(guild))
    assert (forget.user_id, forget.action, forget.channel_id, forget.argument) == (
        str(fake.lead.id),
        "forget",
        str(support),
        alice,
    )
    audit = (await rig.command(fake.lead, "audit")).splitlines()
    assert audit[1].endswith(f"<@{fake.lead.id}> **forget** in <#{support}>: `{alice}`")
