"""Slack users asking while the bot's store is briefly unavailable: the SQLite file write-locked by another
process, or the PostgreSQL server restarted under the bot (its connections terminated).

Everything runs through the real slack-bolt front end, slack_sdk and anthropic clients against the local
fakes, on a real SQLite file or a real PostgreSQL schema. Every question ends with one settled reply (an
answer, or a clear notice), no message keeps the "Thinking…" placeholder or the in-progress marker, and
once the store is back nothing written is lost: turns, tool-call audit rows, votes and escalations.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from fakes.anthropic import FakeAnthropic, RecordedRequest, Reply
from fakes.slack import FakeMessage, FakeSlack, FakeUser, SlackLimits, UserPost
from local_services import with_query

import bot.store.open
from bot.buttons import ASKED, THANKS
from bot.escalations import handed_over_text
from bot.service import TROUBLE_NOTICE
from bot.store import Store
from bot.store.sqlite import SQLiteStore
from bot.streaming.reply import BROKEN_NOTICE, DEFAULT_MARKER
from bot.types import ThreadRef
from integrations.slack.blocks import ESCALATE, HELPFUL
from integrations.slack.inbound import thread_ref
from integrations.slack.mrkdwn import SLACK_MARKUP, to_mrkdwn
from tests.slack.rig import SlackRig, bot_toml, buttons, rig_settings, section_text, start_slack_rig

BUSY_TIMEOUT = timedelta(seconds=1.0)
"""The bot's SQLite busy timeout in these tests (5 s in production), so a lock can outlast it quickly."""
HANDED_OVER = to_mrkdwn(handed_over_text(SLACK_MARKUP))
NOTICES = (to_mrkdwn(TROUBLE_NOTICE), to_mrkdwn(BROKEN_NOTICE))
"""What an asker sees when the store fails before their reply was posted, or while it was written."""

StartRig = Callable[[str], Any]


@pytest_asyncio.fixture
async def start_rig(
    tmp_path: Path, fake_anthropic: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[StartRig]:
    """Starts the Slack front end on the store of a ``DATABASE_URL``; everything is closed at the end.

    The model answers every question with a search of the help articles and then ``Answer to: <question>``.
    """
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "SLACK_", "DATABASE_")):
            monkeypatch.delenv(name)

    class ShortBusyStore(SQLiteStore):
        @classmethod
        async def open(cls, path: str | Path, **options: Any) -> SQLiteStore:  # type: ignore[override]
            return await SQLiteStore.open(path, busy_timeout=BUSY_TIMEOUT, **options)

    monkeypatch.setattr(bot.store.open, "SQLiteStore", ShortBusyStore)
    fake_anthropic.responder = search_then_answer
    started: list[SlackRig] = []
    async with FakeSlack(ts_start=None) as fake_slack:
        fake_slack.limits = SlackLimits.relaxed()

        async def start(database_url: str) -> SlackRig:
            config = bot_toml(tmp_path / "bot.toml", fast=True)
            settings = rig_settings(tmp_path, fake_slack, fake_anthropic, config)
            rig = await start_slack_rig(
                fake_slack, fake_anthropic, settings.model_copy(update={"database_url": database_url})
            )
            started.append(rig)
            return rig

        yield start
        for rig in reversed(started):
            await rig.stop()


def search_then_answer(request: RecordedRequest) -> Reply:
    """The model: a help-article search for a new question, then an answer naming the question."""
    messages = request.body["messages"]
    last = messages[-1]["content"]
    if isinstance(last, list) and any(block.get("type") == "tool_result" for block in last):
        question = next(
            block["text"]
            for message in reversed(messages)
            if message["role"] == "user" and isinstance(message["content"], list)
            for block in message["content"]
            if block.get("type") == "text"
        )
        return Reply.text(f"Answer to: {question.rsplit(': ', 1)[-1]}", chunk=6)
    text = last if isinstance(last, str) else " ".join(b.get("text", "") for b in last)
    return Reply.tool_use(("search_kb", {"query": text.rsplit(": ", 1)[-1][:80]}))


# What a user sees, and what the store holds.


def replies_to(rig: SlackRig, post: UserPost) -> list[FakeMessage]:
    messages = rig.bot_messages(rig.fake.general.id, post.ts)
    return [m for m in messages if section_text(m) != HANDED_OVER]


def assert_settled(rig: SlackRig) -> None:
    """No bot message anywhere still shows the placeholder, a tool status or the in-progress marker."""
    for message in rig.fake.bot_messages():
        text = message.visible_text
        assert DEFAULT_MARKER.strip() not in text and "Thinking" not in text and "_Using " not in text, text


def ref_of(rig: SlackRig, post: UserPost) -> ThreadRef:
    return thread_ref(rig.fake.team_id, rig.fake.general.id, post.ts)


async def ask(rig: SlackRig, asks: list[tuple[FakeUser, str]]) -> list[UserPost]:
    return list(await asyncio.gather(*(rig.mention(user, text) for user, text in asks)))


async def assert_answered(rig: SlackRig, post: UserPost, question: str) -> FakeMessage:
    """The question got the model's answer, once, and the store has the exchange and its tool call."""
    [reply] = replies_to(rig, post)
    assert section_text(reply) == f"Answer to: {question}"
    ref = ref_of(rig, post)
    turns = await rig.core.store.load_turns(ref)
    assert [(t.role, t.message_id) for t in turns] == [("user", post.ts), ("assistant", reply.ts)]
    assert turns[1].text == f"Answer to: {question}" and turns[1].exchange
    audit = [r.tool for r in await rig.core.store.tool_calls(1000) if r.thread_key == ref.key]
    assert audit == ["search_kb"]
    return reply


async def first_question_answered(rig: SlackRig, people: int) -> tuple[list[FakeUser], UserPost, FakeMessage]:
    """``people`` users; the first asks how returns work and is answered: the users, the question, the
    answer."""
    users = [rig.user(f"user{i}") for i in range(people)]
    [question] = await ask(rig, [(users[0], "how do returns work?")])
    await rig.settle()
    return users, question, await assert_answered(rig, question, "how do returns work?")


async def vote_and_escalate(
    rig: SlackRig, voter: FakeUser, voted: FakeMessage, escalated: FakeMessage
) -> None:
    assert await rig.click(voter, voted, HELPFUL) == THANKS
    assert await rig.click(voter, escalated, ESCALATE) == ASKED


async def assert_votes_and_escalations(
    store: Store, since: datetime, votes: list[tuple[FakeUser, FakeMessage]], escalated: list[ThreadRef]
) -> None:
    assert {(v.reply_id, v.user_id, v.helpful) for v in await store.feedback_since(since)} == {
        (buttons(message)[0][1], user.id, True) for user, message in votes
    }
    assert sorted(e.ref.key for e in await store.open_escalations()) == sorted(r.key for r in escalated)


# SQLite: another process holds the write lock.


class WriteLock:
    """Another connection to the bot's database file holding its write lock (``BEGIN IMMEDIATE``)."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def __enter__(self) -> WriteLock:
        self._db.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *exc: object) -> None:
        self._db.execute("COMMIT")
        self._db.close()


async def test_sqlite_locked_briefly_by_another_process_every_question_is_answered(
    start_rig: StartRig, tmp_path: Path
) -> None:
    """While another process holds the database's write lock for less than the busy timeout, questions
    keep coming; each is answered once, and every turn, tool call, vote and escalation is stored."""
    path = tmp_path / "bot.db"
    rig = await start_rig(f"sqlite:///{path}")
    since = datetime.now(UTC)
    users, _, first = await first_question_answered(rig, 4)

    with WriteLock(path):
        posts = await ask(rig, [(u, f"question {i}") for i, u in enumerate(users[1:], 1)])
        await asyncio.sleep(BUSY_TIMEOUT.total_seconds() / 3)
        assert len(rig.fake.bot_messages()) == 1  # the questions wait for the store
    await rig.settle()
    answers = [await assert_answered(rig, post, f"question {i}") for i, post in enumerate(posts, 1)]
    assert_settled(rig)

    with WriteLock(path):
        clicks = asyncio.gather(vote_and_escalate(rig, users[1], first, answers[0]))
        await asyncio.sleep(BUSY_TIMEOUT.total_seconds() / 3)
    await clicks
    await assert_votes_and_escalations(rig.core.store, since, [(users[1], first)], [ref_of(rig, posts[0])])


async def test_sqlite_locked_longer_than_the_busy_timeout_askers_are_told_and_nothing_is_lost(
    start_rig: StartRig, tmp_path: Path
) -> None:
    """While another process holds the write lock for longer than the busy timeout, each question that
    arrives gets one reply: the answer, or a notice to ask again (never silence, never a placeholder).
    Once the lock is released, the same people ask again and are answered, vote and ask for a human, and
    everything written before and after the lock is in the store."""
    path = tmp_path / "bot.db"
    rig = await start_rig(f"sqlite:///{path}")
    store = rig.core.store
    since = datetime.now(UTC)
    users, before, first = await first_question_answered(rig, 4)

    with WriteLock(path):
        during = await ask(rig, [(u, f"question {i}") for i, u in enumerate(users[1:], 1)])
        await asyncio.sleep(BUSY_TIMEOUT.total_seconds() * 2.5)
    await rig.settle()
    assert_settled(rig)
    told = 0
    for number, post in enumerate(during, 1):
        [reply] = replies_to(rig, post)
        if section_text(reply) in NOTICES:
            told += 1
            assert buttons(reply) == []
        else:
            await assert_answered(rig, post, f"question {number}")
    assert told >= 1  # the lock outlasted the busy timeout for somebody

    again = await ask(rig, [(u, f"question {i} again") for i, u in enumerate(users[1:], 1)])
    await rig.settle()
    answers = [await assert_answered(rig, post, f"question {i} again") for i, post in enumerate(again, 1)]
    await vote_and_escalate(rig, users[2], answers[1], answers[2])
    assert_settled(rig)

    await assert_answered(rig, before, "how do returns work?")  # written before the lock: still there
    await assert_votes_and_escalations(store, since, [(users[2], answers[1])], [ref_of(rig, again[2])])
    assert {r.reply_id for r in await store.replies_since(since)} >= {
        buttons(m)[0][1] for m in [first, *answers]
    }


# PostgreSQL: the server restarts under the bot.


async def terminate_backends(postgres_url: str, application_name: str) -> int:
    """Terminate the bot's server connections, as a server restart does; how many there were."""
    conn = await asyncpg.connect(postgres_url)
    try:
        rows = await conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            application_name,
        )
    finally:
        await conn.close()
    return len(rows)


async def test_postgres_restarted_mid_conversation_the_bot_reconnects_and_nothing_is_lost(
    start_rig: StartRig, pg_schema_url: str, postgres_url: str, fake_anthropic: FakeAnthropic
) -> None:
    """The PostgreSQL server drops the bot's connections between questions, while answers are being
    written, and between clicks: every question still gets one settled reply, the next ones are answered
    normally, and every turn, tool call, vote and escalation written before and after is there."""
    name = f"supportbot-faults-{uuid.uuid4().hex[:8]}"
    rig = await start_rig(with_query(pg_schema_url, application_name=name))
    store = rig.core.store
    since = datetime.now(UTC)
    users, before, first = await first_question_answered(rig, 6)

    assert await terminate_backends(postgres_url, name) >= 1  # idle in the pool
    [after_restart] = await ask(rig, [(users[1], "where is my parcel?")])
    await rig.settle()
    second = await assert_answered(rig, after_restart, "where is my parcel?")

    # Restarts while three answers are being written.
    slow = search_then_answer
    fake_anthropic.responder = lambda request: replace(slow(request), delay=0.01)
    during = await ask(rig, [(u, f"question {i}") for i, u in enumerate(users[2:5], 2)])
    for _ in range(3):
        await asyncio.sleep(0.05)
        await terminate_backends(postgres_url, name)
    await rig.settle()
    assert_settled(rig)
    for number, post in enumerate(during, 2):
        # The statements the drops broke were sent again on fresh connections: every answer is whole.
        await assert_answered(rig, post, f"question {number}")
    fake_anthropic.responder = search_then_answer

    await terminate_backends(postgres_url, name)
    await vote_and_escalate(rig, users[5], first, second)
    [later] = await ask(rig, [(users[5], "and one more")])
    await rig.settle()
    await assert_answered(rig, later, "and one more")
    assert_settled(rig)

    await assert_answered(rig, before, "how do returns work?")
    await assert_votes_and_escalations(store, since, [(users[5], first)], [ref_of(rig, after_restart)])
