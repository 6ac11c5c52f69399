"""Which Slack events the bot answers, and what it reads in them (pure translation, no I/O)."""

from __future__ import annotations

from typing import Any

import pytest
from fakes.slack import (
    BOT_ID,
    BOT_USER_ID,
    EventSender,
    app_mention_event,
    block_actions_payload,
    mention,
    message_event,
)

from bot.config import ChannelOverride
from bot.types import Principal, Role, ThreadRef
from integrations.slack.inbound import (
    DM_THREAD,
    BotIdentity,
    clean_text,
    click_from_payload,
    command_from_payload,
    mentioned_users,
    message_from_event,
    parse_thread_key,
)

BOT = BotIdentity(BOT_USER_ID, BOT_ID)
SENDER = EventSender("http://unused")
TS, THREAD = "1700000000.000200", "1700000000.000100"


def envelope(event: dict[str, Any]) -> dict[str, Any]:
    return SENDER.envelope(event)


def translate(event: dict[str, Any], channels: dict[str, ChannelOverride] | None = None) -> Any:
    return message_from_event(envelope(event), bot=BOT, channels=channels or {})


def test_a_mention_in_a_channel_starts_a_thread_under_it() -> None:
    message = translate(app_mention_event(user="U1", text=f"{mention()} where?", channel="C1", ts=TS))
    assert (message.channel_id, message.user_id, message.ts, message.thread_ts) == ("C1", "U1", TS, None)
    assert not message.follow_up and not message.is_dm
    assert message.ref == ThreadRef("slack", SENDER.team_id, "C1", TS)
    assert message.reply_thread_ts == TS


def test_a_mention_in_a_thread_answers_in_that_thread() -> None:
    event = app_mention_event(user="U1", text=f"{mention()} and?", channel="C1", ts=TS, thread_ts=THREAD)
    message = translate(event)
    assert message.ref.thread_id == THREAD and message.reply_thread_ts == THREAD


def test_a_thread_message_without_mention_is_a_follow_up() -> None:
    message = translate(message_event(channel="C1", user="U1", text="and?", ts=TS, thread_ts=THREAD))
    assert message.follow_up and message.ref.thread_id == THREAD


def test_a_direct_message_is_answered_at_the_top_level_of_the_dm() -> None:
    message = translate(message_event(channel="D1", user="U1", text="hi", ts=TS, channel_type="im"))
    assert message.is_dm and not message.follow_up and message.in_dm_exchange
    assert message.ref == ThreadRef("slack", SENDER.team_id, "D1", DM_THREAD)
    assert message.reply_thread_ts is None


def test_a_thread_in_a_dm_is_a_thread() -> None:
    event = message_event(channel="D1", user="U1", text="hi", ts=TS, thread_ts=THREAD, channel_type="im")
    message = translate(event)
    assert message.ref.thread_id == THREAD and message.reply_thread_ts == THREAD and not message.follow_up


def test_every_delivery_of_one_message_has_one_dedup_key() -> None:
    by_mention = translate(app_mention_event(user="U1", text=f"{mention()} x", channel="C1", ts=TS))
    by_message = translate(message_event(channel="D1", user="U1", text="x", ts=TS, channel_type="im"))
    again = translate(app_mention_event(user="U1", text=f"{mention()} x", channel="C1", ts=TS))
    assert by_mention.dedup_key == again.dedup_key != by_message.dedup_key
    inbound = by_mention.to_inbound(Principal("slack", "U1", "Ann", frozenset({Role.EMPLOYEE})), "x")
    assert inbound.event_id == by_mention.dedup_key and inbound.message_id == TS
    assert inbound.sent_at.timestamp() == pytest.approx(float(TS))


@pytest.mark.parametrize(
    ("event", "why"),
    [
        (message_event(channel="C1", user="U1", text="hello all", ts=TS), "top-level channel chatter"),
        (
            message_event(channel="C1", user="U1", text=f"{mention()} hi", ts=TS, thread_ts=THREAD),
            "app_mention",
        ),
        (message_event(channel="C1", user=BOT_USER_ID, bot_id=BOT_ID, text="mine", ts=TS), "own message"),
        (app_mention_event(user=BOT_USER_ID, text=f"{mention()} me", channel="C1", ts=TS), "own mention"),
        (message_event(channel="C1", text="beep", ts=TS, thread_ts=THREAD, subtype="bot_message"), "a bot"),
        (message_event(channel="D1", user="U9", bot_id="B9", text="x", channel_type="im"), "an app's user"),
        (message_event(channel="C1", user="U1", text="new", ts=TS, subtype="message_changed"), "an edit"),
        (message_event(channel="C1", ts=TS, subtype="message_deleted"), "a deletion"),
        (message_event(channel="C1", user="U1", subtype="channel_join"), "a join"),
    ],
)
def test_ignored_events(event: dict[str, Any], why: str) -> None:
    assert translate(event) is None, why


def test_another_bot_is_answered_where_the_channel_says_so() -> None:
    event = message_event(channel="C1", text="beep", ts=TS, thread_ts=THREAD, subtype="bot_message")
    message = translate(event, {"C1": ChannelOverride(answer_bots=True)})
    assert message.bot_name == "other bot" and message.user_id == "B0OTHERBOT" and message.follow_up
    assert translate(event, {"C2": ChannelOverride(answer_bots=True)}) is None


@pytest.mark.parametrize(
    "event",
    [
        {"type": "app_mention", "user": "U1", "text": "x", "channel": "C1"},  # no ts
        {"type": "app_mention", "user": "U1", "text": "x", "channel": "C1", "ts": "yesterday"},
        {"type": "app_mention", "user": "U1", "text": 5, "channel": "C1", "ts": TS},
        {"type": "app_mention", "text": "x", "channel": "C1", "ts": TS},  # no author
        {"type": "message", "user": "U1", "text": "x", "ts": TS},  # no channel
    ],
)
def test_malformed_events_are_dropped_and_logged(
    event: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    assert translate(event) is None
    assert "malformed" in caplog.text
    assert message_from_event({"event_id": "Ev1"}, bot=BOT, channels={}) is None


def test_clean_text_strips_the_bot_and_names_the_others() -> None:
    text = f"{mention()} ask <@U2> and <@U3|carol> in <#C1|help>, see <https://x.example|docs> &amp; <!here>"
    assert mentioned_users(text) == [BOT_USER_ID, "U2", "U3"]
    cleaned = clean_text(text, bot_user_id=BOT_USER_ID, names={"U2": "bob"})
    assert cleaned == "ask @bob and @carol in #help, see docs (https://x.example) & @here"
    assert clean_text(f"  {mention()}  ", bot_user_id=BOT_USER_ID, names={}) == "@Support"
    assert clean_text("a\n  indented", bot_user_id=BOT_USER_ID, names={}) == "a\n  indented"


def test_slash_command_and_button_payloads() -> None:
    form = {"team_id": "T1", "channel_id": "C1", "user_id": "U1", "text": "stats 3", "command": "/support"}
    command = command_from_payload(form, bot=BOT)
    assert command is not None and (command.team_id, command.text) == ("T1", "stats 3")
    assert command_from_payload({"team_id": "T1"}, bot=BOT) is None

    click = click_from_payload(
        block_actions_payload(
            user_id="U1", channel_id="C1", message_ts=TS, action_id="a", value="v", thread_ts=THREAD
        ),
        bot=BOT,
    )
    assert (
        click is not None and click.ref == ThreadRef("slack", "T0FAKE", "C1", THREAD) and click.value == "v"
    )
    dm_click = click_from_payload(
        block_actions_payload(user_id="U1", channel_id="D1", message_ts=TS, action_id="a"), bot=BOT
    )
    assert dm_click is not None and dm_click.ref.thread_id == DM_THREAD
    assert click_from_payload({"type": "block_actions", "actions": []}, bot=BOT) is None


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("slack:T1:C1:1700000000.000100", True),
        ("slack:T1:D1:dm", True),
        ("discord:G1:C1:1700000000.000100", False),
        ("slack:T1:C1", False),
        ("slack:T1:C1:not-a-ts", False),
    ],
)
def test_thread_keys_parse_back(key: str, ok: bool) -> None:
    ref = parse_thread_key(key)
    assert (ref is not None and ref.key == key) if ok else ref is None
