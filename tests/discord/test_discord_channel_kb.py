"""A partner's Discord guild (``[channels."GUILD_ID"]`` covers all its channels) answers from its own docs in
its own voice, whatever the model searches for; the other guild keeps the main help center."""

from __future__ import annotations

from pathlib import Path

from fakes.discord import FakeDiscord

from tests.discord.rig import RigFactory, bot_toml, sources_line
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


async def test_a_partner_guild_searches_only_its_docs_and_speaks_in_its_voice(
    discord_rig: RigFactory, fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    fake = fake_discord
    guild = fake.add_guild("Acme Trail Partners")
    lobby = fake.add_text_channel(guild, "rentals")
    renter = fake.add_member(guild, fake.alice_user)
    base = bot_toml(tmp_path / "base.toml", fast=True)
    # The main guild searches the main help center; the partner's guild, every channel of it, its own docs.
    setup = partner_setup(tmp_path / "partner", base, partner_id=str(guild.id), main_id=str(fake.guild.id))
    rig = await discord_rig(bot_config_path=setup.config, system_prompt_path=setup.system_prompt)
    script_two_searches(rig.model)
    asked_before = len(rig.model.message_requests)

    in_partner = await rig.mention(renter, QUESTION, channel=lobby)
    in_main = await rig.mention(fake.alice, QUESTION)

    partner_results, main_results = (searched(rig.model, asked_before + n) for n in (1, 3))
    assert PARTNER_URL in partner_results and MAIN_URL not in partner_results
    assert MAIN_URL in main_results and PARTNER_URL not in main_results
    [partner_reply] = rig.answers(rig.thread_of(in_partner))
    [main_reply] = rig.answers(rig.thread_of(in_main))
    assert PARTNER_URL in (sources_line(partner_reply) or "")
    assert PARTNER_URL not in (sources_line(main_reply) or "")
    for request in (0, 1):
        assert PARTNER_VOICE in system_text(rig.model, asked_before + request)
    for request in (2, 3):
        assert PARTNER_VOICE not in system_text(rig.model, asked_before + request)
