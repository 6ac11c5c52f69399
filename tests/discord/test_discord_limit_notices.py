"""A flood of mentions from one member on Discord: one limit notice, and nobody else waits behind it.

Each over-limit mention used to open a thread and get its own notice there, within Discord's per-route
limits, so another member's answer in the same channel queued behind them. Now the first over-limit
message of a window gets the notice and the rest cost no call at all (no thread, no post, no typing);
they are still counted as limited in the stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fakes.anthropic import Reply

from tests.discord.rig import RigFactory

RATE_NOTICE = "faster than I can answer"
FLOOD = 150
PER_MINUTE = 10  # config/bot.toml [limits] messages_per_user_per_minute


async def test_a_flood_gets_one_notice_and_another_members_question_is_answered_next(
    discord_rig: RigFactory,
) -> None:
    rig = await discord_rig()
    fake = rig.fake
    bob = fake.add_member(fake.guild, fake.add_user("bob"))
    rig.model.responder = lambda request: Reply.text("Here is what I found.", tokens_per_second=1000)
    mention = fake.bot_user.mention

    flood = [await fake.post_as_user(fake.support, fake.alice, f"{mention} hello? {n}") for n in range(FLOOD)]
    asked = await fake.post_as_user(fake.support, bob, f"{mention} where is ORD-10001?")
    for message in [*flood, asked]:
        await rig.wait_seen(message.id)

    notices = [m for m in fake.bot_messages() if RATE_NOTICE in m.content]
    assert len(notices) == 1, [m.content for m in notices[:3]]
    # Threads were opened only where something was posted: the answers within the rate, the notice, Bob's.
    threads = fake.threads(fake.support)
    assert len(threads) == PER_MINUTE + 2
    assert [m.content for m in rig.answers(rig.thread_of(asked))] == ["Here is what I found."]
    assert len(rig.model.message_requests) == PER_MINUTE + 1

    # Bob's answer was one post after at most one notice: nothing else was sent for the flood.
    posts = [call.path for call in fake.calls("POST", "/channels/{channel_id}/messages")]
    assert len(posts) == PER_MINUTE + 2
    assert posts.count(f"/channels/{asked.id}/messages") == 1
    assert len(fake.calls("POST", "/channels/*/typing")) <= PER_MINUTE + 1

    replies = await rig.core.store.replies_since(datetime.now(UTC) - timedelta(hours=1))
    assert sum(1 for r in replies if r.limited == "rate") == FLOOD - PER_MINUTE
    assert sum(1 for r in replies if r.limited is None) == PER_MINUTE + 1
