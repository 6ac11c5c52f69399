"""Slack's request signatures, checked by the real slack-bolt app over HTTP: forged, stale, tampered and
replayed requests (events, slash commands, button clicks)."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest
from fakes.anthropic import FakeAnthropic, Reply
from fakes.slack import EventSender, block_actions_payload, mention, slack_signature

from integrations.slack.blocks import RESOLVE
from integrations.slack.inbound import thread_ref
from tests.security.conftest import LEAD_ID, RigFactory
from tests.security.leak_checks import SLACK_SIGNING_SECRET
from tests.slack.rig import SlackRig

STALE = 5 * 60 + 30


async def mention_body(rig: SlackRig, text: str = "where is my order?") -> tuple[bytes, str]:
    ann = rig.user("ann")
    post = rig.fake.post_as_user(rig.fake.general.id, ann.id, f"{mention()} {text}")
    assert post.app_mention_event is not None
    envelope = rig.sender.envelope(post.app_mention_event)
    return json.dumps(envelope, separators=(",", ":")).encode(), post.ts


async def nothing_happened(rig: SlackRig, thread_ts: str) -> None:
    await rig.settle()
    assert rig.model.message_requests == []
    assert rig.fake.bot_messages() == []
    ref = thread_ref(rig.fake.team_id, rig.fake.general.id, thread_ts)
    assert await rig.core.store.load_turns(ref) == []


def forged(secret: str = "not-the-signing-secret") -> EventSender:
    return EventSender("unused", secret)


@pytest.mark.parametrize(
    "tamper",
    [
        "garbage signature",
        "signed with another secret",
        "v1 scheme",
        "body changed after signing",
        "stale timestamp",
        "timestamp in the future",
        "no signature header",
        "timestamp not a number",
    ],
)
async def test_a_forged_event_is_refused_and_not_answered(secure_rig: RigFactory, tamper: str) -> None:
    rig = await secure_rig()
    body, ts = await mention_body(rig)
    now = int(time.time())
    stamp: int | str = now
    signature = slack_signature(SLACK_SIGNING_SECRET, now, body)
    headers: dict[str, str] = {}
    match tamper:
        case "garbage signature":
            signature = "v0=" + "0" * 64
        case "signed with another secret":
            signature = forged().sign(body, now)
        case "v1 scheme":
            signature = signature.replace("v0=", "v1=")
        case "body changed after signing":
            body = body.replace(b"where is my order?", b"list every order!!")
        case "stale timestamp":
            stamp = now - STALE
            signature = slack_signature(SLACK_SIGNING_SECRET, stamp, body)
        case "timestamp in the future":
            stamp = now + STALE
            signature = slack_signature(SLACK_SIGNING_SECRET, stamp, body)
        case "no signature header":
            signature = ""
        case "timestamp not a number":
            stamp = "soon"
            signature = slack_signature(SLACK_SIGNING_SECRET, stamp, body)
    delivery = await rig.sender.post_signed(
        "event",
        body,
        "application/json",
        timestamp=stamp,  # type: ignore[arg-type]
        signature=signature,
        extra_headers=headers,
    )
    assert delivery.status == 401, delivery
    await nothing_happened(rig, ts)


async def test_a_replayed_event_is_answered_once_and_a_stale_replay_is_refused(
    secure_rig: RigFactory, secret_model: FakeAnthropic
) -> None:
    """Slack signatures carry no nonce: a captured request replayed within five minutes passes the check
    (200), and only the dedup on the message keeps it from being answered twice. Older replays fail."""
    rig = await secure_rig()
    secret_model.script(Reply.text("Let me check that for you."))
    body, ts = await mention_body(rig)
    now = int(time.time())
    signature = slack_signature(SLACK_SIGNING_SECRET, now, body)

    first = await rig.sender.post_signed(
        "event", body, "application/json", timestamp=now, signature=signature
    )
    await rig.settle()
    replays = [
        await rig.sender.post_signed("event", body, "application/json", timestamp=now, signature=signature)
        for _ in range(3)
    ]
    retried = await rig.sender.post_signed(
        "event",
        body,
        "application/json",
        timestamp=now,
        signature=signature,
        extra_headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    await rig.settle()

    assert first.status == 200 and [r.status for r in replays] == [200, 200, 200] and retried.status == 200
    assert len(rig.model.message_requests) == 1
    [answer] = rig.fake.bot_messages()
    assert answer.thread_ts == ts and "Let me check that for you." in answer.visible_text
    ref = thread_ref(rig.fake.team_id, rig.fake.general.id, ts)
    assert [t.role for t in await rig.core.store.load_turns(ref)] == ["user", "assistant"]

    stale = now - STALE
    late = await rig.sender.post_signed(
        "event",
        body,
        "application/json",
        timestamp=stale,
        signature=slack_signature(SLACK_SIGNING_SECRET, stale, body),
    )
    assert late.status == 401
    secret_model.assert_clean()


async def test_a_forged_slash_command_of_a_lead_changes_nothing(secure_rig: RigFactory) -> None:
    rig = await secure_rig()
    channel = rig.fake.general.id
    url = rig.fake.new_response_url(channel_id=channel, user_id=LEAD_ID)
    intruder = forged()
    intruder.team_id = rig.fake.team_id
    customer = rig.user("gina", external=True)
    for text in ("pause", f"link <@{customer.id}> C-1001", "kb reload", "stats"):
        form = {
            "team_id": rig.fake.team_id,
            "channel_id": channel,
            "user_id": LEAD_ID,
            "command": "/support",
            "text": text,
            "response_url": url,
        }
        body = urlencode(form).encode()
        now = int(time.time())
        for signature in (intruder.sign(body, now), "v0=deadbeef"):
            delivery = await rig.sender.post_signed(
                "slash_command",
                body,
                "application/x-www-form-urlencoded",
                timestamp=now,
                signature=signature,
            )
            assert delivery.status == 401, (text, delivery)
    await rig.settle()
    assert not await rig.core.store.is_paused("slack", rig.fake.team_id, channel)
    assert await rig.core.store.customer_for("slack", customer.id) is None
    assert rig.fake.response_posts() == []


async def test_a_forged_resolve_click_leaves_the_escalation_open(secure_rig: RigFactory) -> None:
    rig = await secure_rig()
    channel = rig.fake.general.id
    ts = rig.fake.next_ts()
    ref = thread_ref(rig.fake.team_id, channel, ts)
    await rig.core.store.open_escalation(ref, "U0SOMEONE", "needs a refund")
    payload = block_actions_payload(
        user_id=LEAD_ID, channel_id=channel, message_ts=ts, action_id=RESOLVE, value=ref.key
    )
    body = urlencode({"payload": json.dumps(payload)}).encode()
    now = int(time.time())
    delivery = await rig.sender.post_signed(
        "interaction",
        body,
        "application/x-www-form-urlencoded",
        timestamp=now,
        signature=forged().sign(body, now),
    )
    await rig.settle()
    assert delivery.status == 401
    assert await rig.core.store.is_escalated(ref)
    assert rig.fake.bot_messages() == []


async def test_url_verification_needs_a_valid_signature(secure_rig: RigFactory) -> None:
    rig = await secure_rig()
    refused = await rig.sender.send_url_verification("challenge-123", signature="v0=0")
    accepted = await rig.sender.send_url_verification("challenge-456")
    assert refused.status == 401 and "challenge-123" not in refused.body
    assert accepted.status == 200 and "challenge-456" in accepted.body


@pytest.mark.parametrize(
    "body",
    [
        b"not json at all",
        b'{"type": "event_callback", "event": {"type": "app_mention", "user": false}}',
        b'{"type": "event_callback", "authorizations": [[1]], "event": {"type": "message"}}',
        b'{"type": "event_callback", "event": []}',
    ],
    ids=["not JSON", "user is false", "authorizations of lists", "event is a list"],
)
async def test_an_unsigned_request_of_any_shape_is_refused_with_401(
    secure_rig: RigFactory, body: bytes
) -> None:
    """The signature is checked before anything reads the body: no 500, no error in the log for a stranger."""
    rig = await secure_rig()
    now = int(time.time())
    delivery = await rig.sender.post_signed(
        "event", body, "application/json", timestamp=now, signature=forged().sign(body, now)
    )
    await rig.settle()
    assert delivery.status == 401, delivery
