"""Hand-off to a helpdesk through `supportbot serve` as a real process, against the fake Slack, Anthropic
and Zendesk APIs and a local webhook receiver: an escalation reaches the receiver signed and Zendesk as a
ticket whose link shows in the thread; a receiver that fails is retried and, after a restart, still gets
the escalation (kept in the outbox), while `/metrics` shows it waiting and the failed attempts; the
helpdesk's signed call resolves it and the bot answers in the thread again; a bad signature or an old
timestamp is refused."""

from __future__ import annotations

import asyncio
import json
import time
import tomllib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from fakes.anthropic import FakeAnthropic, Reply
from fakes.helpdesk import FakeReceiver
from fakes.slack import FakeSlack
from fakes.zendesk import FakeZendesk

from bot.handoff.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signed_headers, verify
from integrations.slack.blocks import ESCALATE
from integrations.slack.escalations import HANDED_OVER, RESOLVED
from tests.scrape import value
from tests.serve.rig import ROOT, Supportbot, run_quietly, slack_environment
from tests.serve.test_serve import QUESTION, ask, click, replies, wait_for_text
from tests.slack.rig import reply_text, section_text, sources_line, toml_text

WEBHOOK_SECRET = "whsec-test-0123456789"
INBOUND_SECRET = "inbound-test-9876543210"
ZENDESK_TOKEN = "zd-secret-token-123"
ASKED = QUESTION.removeprefix("<@U0BOT> ")
LEADS = "C0LEADS"


@pytest.fixture
async def receiver() -> AsyncIterator[FakeReceiver]:
    async with FakeReceiver() as fake:
        yield fake


@pytest.fixture
async def zendesk() -> AsyncIterator[FakeZendesk]:
    async with FakeZendesk(token=ZENDESK_TOKEN) as fake:
        yield fake


def handoff_env(
    tmp_path: Path, targets: list[str], receiver: FakeReceiver, zendesk: FakeZendesk
) -> dict[str, str]:
    """The repository's bot.toml with a fast ``[handoff]`` table, and the secrets it names."""
    data = tomllib.loads((ROOT / "config" / "bot.toml").read_text(encoding="utf-8"))
    data["slack"] = {"leads_channel": LEADS}
    data["handoff"] = {
        "targets": targets,
        "webhook_url": receiver.url,
        "zendesk_url": zendesk.base_url,
        "zendesk_email": zendesk.email,
        "retry_seconds": 0.2,
        "retry_max_seconds": 0.4,
        "poll_seconds": 0.2,
    }
    path = tmp_path / "bot.toml"
    path.write_text(toml_text(data), encoding="utf-8")
    return {
        "BOT_CONFIG_PATH": str(path),
        "HANDOFF_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "HANDOFF_INBOUND_SECRET": INBOUND_SECRET,
        "ZENDESK_API_TOKEN": ZENDESK_TOKEN,
    }


async def started(
    tmp_path: Path, fake_slack: FakeSlack, model: FakeAnthropic, env: dict[str, str]
) -> tuple[Supportbot, Any]:
    bot = await Supportbot.start(tmp_path, **slack_environment(fake_slack, model), **env)
    await bot.wait_ready()
    return bot, fake_slack.event_sender(f"{bot.url}/slack/events")


async def escalate(fake_slack: FakeSlack, model: FakeAnthropic, sender: Any, user_id: str) -> str:
    """``user_id`` asks, is answered, and clicks "Talk to a human"; the thread's ts."""
    model.script(Reply.text("Order ORD-10001 is on its way."))
    thread_ts = await ask(fake_slack, sender, user_id)
    await wait_for_text(fake_slack, thread_ts, final=True)
    [answer] = replies(fake_slack, thread_ts)
    await click(fake_slack, sender, user_id, answer, ESCALATE)
    await fake_slack.wait_for(
        lambda: HANDED_OVER in [section_text(m) for m in replies(fake_slack, thread_ts)], what="the hand-over"
    )
    return thread_ts


async def webhook_outbox(
    bot: Supportbot, until: Callable[[dict[str, float]], bool] | None = None, seconds: float = 15.0
) -> dict[str, float]:
    """The webhook target's ``supportbot_handoff_*`` samples in ``GET /metrics`` (without the prefix and
    the label), once ``until`` holds for them when it is given."""
    names = ("pending", "oldest_pending_seconds", "failures_total")
    async with asyncio.timeout(seconds):
        while True:
            body = (await bot.get("/metrics"))[1]
            found = {name: value(body, f"supportbot_handoff_{name}", target="webhook") for name in names}
            shown = {name: number for name, number in found.items() if number is not None}
            if until is None or until(shown):
                return shown
            await asyncio.sleep(0.1)


async def call_hook(
    bot: Supportbot, body: dict[str, Any], *, secret: str = INBOUND_SECRET, age: int = 0
) -> tuple[int, Any]:
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **signed_headers(secret, int(time.time()) - age, raw)}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{bot.url}/hooks/helpdesk", data=raw, headers=headers) as response,
    ):
        return response.status, await response.json()


async def test_an_escalation_reaches_the_webhook_signed_and_zendesk_and_the_helpdesk_resolves_it(
    tmp_path: Path,
    fake_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
    receiver: FakeReceiver,
    zendesk: FakeZendesk,
) -> None:
    env = handoff_env(tmp_path, ["webhook", "zendesk"], receiver, zendesk)
    fake_slack.add_channel(LEADS, name="support-leads")
    bot, sender = await started(tmp_path, fake_slack, fake_anthropic, env)
    try:
        ann = fake_slack.add_user(name="ann")
        thread_ts = await escalate(fake_slack, fake_anthropic, sender, ann.id)

        await fake_slack.wait_for(lambda: bool(receiver.deliveries), seconds=15, what="the webhook")
        [delivery] = receiver.deliveries
        assert verify(WEBHOOK_SECRET, delivery.headers, delivery.body, time.time(), 60)
        assert not verify("another-secret", delivery.headers, delivery.body, time.time(), 60)
        sent = delivery.json()
        assert sent["event"] == "escalation.opened"
        assert sent["asker"]["user_id"] == ann.id
        link = sent["thread"]["link"]
        assert link.startswith("https://") and "/archives/" in link and thread_ts.replace(".", "") in link
        assert [turn["text"] for turn in sent["transcript"]] == [ASKED, "Order ORD-10001 is on its way."]
        assert sent["summary"]

        ticket_notice = f"{zendesk.base_url}/agent/tickets/1"
        await fake_slack.wait_for(
            lambda: any(ticket_notice in section_text(m) for m in replies(fake_slack, thread_ts)),
            seconds=15,
            what="the ticket's link in the thread",
        )
        [ticket] = zendesk.tickets
        assert ticket.external_id == str(sent["escalation_id"])
        assert ASKED in ticket.description and link in ticket.description

        body = {"escalation_id": str(sent["escalation_id"]), "status": "solved", "solved_by": "Dana"}
        assert (await call_hook(bot, body, secret="wrong-secret"))[0] == 401
        assert (await call_hook(bot, body, age=3600))[0] == 401
        assert (await call_hook(bot, {**body, "status": "pending"})) == (
            202,
            {"resolved": 0, "ignored": "status 'pending'"},
        )
        assert await call_hook(bot, body) == (200, {"resolved": 1})
        await fake_slack.wait_for(
            lambda: section_text(replies(fake_slack, thread_ts)[-1]) == RESOLVED, what="the resolved notice"
        )
        [leads_post] = fake_slack.bot_messages(LEADS)
        assert sources_line(leads_post) == "✅ Resolved by Dana (helpdesk)"

        # The bot answers in the thread again.
        fake_anthropic.script(Reply.text("Happy to help again."))
        again = fake_slack.post_as_user(fake_slack.general.id, ann.id, "<@U0BOT> one more thing", thread_ts)
        assert (await sender.send_event(again.event)).status == 200
        await fake_slack.wait_for(
            lambda: "Happy to help again." in reply_text(replies(fake_slack, thread_ts)),
            seconds=15,
            what="an answer",
        )
    finally:
        assert await bot.stop() == 0
    assert WEBHOOK_SECRET not in bot.log and INBOUND_SECRET not in bot.log and ZENDESK_TOKEN not in bot.log


async def test_a_failing_receiver_is_retried_and_gets_the_escalation_after_a_restart(
    tmp_path: Path,
    fake_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
    receiver: FakeReceiver,
    zendesk: FakeZendesk,
) -> None:
    env = handoff_env(tmp_path, ["webhook"], receiver, zendesk)
    receiver.fail_next(503, times=1000)
    bot, sender = await started(tmp_path, fake_slack, fake_anthropic, env)
    ann = fake_slack.add_user(name="ann")
    try:
        assert await webhook_outbox(bot) == {"pending": 0, "oldest_pending_seconds": 0, "failures_total": 0}
        await escalate(fake_slack, fake_anthropic, sender, ann.id)
        await fake_slack.wait_for(lambda: len(receiver.requests) >= 3, seconds=15, what="retries")
        waiting = await webhook_outbox(bot, lambda m: m["failures_total"] >= 3 and m["pending"] == 1)
        assert 0 < waiting["oldest_pending_seconds"] < 60
    finally:
        assert await bot.stop() == 0
    assert receiver.deliveries == []
    ids = {received.headers["X-Supportbot-Delivery"] for received in receiver.requests}
    assert len(ids) == 1  # the same delivery each time

    receiver.recover()  # the helpdesk is back
    receiver.requests.clear()
    restarted, _ = await started(tmp_path, fake_slack, fake_anthropic, env)
    try:
        await fake_slack.wait_for(lambda: bool(receiver.deliveries), seconds=15, what="the delivery")
        [delivery] = receiver.deliveries
        assert delivery.headers["X-Supportbot-Delivery"] in ids
        assert delivery.json()["asker"]["user_id"] == ann.id
        assert SIGNATURE_HEADER in delivery.headers and TIMESTAMP_HEADER in delivery.headers
        assert await webhook_outbox(bot=restarted, until=lambda m: m["pending"] == 0) == {
            "pending": 0,
            "oldest_pending_seconds": 0,
            "failures_total": 0,
        }
    finally:
        assert await restarted.stop() == 0
    assert len(receiver.deliveries) == 1


@pytest.mark.parametrize(
    ("handoff", "env", "named"),
    [
        ({"targets": ["webhook"]}, {}, "webhook_url"),
        (
            {"targets": ["webhook"], "webhook_url": "http://helpdesk.example/hook"},
            {},
            "webhook_url must use https",
        ),
        (
            {"targets": ["webhook"], "webhook_url": "https://helpdesk.example/hook"},
            {},
            "HANDOFF_WEBHOOK_SECRET",
        ),
        ({"targets": ["zendesk"], "zendesk_url": "https://acme.zendesk.com"}, {}, "zendesk_email"),
        (
            {
                "targets": ["zendesk"],
                "zendesk_url": "https://acme.zendesk.com",
                "zendesk_email": "bot@acme.example",
            },
            {},
            "ZENDESK_API_TOKEN",
        ),
        ({"targets": ["fax"]}, {}, "handoff.targets"),
        ({"poll_seconds": 0}, {}, "handoff.poll_seconds"),
    ],
)
async def test_bad_handoff_settings_exit_2_naming_the_key(
    tmp_path: Path, handoff: dict[str, Any], env: dict[str, str], named: str
) -> None:
    data = tomllib.loads((ROOT / "config" / "bot.toml").read_text(encoding="utf-8"))
    data["handoff"] = handoff
    path = tmp_path / "bot.toml"
    path.write_text(toml_text(data), encoding="utf-8")
    status, output = await run_quietly(tmp_path, "serve", BOT_CONFIG_PATH=str(path), **env)
    assert status == 2, output
    assert named in output and "Traceback" not in output
