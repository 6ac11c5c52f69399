"""Two real ``supportbot slack`` processes behind one "load balancer", on one PostgreSQL and one Redis.

What a user sees: a question delivered to instance A while Slack retries it to instance B gets exactly one
answer in the thread; a follow-up in that thread that lands on B is answered with the whole conversation
(B knows the bot answered there, from the shared store, and the model sees the first question and answer).
Both instances start together on an empty schema, so the migrations race for real.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from fakes.anthropic import FakeAnthropic, Reply
from fakes.slack import FakeMessage, FakeSlack, SlackLimits, mention

from bot.coordination.redis_client import SharedRedis
from bot.store.migrations.postgres import MIGRATIONS
from tests.scale.rig import Instance, start_instance, stop_instance, wait_idle, wait_ready
from tests.slack.rig import bot_toml, reply_text

FIRST_ANSWER = "Order ORD-10001 is **on its way**."
SECOND_ANSWER = "It should arrive on Friday."


def is_final(message: FakeMessage) -> bool:
    """The final edit adds the sources/buttons blocks after the text."""
    return bool(message.blocks) and len(message.blocks or ()) > 1


def texts_in(request_messages: list[dict[str, Any]]) -> str:
    parts: list[str] = []
    for message in request_messages:
        content = message["content"]
        if isinstance(content, str):
            parts.append(content)
            continue
        parts += [block.get("text", "") for block in content if isinstance(block, dict)]
    return "\n".join(parts)


@pytest.fixture
async def instances(
    tmp_path: Path,
    wall_clock_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
    pg_schema_url: str,
    redis_url: str,
    redis_prefix: str,
) -> Any:
    fake_slack = wall_clock_slack
    fake_slack.limits = SlackLimits.relaxed()
    config = bot_toml(tmp_path / "bot.toml", fast=True)
    started: list[Instance] = []
    try:
        for name in ("a", "b"):
            started.append(
                await start_instance(
                    name,
                    tmp_path,
                    fake_slack,
                    fake_anthropic.base_url,
                    database_url=pg_schema_url,
                    redis_url=redis_url,
                    redis_prefix=redis_prefix,
                    config=config,
                )
            )
        await wait_ready(started)
        yield started
    finally:
        statuses = [await stop_instance(instance) for instance in started]
        logs = "\n".join(f"--- {i.name}\n{i.log()}" for i in started)
        assert statuses == [0] * len(started), logs
        assert fake_slack.bot_token not in logs


async def test_a_retry_on_another_instance_is_answered_once_and_the_thread_continues_there(
    instances: list[Instance],
    wall_clock_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
    pg_schema_url: str,
    redis_url: str,
    redis_prefix: str,
) -> None:
    a, b = instances
    fake_slack = wall_clock_slack
    fake_anthropic.script(
        Reply.text(FIRST_ANSWER, tokens_per_second=200), Reply.text(SECOND_ANSWER, tokens_per_second=200)
    )
    channel = fake_slack.general.id
    ann = fake_slack.add_user(name="ann")
    post = fake_slack.post_as_user(channel, ann.id, f"{mention()} where is ORD-10001?")
    assert post.app_mention_event is not None
    envelope = a.sender.envelope(post.app_mention_event)

    # Slack thought A did not acknowledge in time and retries the same event; the balancer picks B.
    first, retry = await asyncio.gather(
        a.sender.send_envelope(envelope), b.sender.send_envelope(envelope, retry_num=1)
    )
    assert (first.status, retry.status) == (200, 200)
    # Slack also sends the message event of the same message (another event id), here to B too.
    assert (await b.sender.send_event(post.message_event)).status == 200

    await fake_slack.wait_for(
        lambda: any(is_final(m) for m in fake_slack.bot_messages(channel) if m.thread_ts == post.ts),
        seconds=30,
        what="the answer",
    )
    await wait_idle(instances)
    replies = [m for m in fake_slack.bot_messages(channel) if m.thread_ts == post.ts]
    assert reply_text(replies) == "Order ORD-10001 is *on its way*."
    assert len(replies) == 1 and len(fake_anthropic.message_requests) == 1

    # A follow-up in the thread, no mention, lands on B.
    follow_up = fake_slack.post_as_user(channel, ann.id, "and when will it arrive?", thread_ts=post.ts)
    assert (await b.sender.send_event(follow_up.message_event)).status == 200
    await fake_slack.wait_for(
        lambda: sum(is_final(m) for m in fake_slack.bot_messages(channel) if m.thread_ts == post.ts) == 2,
        seconds=30,
        what="the answer to the follow-up",
    )
    await wait_idle(instances)
    replies = [m for m in fake_slack.bot_messages(channel) if m.thread_ts == post.ts]
    assert [reply_text([m]) for m in replies] == ["Order ORD-10001 is *on its way*.", SECOND_ANSWER]
    assert len(fake_anthropic.message_requests) == 2
    seen_by_model = texts_in(fake_anthropic.message_requests[1].messages)
    for said in ("where is ORD-10001?", "on its way", "and when will it arrive?"):
        assert said in seen_by_model, seen_by_model

    # Both wrote to the one shared store; the schema was migrated once although both started together.
    conn = await asyncpg.connect(pg_schema_url)
    try:
        turns = await conn.fetch("SELECT role, text FROM turns ORDER BY sent_at, id")
        versions = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
    finally:
        await conn.close()
    assert [row["role"] for row in turns] == ["user", "assistant", "user", "assistant"]
    assert [row["version"] for row in versions] == [m.version for m in MIGRATIONS]

    # The dedup claims and nothing else of ours are left in Redis, all under this deployment's prefix.
    shared = await SharedRedis.connect(redis_url, redis_prefix)
    try:
        keys = sorted([key.decode() async for key in shared.client.scan_iter(match=f"{redis_prefix}*")])
    finally:
        await shared.close()
    events = [key for key in keys if key.startswith(f"{redis_prefix}event:")]
    assert len(events) == 2, keys  # one per message
    assert not [key for key in keys if key.startswith(f"{redis_prefix}lock:")], keys  # every lock released
