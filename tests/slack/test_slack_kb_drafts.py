"""KB drafts on Slack (bot/quality/drafts.py): the "Draft KB article" button on a resolved escalation's
post in the leads' channel, ``/support kb save LINK`` and ``/support kb drafts``, for leads only; drafted by
the summary model, or from the template without a key; a published draft, which has no address, cited
under an answer and listed by ``/support kb search`` by its title."""

from __future__ import annotations

from fakes.anthropic import RecordedRequest, Reply
from fakes.slack import FakeUser
from pydantic import SecretStr

from bot.buttons import ASKED
from bot.quality.drafts import LEADS_ONLY, TEMPLATE, TOOL
from integrations.slack.blocks import DRAFT_KB, ESCALATE, RESOLVE
from integrations.slack.inbound import thread_ref
from tests.slack.rig import RigFactory, SlackRig, buttons, sources_line
from tests.slack.test_slack_leads import LEADS, LEADS_ONLY_COMMAND, answered

ARTICLE = {
    "title": "Replacing a parcel that arrived damaged",
    "question": "My parcel arrived crushed, can I get a replacement?",
    "answer": "Send a photo of the box to support; a replacement ships within 2 days, free.",
}


async def _rig(slack_rig: RigFactory, **settings: object) -> tuple[SlackRig, FakeUser]:
    lead = FakeUser("U0LEAD", "lena", "Lena", "lena", "T0FAKE")
    rig = await slack_rig(slack={"lead_user_ids": [lead.id], "leads_channel": LEADS}, **settings)
    rig.fake.users[lead.id] = lead
    rig.fake.add_channel(LEADS, name="support-leads")
    return rig, lead


async def _publish_draft(rig: SlackRig, lead: FakeUser, title: str) -> None:
    """A lead's KB draft about crushed parcels, published as a public article titled ``title``."""
    drafted = await rig.core.store.save_kb_draft(
        thread_ref(rig.fake.team_id, rig.fake.general.id, "1700000000.000100"),
        title,
        "My parcel arrived crushed, can I get a replacement?",
        "Send a photo of the crushed box to support; a replacement ships within 2 days, free.",
        lead.id,
        TEMPLATE,
    )
    assert await rig.core.drafts.publish(drafted.id, "public", f"slack:{lead.id}") is not None


async def test_a_lead_drafts_an_article_with_the_button_on_the_resolved_escalation(
    slack_rig: RigFactory,
) -> None:
    rig, lead = await _rig(slack_rig)
    ann = rig.user("ann")
    channel = rig.fake.general.id
    thread, reply = await answered(
        rig, ann, "My parcel arrived crushed, a replacement?", "Let me get a lead."
    )
    ref = thread_ref(rig.fake.team_id, channel, thread)
    assert await rig.click(ann, reply, ESCALATE) == ASKED
    await rig.say(lead, "Send a photo of the box and we ship a replacement within 2 days.", thread_ts=thread)
    await rig.settle()  # the lead's message is handled (kept, the bot stepped back) before the resolve
    [notice] = rig.fake.bot_messages(LEADS)
    assert DRAFT_KB not in [choice for choice, _ in buttons(notice)]  # not before it is resolved
    await rig.click(lead, notice, RESOLVE)
    [notice] = rig.fake.bot_messages(LEADS)
    assert buttons(notice) == [(DRAFT_KB, ref.key)]

    assert await rig.click(ann, notice, DRAFT_KB) == LEADS_ONLY
    assert await rig.core.store.kb_drafts("draft", 10) == []

    rig.model.script(Reply.tool_use((TOOL, ARTICLE)))
    answer = await rig.click(lead, notice, DRAFT_KB)
    [draft] = await rig.core.store.kb_drafts("draft", 10)
    assert answer is not None
    assert answer.startswith(f"Drafted KB article *#{draft.id}* {ARTICLE['title']} (by the summary model).")
    assert "`/support kb drafts` lists the waiting drafts" in answer  # the dashboard is off
    assert (draft.ref, draft.title, draft.body, draft.drafted_by) == (
        ref,
        ARTICLE["title"],
        ARTICLE["answer"],
        lead.id,
    )
    request = rig.model.message_requests[-1].body
    assert request["model"] == rig.core.settings.summary_model
    sent = request["messages"][0]["content"][0]["text"]
    assert "Send a photo of the box and we ship a replacement within 2 days." in sent

    listed = await rig.command(lead, "kb drafts")
    assert listed is not None and listed.startswith("*1 KB draft(s) waiting*\n")
    assert f"*#{draft.id}* {ARTICLE['title']}" in listed
    assert await rig.command(ann, "kb drafts") == LEADS_ONLY_COMMAND.format(name="kb drafts")


async def test_without_a_key_kb_save_drafts_from_the_template_with_a_link_to_the_dashboard(
    slack_rig: RigFactory,
) -> None:
    rig, lead = await _rig(
        slack_rig,
        anthropic_api_key=None,
        dashboard_secret=SecretStr("a-dashboard-secret-of-at-least-32-characters"),
        public_url="https://support.example.com",
    )
    ann = rig.user("ann")
    channel = rig.fake.general.id
    post = await rig.mention(ann, "How long do refunds take to reach my card?")
    await rig.settle()
    await rig.say(
        lead, "Refunds reach the card within 5 to 10 business days of the return arriving.", thread_ts=post.ts
    )
    await rig.settle()
    permalink = (await rig.fake.client().chat_getPermalink(channel=channel, message_ts=post.ts))["permalink"]

    assert await rig.command(ann, f"kb save <{permalink}>") == LEADS_ONLY_COMMAND.format(name="kb save")
    assert await rig.command(lead, "kb save") == (
        "Use `/support kb save LINK` with the thread's link (Copy link).\n\n"
        + (await rig.command(lead, "help") or "")
    )
    answer = await rig.command(lead, f"kb save <{permalink}>")
    [draft] = await rig.core.store.kb_drafts("draft", 10)
    assert draft.made_with == TEMPLATE and draft.ref == thread_ref(rig.fake.team_id, channel, post.ts)
    assert draft.question == "How long do refunds take to reach my card?"
    assert "Refunds reach the card within 5 to 10 business days" in draft.body
    assert answer == (
        f"Drafted KB article *#{draft.id}* How long do refunds take to reach my card? (without a model, from "
        "the template). It waits for a lead to edit, publish or discard it: review it on the dashboard's "
        "<https://support.example.com/dashboard/kb-drafts|KB drafts> page."
    )
    assert rig.model.message_requests == []
    [action] = await rig.core.store.lead_actions("slack", rig.fake.team_id, 5)
    assert (action.user_id, action.action) == (lead.id, "kb save")


async def test_a_published_draft_has_no_address_and_is_cited_by_its_escaped_title(
    slack_rig: RigFactory,
) -> None:
    rig, lead = await _rig(slack_rig)
    ann = rig.user("ann")
    title = "Crushed parcels & <damaged> boxes"
    await _publish_draft(rig, lead, title)

    rig.model.script(
        Reply.tool_use(("search_kb", {"query": "crushed parcel replacement photo"})),
        Reply.text("Send a photo of the box; a replacement ships within 2 days.", tokens_per_second=300),
    )
    post = await rig.mention(ann, "my parcel arrived crushed, what now?")
    await rig.settle()
    [reply] = rig.bot_messages(rig.fake.general.id, post.ts)
    sources = sources_line(reply)
    # The draft is a source like any article, shown as its title (escaped), not as a link to nowhere.
    assert sources is not None and sources.startswith(
        "Sources: Crushed parcels &amp; &lt;damaged&gt; boxes · <"
    )
    assert "<|" not in sources

    found = await rig.command(ann, "kb search crushed parcel replacement")
    assert found is not None
    assert "\n• Crushed parcels &amp; &lt;damaged&gt; boxes\n" in found and "<|" not in found


async def test_an_answer_citing_a_published_draft_lists_it_by_title(slack_rig: RigFactory) -> None:
    rig, lead = await _rig(slack_rig)
    ann = rig.user("ann")
    title = "Crushed parcels"
    await _publish_draft(rig, lead, title)

    def cite_the_first_result(request: RecordedRequest) -> Reply:
        # The model cites what the search gave it: the API requires every search result to name a source.
        [result] = [b for b in request.messages[-1]["content"] if b["type"] == "tool_result"]
        first = result["content"][0]
        citation = {
            "type": "search_result_location",
            "source": first["source"],
            "title": first["title"],
            "cited_text": first["content"][0]["text"][:40],
            "search_result_index": 0,
            "start_block_index": 0,
            "end_block_index": 0,
        }
        return Reply.text("Send a photo of the box; a replacement ships within 2 days.", citations=[citation])

    rig.model.script(Reply.tool_use(("search_kb", {"query": "crushed parcel replacement photo"})))
    rig.model.responder = cite_the_first_result
    post = await rig.mention(ann, "my parcel arrived crushed, what now?")
    await rig.settle()

    assert all(request.status == 200 for request in rig.model.requests), [
        r.errors for r in rig.model.requests
    ]
    [reply] = rig.bot_messages(rig.fake.general.id, post.ts)
    assert sources_line(reply) == f"Sources: {title}"
