"""A partner's Slack channel answers from its own docs in its own voice (``[channels."ID"]`` ``kb`` and
``prompt``), whatever the model searches for; the other channels keep the main help center."""

from __future__ import annotations

from pathlib import Path

from fakes.slack import FakeSlack

from tests.partner_kb import (
    MAIN_URL,
    PARTNER_URL,
    PARTNER_VOICE,
    QUESTION,
    partner_setup,
    script_two_searches,
    searched,
    system_text,
)
from tests.slack.rig import RigFactory, bot_toml, sources_line


async def test_a_partner_channel_searches_only_its_docs_and_speaks_in_its_voice(
    slack_rig: RigFactory, wall_clock_slack: FakeSlack, tmp_path: Path
) -> None:
    partner = wall_clock_slack.add_channel(name="acme-trail-partners")
    base = bot_toml(tmp_path / "base.toml", fast=True)
    # The workspace searches the main help center; the partner's channel its own docs.
    setup = partner_setup(tmp_path / "partner", base, partner_id=partner.id, main_id=wall_clock_slack.team_id)
    rig = await slack_rig(bot_config_path=setup.config, system_prompt_path=setup.system_prompt)
    script_two_searches(rig.model)
    asked_before = len(rig.model.message_requests)
    ann = rig.user("ann", display_name="Ann")

    in_partner = await rig.mention(ann, QUESTION, channel=partner.id)
    await rig.settle()
    in_general = await rig.mention(ann, QUESTION)
    await rig.settle()

    partner_results, general_results = (searched(rig.model, asked_before + n) for n in (1, 3))
    assert PARTNER_URL in partner_results and MAIN_URL not in partner_results
    assert MAIN_URL in general_results and PARTNER_URL not in general_results
    # The citations each asker sees follow the same line.
    [partner_reply] = rig.bot_messages(partner.id, in_partner.ts)
    [general_reply] = rig.bot_messages(rig.fake.general.id, in_general.ts)
    assert PARTNER_URL in (sources_line(partner_reply) or "")
    assert PARTNER_URL not in (sources_line(general_reply) or "")
    # The partner's prompt follows the system prompt in its channel only.
    for request in (0, 1):
        assert PARTNER_VOICE in system_text(rig.model, asked_before + request)
    for request in (2, 3):
        assert PARTNER_VOICE not in system_text(rig.model, asked_before + request)
    assert "support assistant of Northwind Outfitters" in system_text(rig.model, asked_before)
