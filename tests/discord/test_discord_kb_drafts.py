"""KB drafts on Discord (bot/quality/drafts.py): the "Draft KB article" button on a resolved escalation's
notice, ``/support kb save`` in the thread and ``/support kb drafts``, for leads only; drafted by the
summary model, or from the template without a key; a published draft, which has no address, cited under an
answer and listed by ``/support kb search`` by its title."""

from __future__ import annotations

from fakes.anthropic import Reply
from fakes.discord import FakeDiscord

from bot.buttons import ASKED
from bot.quality.drafts import LEADS_ONLY, TEMPLATE, TOOL
from bot.support_commands import REFUSAL
from integrations.discord.inbound import thread_ref
from tests.discord.rig import RigFactory, sources_line
from tests.discord.test_discord_leads import answered, button, lead_tables, leads_channel

ARTICLE = {
    "title": "Refund exceptions after 30 days",
    "question": "Can I get a refund after the 30-day window?",
    "answer": "Support can approve an exception for unused items; ask for a human in your thread.",
}


async def test_a_lead_drafts_an_article_with_the_button_on_the_resolved_notice(
    discord_rig: RigFactory, fake_discord: FakeDiscord
) -> None:
    rig = await discord_rig(**lead_tables(fake_discord))
    fake = rig.fake
    thread, reply = await answered(rig, fake.alice, "Can I get a refund after 30 days?", "Let me ask a lead.")
    ref = thread_ref(fake.guild.id, fake.support.id, thread.id)
    assert await rig.click(fake.alice, reply, button(reply, "escalate")) == ASKED
    await rig.say(thread, fake.lead, "Unused items can get an exception; I've approved yours.")
    [notice] = rig.answers(leads_channel(fake))
    await rig.click(fake.lead, notice, button(notice, "resolve"))
    [notice] = rig.answers(leads_channel(fake))
    draft_button = button(notice, "draft_kb")

    assert await rig.click(fake.alice, notice, draft_button) == LEADS_ONLY
    assert await rig.core.store.kb_drafts("draft", 10) == []
    rig.model.script(Reply.tool_use((TOOL, ARTICLE)))
    answer = await rig.click(fake.lead, notice, draft_button)
    [draft] = await rig.core.store.kb_drafts("draft", 10)
    assert answer is not None
    assert answer.startswith(f"Drafted KB article **#{draft.id}** {ARTICLE['title']} (by the summary model).")
    assert (draft.ref, draft.body, draft.drafted_by) == (ref, ARTICLE["answer"], str(fake.lead.id))
    sent = rig.model.message_requests[-1].body["messages"][0]["content"][0]["text"]
    assert "Unused items can get an exception" in sent

    listed = await rig.command(fake.lead, "kb", "drafts")
    assert listed.startswith("**1 KB draft(s) waiting**\n") and ARTICLE["title"] in listed


async def test_without_a_key_kb_save_in_the_thread_drafts_from_the_template(
    discord_rig: RigFactory, fake_discord: FakeDiscord
) -> None:
    rig = await discord_rig(anthropic_api_key=None, **lead_tables(fake_discord))
    fake = rig.fake
    asked = await rig.mention(fake.alice, "Do you ship to Iceland?")
    thread = rig.thread_of(asked)
    await rig.say(thread, fake.lead, "Yes: Iceland ships with our EU carrier in 4 to 6 days.")

    refused = await rig.command(fake.alice, "kb", "save", channel=thread)
    assert refused == REFUSAL.format(name="kb save")
    assert (await rig.command(fake.lead, "kb", "save")).startswith("Use `/support kb save` in the thread")
    answer = await rig.command(fake.lead, "kb", "save", channel=thread)
    [draft] = await rig.core.store.kb_drafts("draft", 10)
    assert draft.made_with == TEMPLATE
    assert draft.ref == thread_ref(fake.guild.id, fake.support.id, thread.id)
    assert draft.question == "Do you ship to Iceland?"
    assert "Iceland ships with our EU carrier in 4 to 6 days." in draft.body
    assert answer.startswith(f"Drafted KB article **#{draft.id}** Do you ship to Iceland? (without a model")
    assert rig.model.message_requests == []
    assert await rig.command(fake.alice, "kb", "drafts") == REFUSAL.format(name="kb drafts")


async def test_a_published_draft_has_no_address_and_is_cited_by_its_escaped_title(
    discord_rig: RigFactory,
) -> None:
    rig = await discord_rig()
    fake = rig.fake
    drafted = await rig.core.store.save_kb_draft(
        thread_ref(fake.guild.id, fake.support.id, 1),
        "Crushed *or* damaged parcels",
        "My parcel arrived crushed, can I get a replacement?",
        "Send a photo of the crushed box to support; a replacement ships within 2 days, free.",
        str(fake.lead.id),
        TEMPLATE,
    )
    assert await rig.core.drafts.publish(drafted.id, "public", f"discord:{fake.lead.id}") is not None

    rig.model.script(
        Reply.tool_use(("search_kb", {"query": "crushed parcel replacement photo"})),
        Reply.text("Send a photo of the box; a replacement ships within 2 days.", tokens_per_second=300),
    )
    asked = await rig.mention(fake.alice, "my parcel arrived crushed, what now?")
    [reply] = rig.answers(rig.thread_of(asked))
    sources = sources_line(reply)
    # The draft is a source like any article, shown as its title (escaped), not as a link to nowhere.
    assert sources is not None and sources.startswith(r"Sources: Crushed \*or\* damaged parcels · [")
    assert "]()" not in sources

    found = await rig.command(fake.alice, "kb", "search", query="crushed parcel replacement")
    assert "\n• Crushed \\*or\\* damaged parcels\n" in found and "]()" not in found and "](<>)" not in found
