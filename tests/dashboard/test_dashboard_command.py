"""``/support dashboard`` through the real Slack front end against the fake Slack: a lead gets a link only
they see, which opens the dashboard; anyone else gets no link."""

from __future__ import annotations

import os
import re
from pathlib import Path

import aiohttp
import pytest
from fakes.anthropic import FakeAnthropic
from fakes.slack import FakeSlack, FakeUser
from pydantic import SecretStr

from bot.support_commands import DASHBOARD_OFF
from tests.dashboard.conftest import SECRET, Served
from tests.slack.rig import bot_toml, rig_settings, start_slack_rig

LEAD = FakeUser("U0LEAD", "lena", "Lena", "lena", "T0FAKE")
REFUSAL = (
    "Sorry, only support leads can use `/support dashboard`. You can use `/support help` and "
    "`/support kb search QUERY`."
)


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "SLACK_", "DASHBOARD_", "PUBLIC_URL")):
            monkeypatch.delenv(name)


async def _ask(
    tmp_path: Path, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic, public_url: str | None
) -> tuple[str | None, str | None]:
    """``/support dashboard`` run by a lead and by a customer: what each of them saw."""
    config = bot_toml(tmp_path / "bot.toml", fast=True, slack={"lead_user_ids": [LEAD.id]})
    settings = rig_settings(tmp_path, fake_slack, fake_anthropic, config).model_copy(
        update={"dashboard_secret": SecretStr(SECRET), "public_url": public_url}
    )
    rig = await start_slack_rig(fake_slack, fake_anthropic, settings)
    try:
        fake_slack.users[LEAD.id] = LEAD
        ann = rig.user("ann")
        return await rig.command(LEAD, "dashboard"), await rig.command(ann, "dashboard")
    finally:
        await rig.stop()


async def test_a_lead_gets_a_private_link_that_opens_the_dashboard_and_others_get_none(
    tmp_path: Path,
    fake_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
    dashboard: Served,
) -> None:
    lead_reply, customer_reply = await _ask(tmp_path, fake_slack, fake_anthropic, dashboard.url)
    assert customer_reply == REFUSAL
    assert lead_reply is not None
    match = re.fullmatch(r"<(http://\S+)\|Open the dashboard>: this link is only for you; .*", lead_reply)
    assert match, lead_reply
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        async with browser.get(match.group(1)) as response:
            assert response.status == 200
            assert "slack:U0LEAD" in await response.text()
        async with browser.get(match.group(1)) as response:
            assert response.status == 401


async def test_without_a_public_url_a_lead_is_told_the_dashboard_is_off(
    tmp_path: Path, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    lead_reply, customer_reply = await _ask(tmp_path, fake_slack, fake_anthropic, None)
    assert lead_reply == DASHBOARD_OFF
    assert customer_reply == REFUSAL
