"""A flood of messages from one person on Slack: one limit notice, and nobody else waits behind it.

Each over-limit message used to get its own notice, at Slack's one post a second per channel, so an
employee's answer in the same channel came minutes late. Now the first over-limit message of a window gets
the notice and the rest cost no post at all (they are still counted as limited in the stats)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fakes.anthropic import FakeAnthropic, Reply
from fakes.slack import FakeSlack, SlackLimits
from pydantic import SecretStr

from tests.slack.rig import RigFactory, SlackRig, bot_toml, rig_settings, section_text, start_slack_rig

RATE_NOTICE = "faster than I can answer"
FLOOD = 150
PER_MINUTE = 10  # config/bot.toml [limits] messages_per_user_per_minute


async def test_a_flood_gets_one_notice_and_another_persons_question_is_answered_next(
    slack_rig: RigFactory,
) -> None:
    rig = await slack_rig()
    channel = rig.fake.general.id
    spammer, ann = rig.user("spam"), rig.user("ann")
    rig.model.responder = lambda request: Reply.text("Here is what I found.", tokens_per_second=1000)

    flood = [await rig.mention(spammer, f"are you there? {n}") for n in range(FLOOD)]
    asked = await rig.mention(ann, "where is ORD-10001?")
    await rig.settle()

    notices = [m for m in rig.fake.bot_messages(channel) if RATE_NOTICE in section_text(m)]
    assert len(notices) == 1, [section_text(m) for m in notices[:3]]
    answered = [post for post in flood if rig.bot_messages(channel, post.ts)]
    assert len(answered) == PER_MINUTE + 1  # the answers within the rate, and the one notice
    assert [section_text(m) for m in rig.bot_messages(channel, asked.ts)] == ["Here is what I found."]
    assert len(rig.model.message_requests) == PER_MINUTE + 1

    # Ann's answer was one post after at most one notice: nothing else was posted for the flood.
    posts = [call.args.get("thread_ts") for call in rig.fake.calls("chat.postMessage")]
    assert len(posts) == PER_MINUTE + 2
    assert posts.count(asked.ts) == 1

    # The flood still counts in the stats, as limited messages.
    replies = await rig.core.store.replies_since(datetime.now(UTC) - timedelta(hours=1))
    assert sum(1 for r in replies if r.limited == "rate") == FLOOD - PER_MINUTE
    assert sum(1 for r in replies if r.limited is None) == PER_MINUTE + 1


async def test_instances_sharing_redis_give_one_notice_between_them(
    tmp_path: Path,
    wall_clock_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
    redis_url: str,
    redis_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "SLACK_", "REDIS_", "DATABASE_")):
            monkeypatch.delenv(name)
    fake = wall_clock_slack
    fake.limits = SlackLimits.relaxed()
    fake_anthropic.responder = lambda request: Reply.text("Here is what I found.", tokens_per_second=1000)
    config = bot_toml(tmp_path / "bot.toml", fast=True)
    rigs: list[SlackRig] = []
    try:
        for name in ("a", "b"):  # each with its own disk (SQLite), sharing Redis as a deployment does
            home = tmp_path / name
            home.mkdir()
            settings = rig_settings(home, fake, fake_anthropic, config).model_copy(
                update={"redis_url": SecretStr(redis_url), "redis_prefix": redis_prefix}
            )
            rigs.append(await start_slack_rig(fake, fake_anthropic, settings))
        spammer = fake.add_user(name="spam")
        for n in range(40):
            await rigs[n % 2].mention(spammer, f"are you there? {n}")
        for rig in rigs:
            await rig.settle()
    finally:
        for rig in reversed(rigs):
            await rig.stop()

    assert all(rig.core.coordination.shared for rig in rigs)
    notices = [m for m in fake.bot_messages(fake.general.id) if RATE_NOTICE in section_text(m)]
    assert len(notices) == 1
    assert len(fake_anthropic.message_requests) == PER_MINUTE
