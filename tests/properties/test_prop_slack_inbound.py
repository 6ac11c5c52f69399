"""Inbound Slack event bodies: the one translation function (``message_from_event``) and the real bolt app
over HTTP take anything without raising, and the bot keeps answering afterwards."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from fakes.anthropic import FakeAnthropic, Reply
from fakes.slack import (
    BOT_ID,
    BOT_USER_ID,
    EventSender,
    FakeSlack,
    app_mention_event,
    mention,
    message_event,
)
from hypothesis import example, given
from hypothesis import strategies as st

from bot.config import ChannelOverride
from bot.types import Principal, Role
from integrations.slack.inbound import BotIdentity, SlackMessage, clean_text, message_from_event
from tests.properties.strategies import ANY_TEXT, JSON_VALUES, QUICK, SHARED_FIXTURE, mutated
from tests.slack.conftest import slack_rig, wall_clock_slack  # noqa: F401  (fixtures)
from tests.slack.rig import RigFactory, SlackRig, section_text

BOT = BotIdentity(BOT_USER_ID, BOT_ID)
SENDER = EventSender("http://unused")
TS, THREAD = "1700000000.000200", "1700000000.000100"
CHANNELS = {"C1": ChannelOverride(answer_bots=True), "C2": ChannelOverride()}
PRINCIPAL = Principal("slack", "U1", "Ann", frozenset({Role.CUSTOMER}))


def envelope(event: dict[str, Any]) -> dict[str, Any]:
    body = SENDER.envelope(event)
    body.pop("event_context")  # random, and irrelevant to the translation
    return body


def _bare(event: dict[str, Any]) -> dict[str, Any]:
    event.pop("blocks", None)  # mutations should hit the fields the bot reads, not Block Kit
    return event


REAL_EVENTS = [
    envelope(_bare(app_mention_event(user="U1", text=f"{mention()} where?", channel="C1", ts=TS))),
    envelope(app_mention_event(user="U1", text=f"{mention()} and?", channel="C1", ts=TS, thread_ts=THREAD)),
    envelope(_bare(message_event(channel="C1", user="U1", text="and?", ts=TS, thread_ts=THREAD))),
    envelope(_bare(message_event(channel="D1", user="U1", text="hi", ts=TS, channel_type="im"))),
    envelope(message_event(channel="C1", text="beep", ts=TS, thread_ts=THREAD, subtype="bot_message")),
    envelope(message_event(channel="C1", user="U1", text="new", ts=TS, subtype="message_changed")),
]


def check_translation(result: SlackMessage | None) -> None:
    """A drop, or a message the rest of the bot can use as it is."""
    if result is None:
        return
    assert isinstance(result, SlackMessage)
    assert all(
        isinstance(v, str) and v for v in (result.team_id, result.channel_id, result.user_id, result.ts)
    )
    assert isinstance(result.text, str)
    # What the answering path does with it next must work too.
    inbound = result.to_inbound(PRINCIPAL, clean_text(result.text, bot_user_id=BOT_USER_ID, names={}))
    assert inbound.ref == result.ref and inbound.event_id == result.dedup_key


@QUICK
@given(
    body=st.dictionaries(ANY_TEXT, JSON_VALUES, max_size=6)
    | JSON_VALUES.filter(lambda v: isinstance(v, dict))
)
def test_any_json_object_is_translated_or_dropped(body: dict[str, Any]) -> None:
    check_translation(message_from_event(body, bot=BOT, channels=CHANNELS))


@QUICK
@given(
    event=st.dictionaries(
        st.sampled_from(["type", "user", "text", "channel", "ts", "thread_ts"]), JSON_VALUES
    )
)
def test_any_event_object_is_translated_or_dropped(event: dict[str, Any]) -> None:
    check_translation(message_from_event(envelope(event), bot=BOT, channels=CHANNELS))


@QUICK
@given(body=st.sampled_from(REAL_EVENTS).flatmap(mutated))
@example(body={**REAL_EVENTS[0], "team_id": None, "authorizations": []})
@example(body={**REAL_EVENTS[0], "event": {**REAL_EVENTS[0]["event"], "ts": "999999999999.000001"}})
def test_mutated_real_events_are_translated_or_dropped(body: dict[str, Any]) -> None:
    check_translation(message_from_event(body, bot=BOT, channels=CHANNELS))


# ---- through the real bolt app over HTTP ---------------------------------------------------------------


class Live:
    """The rig, shown briefly when Hypothesis reports a failing example."""

    def __init__(self, rig: SlackRig) -> None:
        self.rig = rig

    def __repr__(self) -> str:
        return "<the Slack rig>"


@pytest_asyncio.fixture
async def live(slack_rig: RigFactory, fake_anthropic: FakeAnthropic) -> AsyncIterator[Live]:  # noqa: F811
    fake_anthropic.responder = lambda request: Reply.text("Happy to help.", ping=False)
    yield Live(await slack_rig())


def live_events(fake: FakeSlack) -> list[dict[str, Any]]:
    """Real events of a new person (each person has a per-minute message allowance)."""
    ann = fake.add_user(name="ann")
    post = fake.post_as_user(fake.general.id, ann.id, f"{mention()} where is my parcel?")
    dm = fake.add_dm(ann.id)
    direct = fake.post_as_user(dm.id, ann.id, "hello?")
    assert post.app_mention_event is not None
    return [post.app_mention_event, post.message_event, direct.message_event]


async def still_answers(rig: SlackRig) -> None:
    post = await rig.mention(rig.user("bob"), "are you still there?")
    await rig.settle()
    [answer] = rig.bot_messages(rig.fake.general.id, post.ts)
    assert section_text(answer) == "Happy to help."


@SHARED_FIXTURE
@given(data=st.data())
async def test_the_bolt_app_acknowledges_any_signed_event_and_keeps_answering(
    live: Live, data: st.DataObject
) -> None:
    """Any values in the event Slack delivers (the envelope keeps its shape: see the next test)."""
    rig = live.rig
    base = rig.sender.envelope(data.draw(st.sampled_from(live_events(rig.fake))))
    body = {**base, "event": data.draw(mutated(base["event"]))}
    delivery = await rig.sender.post_signed(
        "event", json.dumps(body).encode(), "application/json", timestamp=int(time.time())
    )
    await rig.settle()
    assert delivery.status != 500, body["event"]
    if isinstance(body["event"].get("type"), str) and body["event"]["type"] in ("app_mention", "message"):
        assert delivery.status == 200, (delivery, body["event"])
    await still_answers(rig)


def broken(change: str, envelope: dict[str, Any]) -> bytes:
    bodies: dict[str, Any] = {
        "not JSON": None,
        "a JSON list": [],
        "JSON null": None,
        "no event": {"type": "event_callback"},
        "event is a number": {**envelope, "event": 5},
        "event is a list": {**envelope, "event": []},
        "authorizations hold a list": {**envelope, "authorizations": [[1]]},
        "authorizations empty, no team_id": {**envelope, "authorizations": [], "team_id": None},
        "event user is false": {**envelope, "event": {**envelope["event"], "user": False}},
    }
    if change == "not JSON":
        return b"event=not json"
    return json.dumps(bodies[change]).encode()


@pytest.mark.parametrize(
    "change",
    [
        "not JSON",
        "a JSON list",
        "JSON null",
        "no event",
        "event is a number",
        "event is a list",
        "authorizations hold a list",
        "authorizations empty, no team_id",
        "event user is false",
    ],
)
async def test_the_bolt_app_survives_signed_bodies_of_the_wrong_shape(live: Live, change: str) -> None:
    rig = live.rig
    [event, *_] = live_events(rig.fake)
    body = broken(change, rig.sender.envelope(event))
    delivery = await rig.sender.post_signed("event", body, "application/json", timestamp=int(time.time()))
    await rig.settle()
    assert delivery.status < 500, delivery
    await still_answers(rig)
