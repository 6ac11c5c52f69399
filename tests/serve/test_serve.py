"""`supportbot serve`, the production process, as a real process against the fake Slack and Anthropic APIs:
health, readiness and metrics on one port with Slack's events, JSON logs without secrets, the graceful
shutdown on SIGTERM, and restart safety after ``kill -9``."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from fakes.anthropic import FakeAnthropic, Reply
from fakes.discord import FakeDiscord
from fakes.slack import FakeMessage, FakeSlack

from bot.store import Store
from bot.store.open import open_store
from bot.streaming.reply import DEFAULT_MARKER, INTERRUPTED_NOTICE
from integrations.slack.blocks import ESCALATE, HELPFUL
from tests.scrape import samples, types, value
from tests.serve.rig import ROOT, Supportbot, free_port, run, slack_environment
from tests.slack.rig import buttons, click_payload, reply_text, section_text

QUESTION = "<@U0BOT> where is ORD-10001?"
SLOW_ANSWER = " ".join(["Order ORD-10001 left our warehouse on Monday and is on its way to you."] * 6)


async def slack_bot(
    tmp_path: Path, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic, **env: str
) -> tuple[Supportbot, Any]:
    """``supportbot serve`` with Slack over HTTP, ready; and an event sender aimed at it."""
    bot = await Supportbot.start(tmp_path, **slack_environment(fake_slack, fake_anthropic), **env)
    report = await bot.wait_ready()
    assert report["front_ends"] == {"slack": True} and report["store"] == "ok", report
    return bot, fake_slack.event_sender(f"{bot.url}/slack/events")


async def ask(fake_slack: FakeSlack, sender: Any, user_id: str, text: str = QUESTION) -> str:
    """``user_id`` mentions the bot in #general; the thread's ts."""
    post = fake_slack.post_as_user(fake_slack.general.id, user_id, text)
    delivery = await sender.send_event(post.event)
    assert delivery.status == 200, delivery
    return post.ts


def replies(fake_slack: FakeSlack, thread_ts: str) -> list[FakeMessage]:
    return [m for m in fake_slack.bot_messages(fake_slack.general.id) if m.thread_ts == thread_ts]


async def wait_for_text(fake_slack: FakeSlack, thread_ts: str, *, final: bool, seconds: float = 30) -> None:
    """Until the bot's reply in the thread shows text (``final``: with its buttons)."""

    def shown() -> bool:
        messages = replies(fake_slack, thread_ts)
        if final:
            return any(buttons(m) for m in messages)
        return any(section_text(m).startswith("Order") for m in messages)

    await fake_slack.wait_for(shown, seconds=seconds, what="the reply's text")


async def stored(tmp_path: Path) -> Store:
    return await open_store(f"sqlite:///{tmp_path / 'supportbot.db'}")


async def wait_for_pending(tmp_path: Path) -> None:
    """Until the bot has recorded its reply as pending. It does so just after the reply's first message is
    posted, without holding the reply up: a crash in between would leave that message unsettled."""
    store = await stored(tmp_path)
    try:
        for _ in range(1000):
            if await store.pending_replies("slack"):
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the reply was not recorded as pending")
    finally:
        await store.close()


def assert_no_secret(bot: Supportbot, fake_slack: FakeSlack, *more: str) -> None:
    for secret in (fake_slack.bot_token, "test-key-for-the-fake", *more):
        assert secret not in bot.log


async def test_serve_runs_slack_with_health_readiness_metrics_and_json_logs(
    tmp_path: Path, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    bot, sender = await slack_bot(tmp_path, fake_slack, fake_anthropic, LOG_LEVEL="DEBUG")
    try:
        assert await bot.get("/healthz") == (200, {"ok": True})
        ready = await bot.wait_ready()
        assert ready["model"] == "ok" and ready["ready"] is True and ready["draining"] is False
        fake_anthropic.script(Reply.text("Order ORD-10001 is **on its way**.", input_tokens=900))
        ann = fake_slack.add_user(name="ann")
        thread_ts = await ask(fake_slack, sender, ann.id)
        await wait_for_text(fake_slack, thread_ts, final=True)
        assert reply_text(replies(fake_slack, thread_ts)) == "Order ORD-10001 is *on its way*."

        body = ""
        for _ in range(200):  # the reply is recorded just after its final edit
            body = (await bot.get("/metrics"))[1]
            if value(body, "supportbot_replies_total", platform="slack", outcome="answered") == 1:
                break
            await asyncio.sleep(0.05)
        for name, labels, expected in (
            ("supportbot_replies_total", {"platform": "slack", "outcome": "answered"}, 1),
            ("supportbot_reply_first_text_seconds_count", {"platform": "slack"}, 1),
            ("supportbot_reply_final_text_seconds_count", {"platform": "slack"}, 1),
            ("supportbot_replies_in_progress", {"platform": "slack"}, 0),
        ):
            assert value(body, name, **labels) == expected, (name, labels, body)
        assert (value(body, "supportbot_model_tokens_total", kind="input") or 0) >= 900
        assert types(body)["supportbot_tool_calls_total"] == "counter"
    finally:
        assert await bot.stop() == 0

    lines = bot.json_lines()  # every line is JSON
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    tagged = [line for line in lines if line.get("thread", "").startswith("slack:")]
    assert tagged and all(line["request_id"] for line in tagged)
    [answer] = [line for line in tagged if line["message"] == "answer"]
    assert answer["outcome"] == "answered" and answer["platform"] == "slack" and answer["input_tokens"] == 900
    assert answer["stop_reason"] == "end_turn" and answer["final_text_s"] >= answer["first_text_s"] >= 0
    assert "ORD-10001" not in str(answer)  # the figures of the answer, never its words
    assert_no_secret(bot, fake_slack, "xoxb-", "Bearer")


async def test_serve_with_no_platform_tokens_serves_health_and_metrics(tmp_path: Path) -> None:
    bot = await Supportbot.start(tmp_path)
    try:
        report = await bot.wait_ready()
        assert report["front_ends"] == {} and report["model"].startswith("not configured")
        async with aiohttp.ClientSession() as session, session.get(f"{bot.url}/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain; version=")
            body = await response.text()
    finally:
        assert await bot.stop(signal.SIGINT) == 0
    # Before any traffic: every known platform's series at 0, the build and the process.
    assert types(body)["supportbot_replies_total"] == "counter"
    for platform in ("slack", "discord"):
        for outcome in ("answered", "fallback", "failed", "limited"):
            assert value(body, "supportbot_replies_total", platform=platform, outcome=outcome) == 0
        assert value(body, "supportbot_reply_first_text_seconds_count", platform=platform) == 0
        assert value(body, "supportbot_replies_in_progress", platform=platform) == 0
    assert value(body, "supportbot_tool_calls_total", tool="lookup_order", decision="denied") == 0
    assert value(body, "supportbot_model_cost_usd_total") == 0
    [build] = [labels for name, labels in samples(body) if name == "supportbot_build_info"]
    assert dict(build)["version"]
    assert (value(body, "process_resident_memory_bytes") or 0) > 0
    assert types(body)["process_cpu_seconds_total"] == "counter"
    assert any(name == "python_info" for name, _ in samples(body))

    lines = bot.json_lines()
    assert any("no front end is configured" in line["message"] for line in lines)
    [kb] = [line for line in lines if line["logger"] == "bot.kb.sync"]
    articles = len(list((ROOT / "config" / "kb").glob("*.md")))
    assert kb["message"] == (
        f"knowledge sync: help-center: {articles} articles; {articles} added, 0 updated, 0 removed, 0 skipped"
    )
    assert (kb["kb_source"], kb["articles"], kb["articles_skipped"]) == ("help-center", articles, 0)


async def test_a_rejected_model_key_makes_the_process_not_ready(tmp_path: Path) -> None:
    async with FakeAnthropic(api_key="the-right-key") as fake:
        bot = await Supportbot.start(
            tmp_path, ANTHROPIC_API_KEY="sk-wrong-key-123456", ANTHROPIC_BASE_URL=fake.base_url
        )
        try:
            await bot.wait_up()
            status, report = await bot.get("/readyz")
            while report["starting"]:
                await asyncio.sleep(0.1)
                status, report = await bot.get("/readyz")
            assert status == 503 and report["ready"] is False
            assert report["model"].startswith("rejected: ") and "ANTHROPIC_API_KEY" in report["model"]
        finally:
            assert await bot.stop() == 0
    assert "sk-wrong-key-123456" not in bot.log


@pytest.mark.parametrize("drain", ["finish", "cut"])
async def test_sigterm_mid_reply_settles_the_message_and_exits_0(
    tmp_path: Path, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic, drain: str
) -> None:
    bot, sender = await slack_bot(
        tmp_path, fake_slack, fake_anthropic, DRAIN_SECONDS="60" if drain == "finish" else "0.2"
    )
    fake_anthropic.script(Reply.text(SLOW_ANSWER, chunk=8, delay=0.05))  # about 3 s
    ann = fake_slack.add_user(name="ann")
    thread_ts = await ask(fake_slack, sender, ann.id)
    await wait_for_text(fake_slack, thread_ts, final=False)
    bot.process.send_signal(signal.SIGTERM)
    if drain == "finish":
        await fake_slack.wait_for(lambda: bool(fake_slack.bot_messages()), what="a bot message")
        status, report = await bot.get("/readyz")
        assert status == 503 and report["draining"] is True
        late = fake_slack.post_as_user(fake_slack.general.id, ann.id, QUESTION)
        assert (await sender.send_event(late.event)).status == 503  # Slack delivers it again later
    assert await bot.stop() == 0

    [message] = replies(fake_slack, thread_ts)
    text = section_text(message)
    assert DEFAULT_MARKER.strip() not in text and "Thinking" not in text
    if drain == "finish":
        assert text == SLOW_ANSWER and buttons(message)
    else:
        assert text.startswith("Order ORD-10001") and text.endswith(f"\n\n{INTERRUPTED_NOTICE}")
    store = await stored(tmp_path)
    try:
        assert await store.pending_replies("slack") == []
    finally:
        await store.close()
    assert_no_secret(bot, fake_slack)


async def test_a_reply_cut_off_by_kill_9_is_settled_on_the_next_start(
    tmp_path: Path, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    bot, sender = await slack_bot(tmp_path, fake_slack, fake_anthropic)
    ann = fake_slack.add_user(name="ann")
    # Before the crash: an answer, a vote on it and an escalation.
    fake_anthropic.script(Reply.text("Order ORD-10001 is on its way."))
    first_ts = await ask(fake_slack, sender, ann.id)
    await wait_for_text(fake_slack, first_ts, final=True)
    [answer] = replies(fake_slack, first_ts)
    for action in (HELPFUL, ESCALATE):
        await click(fake_slack, sender, ann.id, answer, action)
    store = await stored(tmp_path)
    try:
        await fake_slack.wait_for(lambda: len(fake_slack.bot_messages()) >= 2, what="the escalation notice")
        [reply_id] = [value for action, value in buttons(answer) if action == HELPFUL]
        assert await store.feedback_for(reply_id) == {ann.id: True}
        assert len(await store.open_escalations()) == 1
    finally:
        await store.close()

    # A slow answer, cut off by kill -9 in the middle.
    fake_anthropic.script(Reply.text(SLOW_ANSWER, chunk=8, delay=0.1))
    second = fake_slack.post_as_user(fake_slack.general.id, ann.id, QUESTION)
    assert (await sender.send_event(second.event)).status == 200
    await wait_for_text(fake_slack, second.ts, final=False)
    await wait_for_pending(tmp_path)
    assert await bot.stop(signal.SIGKILL) == -signal.SIGKILL
    [cut] = replies(fake_slack, second.ts)
    assert section_text(cut).endswith(DEFAULT_MARKER.strip())  # what the crash left behind
    requests = len(fake_anthropic.message_requests)

    restarted, sender = await slack_bot(tmp_path, fake_slack, fake_anthropic)
    try:
        text = section_text(fake_slack.message(fake_slack.general.id, cut.ts))
        assert text.startswith("Order ORD-10001") and text.endswith(f"\n\n{INTERRUPTED_NOTICE}")
        assert DEFAULT_MARKER.strip() not in text
        # Slack delivering the event again after the restart gets no second answer.
        assert (await sender.send_event(second.event)).status == 200
        await asyncio.sleep(0.5)
        assert len(replies(fake_slack, second.ts)) == 1
        assert len(fake_anthropic.message_requests) == requests
        store = await stored(tmp_path)
        try:
            assert await store.pending_replies("slack") == []
            assert await store.feedback_for(reply_id) == {ann.id: True}
            assert len(await store.open_escalations()) == 1
        finally:
            await store.close()
    finally:
        assert await restarted.stop() == 0


async def click(fake_slack: FakeSlack, sender: Any, user_id: str, message: FakeMessage, action: str) -> None:
    url = fake_slack.new_response_url(channel_id=message.channel, user_id=user_id, message_ts=message.ts)
    payload = click_payload(fake_slack, message, action, user_id, url)
    assert (await sender.send_interaction(payload)).status == 200
    await fake_slack.wait_for(lambda: bool(fake_slack.response_posts(url)), what=f"the answer to {action}")


def test_the_procfile_runs_serve_on_the_platform_port() -> None:
    assert (ROOT / "Procfile").read_text(encoding="utf-8").splitlines() == ["web: supportbot serve"]
    # `serve` takes its port from PORT, as platforms set it: every test above starts it that way.


async def test_serve_only_a_platform_without_its_token_is_one_line_and_exit_2(tmp_path: Path) -> None:
    status, _, errors = await run(tmp_path, "serve", "--only", "slack")
    assert status == 2 and errors.startswith("supportbot: SLACK_BOT_TOKEN: missing")
    assert len(errors.splitlines()) == 1


async def test_serve_runs_slack_and_discord_in_one_process(
    tmp_path: Path, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic, fake_discord: FakeDiscord
) -> None:
    bot = await Supportbot.start(
        tmp_path,
        **slack_environment(fake_slack, fake_anthropic),
        DISCORD_TOKEN=fake_discord.token,
        DISCORD_API_URL=fake_discord.api_base,
        DISCORD_GATEWAY_URL=fake_discord.gateway_url,
    )
    try:
        report = await bot.wait_ready()
        assert report["front_ends"] == {"slack": True, "discord": True}
    finally:
        assert await bot.stop() == 0
    assert fake_discord.token not in bot.log


async def test_a_slack_token_slack_refuses_stops_the_start_with_one_line(
    tmp_path: Path, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    env = {**slack_environment(fake_slack, fake_anthropic), "SLACK_BOT_TOKEN": "xoxb-revoked-token-value"}
    status, _, errors = await run(tmp_path, "serve", "--port", str(free_port()), **env)
    assert status == 2, errors
    [line] = [line for line in errors.splitlines() if line.startswith("supportbot:")]
    assert (
        line
        == "supportbot: SLACK_BOT_TOKEN: Slack refused it (invalid_auth); copy the Bot User OAuth Token again"
    )
    assert "xoxb-revoked-token-value" not in errors and "Traceback" not in errors
