"""What each answer did, and the coverage gaps, end to end on Slack: questions the knowledge base cannot
answer, a "not helpful" vote and an escalation show up in `supportbot gaps` (the real CLI on the same
store) and in `/support gaps` for a lead; a customer is refused."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fakes.anthropic import Reply
from fakes.slack import FakeUser

from bot.support_commands import REFUSAL
from integrations.slack.blocks import NOT_HELPFUL
from tests.serve.rig import run
from tests.slack.rig import ROOT, RigFactory, SlackRig

LEADS = "C0LEADS"
UNANSWERABLE = [
    ("Do you have a lasagna recipe?", "lasagna recipe"),
    ("How long do I bake a lasagna?", "lasagna"),
    ("Any tips for a vegetarian lasagna?", "lasagna"),
]
SYSTEM_PROMPT = (ROOT / "config" / "prompts" / "system.md").read_text(encoding="utf-8")


async def ask(rig: SlackRig, user: FakeUser, question: str, *replies: Reply) -> str:
    rig.model.script(*replies)
    post = await rig.mention(user, question)
    await rig.settle()
    return str(post.ts)


async def test_unanswered_unhelpful_and_escalated_questions_are_recorded_and_listed_as_gaps(
    slack_rig: RigFactory, tmp_path: Path
) -> None:
    lead = FakeUser("U0LEAD", "lena", "Lena", "lena", "T0FAKE")
    rig = await slack_rig(slack={"lead_user_ids": [lead.id], "leads_channel": LEADS})
    rig.fake.users[lead.id] = lead
    rig.fake.add_channel(LEADS, name="support-leads")
    ann = rig.user("ann")
    guest = rig.user("gus", is_restricted=True)  # a guest: a customer

    for question, query in UNANSWERABLE:
        await ask(
            rig,
            ann,
            question,
            Reply.tool_use(("search_kb", {"query": query})),
            Reply.text("I found no article about that. Shall I ask a person?"),
        )
    returns = await ask(
        rig,
        ann,
        "How do I return a jacket?",
        Reply.tool_use(("search_kb", {"query": "return policy"})),
        Reply.text("Returns are free within 30 days."),
    )
    [returns_reply] = rig.bot_messages(rig.fake.general.id, returns)
    await rig.click(ann, returns_reply, NOT_HELPFUL)
    await ask(
        rig,
        ann,
        "My parcel arrived crushed, I want a person",
        Reply.tool_use(("escalate_to_human", {"summary": "Parcel arrived crushed"})),
        Reply.text("I've asked a lead to help."),
    )

    # What each answer did: kept with its reply, bounded, masked, without the system prompt.
    records = await rig.core.store.answers_since(datetime.now(UTC) - timedelta(hours=1), 100)
    assert len(records) == 5
    by_question = {record.question: record for record in records}
    lasagna = by_question["Do you have a lasagna recipe?"]
    assert [(s.query, s.hits) for s in lasagna.searches] == [("lasagna recipe", 0)]
    assert lasagna.nothing_found and not lasagna.fallback and lasagna.cited == ()
    jacket = by_question["How do I return a jacket?"]
    assert jacket.searches[0].hits > 0 and jacket.searches[0].top_scores and not jacket.nothing_found
    assert jacket.cited and jacket.not_helpful_votes == 1
    assert by_question["My parcel arrived crushed, I want a person"].escalated
    assert all(SYSTEM_PROMPT[:200] not in repr(record) for record in records)

    # The CLI, on the same store.
    status, stdout, stderr = await run(tmp_path, "gaps", "--json", LOG_LEVEL="WARNING")
    assert status == 0, stderr
    report = json.loads(stdout)
    assert (report["answers"], report["questions"]) == (5, 5)
    largest = report["topics"][0]
    assert largest["count"] == 3 and "lasagna" in largest["label"]
    assert largest["reasons"] == {"nothing_found": 3}
    assert {example["question"] for example in largest["examples"]} == {q for q, _ in UNANSWERABLE}
    assert all(
        example["link"].startswith(
            f"https://app.slack.com/client/{rig.fake.team_id}/{rig.fake.general.id}/thread/"
        )
        for example in largest["examples"]
    )
    reasons = {tuple(sorted(topic["reasons"])) for topic in report["topics"][1:]}
    assert reasons == {("not_helpful",), ("escalated",)}
    status, text, _ = await run(tmp_path, "gaps", "--days", "3")
    assert status == 0 and "3 question(s) (3 nothing found)" in text
    assert (await run(tmp_path, "gaps", "--days", "0"))[0] == 2

    # /support gaps: for leads only.
    shown = await rig.command(lead, "gaps")
    assert shown is not None and "*lasagna" in shown and "3 (3 nothing found)" in shown
    assert "1 (1 not helpful)" in shown and "1 (1 escalated)" in shown
    assert "|thread>" in shown
    assert await rig.command(guest, "gaps") == REFUSAL.format(name="gaps")

    # stats for programs.
    status, stdout, _ = await run(tmp_path, "stats", "--format", "json", LOG_LEVEL="WARNING")
    assert status == 0 and json.loads(stdout)["total"]["questions"] == 5
    status, stdout, _ = await run(tmp_path, "stats", "--format", "csv", LOG_LEVEL="WARNING")
    rows = list(csv.DictReader(io.StringIO(stdout)))
    assert status == 0 and rows[0]["scope"] == "total" and rows[0]["not_helpful"] == "1"
