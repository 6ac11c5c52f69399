"""Hand-off to a helpdesk on Discord: an escalation becomes a Zendesk ticket (on the fake Support API)
whose link is posted in the thread, and a Zendesk webhook's call to ``POST /hooks/helpdesk``, signed as
Zendesk signs, resolves it:
the thread is told, the leads' notice says who resolved it, and the bot answers in the thread again."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from fakes.anthropic import Reply
from fakes.discord import FakeDiscord
from fakes.http_server import serve
from fakes.zendesk import FakeZendesk

from bot.handoff.inbound import HelpdeskHook
from bot.handoff.signing import ZENDESK_SIGNATURE_HEADER, ZENDESK_TIMESTAMP_HEADER, zendesk_signature
from bot.runtime import App
from tests.discord.rig import RigFactory
from tests.discord.test_discord_leads import RESOLVED, answered, button, lead_tables, leads_channel

TOKEN = "zd-secret-token-123"
INBOUND = "inbound-test-9876543210"


@pytest.fixture
async def zendesk() -> AsyncIterator[FakeZendesk]:
    async with FakeZendesk(token=TOKEN) as fake:
        yield fake


@contextlib.asynccontextmanager
async def serving(core: App) -> AsyncIterator[str]:
    """The hand-off's delivery loop running, and its inbound route on 127.0.0.1; the route's URL."""
    secret = core.helpdesk.inbound_secret
    assert secret is not None
    hook = HelpdeskHook(
        core.helpdesk, core.store, secret.get_secret_value(), core.config.handoff.replay_seconds
    )
    app = web.Application()
    app.router.add_routes(hook.routes())
    async with serve(app) as base_url:
        delivering = asyncio.create_task(core.helpdesk.run())
        try:
            yield f"{base_url}/hooks/helpdesk"
        finally:
            delivering.cancel()
            await asyncio.gather(delivering, return_exceptions=True)


async def zendesk_post(url: str, body: dict[str, Any], secret: str = INBOUND) -> tuple[int, Any]:
    """``body`` posted as a Zendesk webhook sends it, signed with its signing secret."""
    raw = json.dumps(body).encode()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {
        "Content-Type": "application/json",
        ZENDESK_TIMESTAMP_HEADER: stamp,
        ZENDESK_SIGNATURE_HEADER: zendesk_signature(secret, stamp, raw),
    }
    async with aiohttp.ClientSession() as session, session.post(url, data=raw, headers=headers) as response:
        return response.status, await response.json()


async def test_a_zendesk_ticket_is_linked_in_the_thread_and_solving_it_resolves_the_escalation(
    discord_rig: RigFactory,
    fake_discord: FakeDiscord,
    zendesk: FakeZendesk,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ZENDESK_API_TOKEN", TOKEN)
    monkeypatch.setenv("HANDOFF_INBOUND_SECRET", INBOUND)
    handoff = {
        "targets": ["zendesk"],
        "zendesk_url": zendesk.base_url,
        "zendesk_email": zendesk.email,
        "poll_seconds": 0.2,
    }
    rig = await discord_rig(handoff=handoff, **lead_tables(fake_discord))
    fake = rig.fake
    async with serving(rig.core) as hook_url:
        thread, reply = await answered(rig, fake.alice, "my parcel is lost", "I'm sorry to hear that.")
        await rig.click(fake.alice, reply, button(reply, "escalate"))

        link = f"{zendesk.base_url}/agent/tickets/1"
        notice = f"🎫 The support team is tracking this in [a ticket](<{link}>)."
        await fake.wait_for(
            lambda: any(m.content == notice for m in rig.answers(thread)),
            seconds=10,
            what="the ticket's link",
        )
        [ticket] = zendesk.tickets
        assert "my parcel is lost" in ticket.description
        assert f"https://discord.com/channels/{fake.guild.id}/{thread.id}" in ticket.description
        assert ticket.tags == ["supportbot", "supportbot_discord"]

        solved = {"escalation_id": ticket.external_id, "status": "Solved", "solved_by": "Dana"}
        assert (await zendesk_post(hook_url, solved, secret="another-secret"))[0] == 401
        assert await zendesk_post(hook_url, solved) == (200, {"resolved": 1})
        assert rig.answers(thread)[-1].content == RESOLVED
        [lead_notice] = rig.answers(leads_channel(fake))
        assert lead_notice.content.endswith("Resolved by Dana (helpdesk)")

        rig.model.script(Reply.text("Glad to help again.", tokens_per_second=300))
        await rig.mention(fake.alice, "one more question", thread)
        await fake.wait_for(
            lambda: "Glad to help again." in rig.answers(thread)[-1].content, seconds=10, what="an answer"
        )
