"""Thread and DM history: conversations.replies paginated, the store's record used instead when it can be,
turns built, named and merged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from fakes.slack import (
    BOT_ID,
    BOT_USER_ID,
    EventSender,
    FakeSlack,
    app_mention_event,
    mention,
    message_event,
)

from bot.config import SlackRoles
from bot.store import Store
from bot.store.sqlite import MEMORY, SQLiteStore
from bot.types import Turn
from integrations.slack.history import ThreadHistory, api_turn, merge_turns
from integrations.slack.inbound import BotIdentity, SlackMessage, message_from_event, ts_time
from integrations.slack.principals import PrincipalResolver

BOT = BotIdentity(BOT_USER_ID, BOT_ID)
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    opened = await SQLiteStore.open(MEMORY)
    yield opened
    await opened.close()


def history_for(fake: FakeSlack, store: Store, **kwargs: object) -> ThreadHistory:
    client = fake.client()
    people = PrincipalResolver(client, store, SlackRoles())
    options: dict[str, object] = {"dm_window": timedelta(hours=24), "dm_turns": 20, **kwargs}
    return ThreadHistory(client, store, people, **options)  # type: ignore[arg-type]


def as_message(event: dict[str, object]) -> SlackMessage:
    message = message_from_event(EventSender("http://unused").envelope(event), bot=BOT, channels={})
    assert message is not None
    return message


def turn(role: str, author: str, text: str, n: int) -> Turn:
    return Turn(role, author, text, f"m{n}", T0 + timedelta(seconds=n))  # type: ignore[arg-type]


def test_merge_joins_consecutive_turns_of_one_role_keeping_names_and_the_first_id() -> None:
    turns = [
        turn("user", "ann", "q1", 1),
        turn("user", "ann", "q2", 2),
        turn("user", "bob", "me too", 3),
        turn("assistant", "bot", "part 1", 4),
        turn("assistant", "bot", "part 2", 5),
        turn("user", "ann", "thanks", 6),
    ]
    merged = merge_turns(turns)
    assert [(t.role, t.author, t.text, t.message_id) for t in merged] == [
        ("user", "", "ann: q1\n\nq2\n\nbob: me too", "m1"),
        ("assistant", "bot", "part 1\n\npart 2", "m4"),
        ("user", "ann", "thanks", "m6"),
    ]


def test_turns_with_tool_exchanges_are_not_merged() -> None:
    with_tools = Turn("assistant", "bot", "done", "m2", T0, ({"role": "assistant", "content": []},))
    merged = merge_turns([with_tools, turn("assistant", "bot", "more", 3)])
    assert len(merged) == 2 and merged[0] is with_tools


def test_api_messages_become_turns() -> None:
    ours = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "text": "*answer*", "ts": "1.000100"}
    theirs = {"type": "message", "user": "U1", "text": f"{mention()} hi <@U2>", "ts": "1.000200"}
    other_bot = {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": "B9",
        "username": "CI",
        "text": "red",
        "ts": "1.3",
    }
    gone = {"type": "message", "subtype": "tombstone", "text": "This message was deleted.", "ts": "1.000400"}
    names = {"U1": "ann", "U2": "bob"}
    assert api_turn(ours, BOT, names) == Turn("assistant", "bot", "*answer*", "1.000100", ts_time("1.000100"))
    assert api_turn(theirs, BOT, names) == Turn("user", "ann", "hi @bob", "1.000200", ts_time("1.000200"))
    other = api_turn(other_bot, BOT, names)
    assert other is not None and (other.role, other.author, other.text) == ("user", "CI", "red")
    assert api_turn(gone, BOT, names) is None


async def test_a_thread_is_read_across_pages_once_then_from_the_store(
    fake_slack: FakeSlack, store: Store
) -> None:
    channel = fake_slack.general.id
    ann = fake_slack.add_user(name="ann", display_name="Ann")
    bob = fake_slack.add_user(name="bob", display_name="Bob")
    root = fake_slack.post_as_user(channel, ann.id, "Our checkout page shows an error").ts
    for i in range(6):
        fake_slack.post_as_user(channel, (bob if i % 2 else ann).id, f"detail {i}", thread_ts=root)
    asked = fake_slack.post_as_user(channel, bob.id, f"{mention()} any idea?", thread_ts=root)
    message = as_message(
        app_mention_event(
            user=bob.id, text=asked.message_event["text"], channel=channel, ts=asked.ts, thread_ts=root
        )
    )
    history = history_for(fake_slack, store, page_size=3)

    turns = await history.load(message, BOT)
    calls = fake_slack.calls("conversations.replies")
    assert len(calls) == 4  # 8 messages, 2 new ones per page after the repeated parent
    assert [t.message_id for t in merge_turns(turns)] == [t.message_id for t in turns]  # already merged
    assert [(t.role, t.author, t.message_id) for t in turns] == [("user", "", root)]
    assert turns[0].text == (
        "Ann: Our checkout page shows an error\n\ndetail 0\n\nBob: detail 1\n\nAnn: detail 2\n\n"
        "Bob: detail 3\n\nAnn: detail 4\n\nBob: detail 5\n\nBob: any idea?"
    )

    fake_slack.reset_calls()
    again = await history.load(message, BOT)
    assert fake_slack.calls("conversations.replies") == []  # the store has the whole thread now
    assert again == turns


async def test_the_store_answers_when_slack_cannot_be_read(fake_slack: FakeSlack, store: Store) -> None:
    channel = fake_slack.general.id
    ann = fake_slack.add_user(name="ann")
    root = fake_slack.post_as_user(channel, ann.id, "root").ts
    asked = fake_slack.post_as_user(channel, ann.id, f"{mention()} help", thread_ts=root)
    message = as_message(
        app_mention_event(user=ann.id, text="help", channel=channel, ts=asked.ts, thread_ts=root)
    )
    await store.append_turn(message.ref, Turn("user", "ann", "help", asked.ts, ts_time(asked.ts)))
    fake_slack.fail_next("conversations.replies", status=500, times=3)
    turns = await history_for(fake_slack, store).load(message, BOT)
    assert [t.text for t in turns] == ["help"]


async def test_a_dm_is_the_recent_exchange_from_the_store(fake_slack: FakeSlack, store: Store) -> None:
    ann = fake_slack.add_user(name="ann")
    dm = fake_slack.add_dm(ann.id)
    post = fake_slack.post_as_user(dm.id, ann.id, "and the refund?")
    now = ts_time(post.ts)
    message = as_message(
        message_event(channel=dm.id, user=ann.id, text="and the refund?", ts=post.ts, channel_type="im")
    )
    old = [Turn("user", "ann", "last week", "o1", now - timedelta(days=7))]
    recent = [
        Turn("user", "ann", f"question {i}", f"q{i}", now - timedelta(minutes=30 - i)) for i in range(5)
    ] + [Turn("assistant", "bot", "an answer", "a1", now - timedelta(minutes=20))]
    for item in [*old, *recent, Turn("user", "ann", "and the refund?", post.ts, ts_time(post.ts))]:
        await store.append_turn(message.ref, item)

    history = history_for(fake_slack, store, dm_window=timedelta(hours=1), dm_turns=5, clock=lambda: now)
    turns = await history.load(message, BOT)
    assert fake_slack.calls() == []
    assert [(t.role, t.text) for t in turns] == [  # the newest 5 turns, none older than an hour
        ("user", "question 2\n\nquestion 3\n\nquestion 4"),
        ("assistant", "an answer"),
        ("user", "and the refund?"),
    ]


async def test_a_dm_the_store_never_saw_is_read_from_slack_once(fake_slack: FakeSlack, store: Store) -> None:
    ann = fake_slack.add_user(name="ann", display_name="Ann")
    dm = fake_slack.add_dm(ann.id)
    fake_slack.post_as_user(dm.id, ann.id, "my parcel is late")
    await fake_slack.client().chat_postMessage(channel=dm.id, text="Sorry to hear that!")
    post = fake_slack.post_as_user(dm.id, ann.id, "any news?")
    message = as_message(
        message_event(channel=dm.id, user=ann.id, text="any news?", ts=post.ts, channel_type="im")
    )
    await store.append_turn(message.ref, Turn("user", "Ann", "any news?", post.ts, ts_time(post.ts)))
    fake_slack.reset_calls()

    turns = await history_for(fake_slack, store, clock=lambda: ts_time(post.ts)).load(message, BOT)
    assert [c.method for c in fake_slack.calls()] == ["conversations.history", "users.info"]
    assert [(t.role, t.text) for t in turns] == [
        ("user", "my parcel is late"),
        ("assistant", "Sorry to hear that!"),
        ("user", "any news?"),
    ]
    assert len(await store.load_turns(message.ref)) == 2  # the user's turns are kept for next time
