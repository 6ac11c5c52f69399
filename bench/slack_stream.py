"""Slack streaming benchmark: many replies streaming at once in one workspace, inside Slack's limits.

    python bench/slack_stream.py [--replies 50] [--channels 50] [--chars 1500] [--tps 50] [--delta-chars 8]

Runs the real Slack front end (slack-bolt over HTTP on 127.0.0.1, slack_sdk, the core, the anthropic SDK)
against the fake Slack Web API with its real limits (``chat.update`` 50 a minute per workspace,
``chat.postMessage`` about one a second per channel) and the fake Anthropic API, in a separate process,
streaming answers of about ``--chars`` characters at ``--tps`` tokens a second (a token is about four
characters) in text deltas of ``--delta-chars`` characters. The bot uses the repository's
``config/bot.toml``. ``--replies`` people each mention the bot at the same moment, spread over
``--channels`` channels.

Prints:

* 429s seen (target 0);
* replies whose final text equals the model's answer (target: all);
* time from the model's first token (when the bot reads it) to the first visible text of the answer
  (when Slack receives the post or edit that shows it), p50 and p99, next to the fake API's round trip;
* edits per reply, and how long the replies took to settle.

The start-up heap is frozen before the burst (``bot.runtime.freeze_startup_heap``), as ``supportbot serve``
does once it serves, so a full collection walking it does not swing the p99. Prints figures only; nothing
here asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fakes.slack import SIGNING_SECRET, FakeMessage, FakeSlack, mention

from bench.common import (
    PLACEHOLDER,
    StreamResults,
    TimedLLM,
    add_pace_arguments,
    bench_settings,
    clear_env,
    pace_of,
    run_streaming,
    show,
)
from bench.report import emit
from bot.agent.llm import AnthropicLLM
from bot.run.app import build_app
from bot.runtime import freeze_startup_heap
from integrations.slack.app import SlackFrontEnd
from integrations.slack.mrkdwn import to_mrkdwn
from integrations.slack.server import SlackHttpServer

TARGET_FINAL_S = 12.0
"""Every reply's final text within this many seconds of its question (50 at once, 50 chat.update a minute)."""


async def round_trip_ms(fake: FakeSlack) -> float:
    client = fake.client()
    times = []
    for _ in range(30):
        started = time.monotonic()
        await client.api_test()
        times.append((time.monotonic() - started) * 1000)
    return statistics.median(times)


async def run(args: argparse.Namespace, model_url: str, workdir: Path) -> None:
    clear_env("ANTHROPIC_", "SLACK_")
    first_token: dict[int, float] = {}
    async with FakeSlack(ts_start=None) as fake:
        settings = bench_settings(workdir, model_url, slack_api_url=fake.api_url)
        llm = TimedLLM(
            AnthropicLLM.from_key("bench", base_url=model_url, max_retries=0, timeout=60), first_token
        )
        core = await build_app(settings, llm=llm)
        front = await SlackFrontEnd.start(core, bot_token=fake.bot_token, signing_secret=SIGNING_SECRET)
        server = SlackHttpServer(front, "127.0.0.1", 0)
        sender = fake.event_sender(f"{await server.start()}/slack/events")
        try:
            idle_rtt = await round_trip_ms(fake)
            channels = [fake.general.id] + [
                fake.add_channel(name=f"help-{i}").id for i in range(args.channels - 1)
            ]
            posts = []
            for n in range(args.replies):
                user = fake.add_user(name=f"user{n}")
                text = f"{mention()} where is my parcel? #{n}"
                posts.append((n, fake.post_as_user(channels[n % len(channels)], user.id, text)))
            freeze_startup_heap()  # as supportbot serve does once it serves: no full collection walks it
            fake.reset_calls()
            started = time.monotonic()
            await asyncio.gather(*(sender.send_event(post.event) for _, post in posts))
            await front.tasks.wait_idle()
            elapsed = time.monotonic() - started
            report(args, fake, posts, first_token, idle_rtt, elapsed, started)
        finally:
            await server.stop()
            await front.close()
            await core.close()


def report(
    args: argparse.Namespace,
    fake: FakeSlack,
    posts: list[tuple[int, object]],
    first_token: dict[int, float],
    idle_rtt: float,
    elapsed: float,
    asked_at: float,
) -> None:
    equal = 0
    latencies: list[float] = []
    edits: list[int] = []
    final_after: list[float] = []
    for n, post in posts:
        thread_ts = post.ts  # type: ignore[attr-defined]
        channel = post.message_event["channel"]  # type: ignore[attr-defined]
        replies = [m for m in fake.bot_messages(channel) if m.thread_ts == thread_ts]
        if sections(replies) == to_mrkdwn(pace_of(args).answer(n)):
            equal += 1
        reply_ts = {m.ts for m in replies}
        shown = [
            c.time
            for c in fake.calls()
            if c.ok
            and c.method in ("chat.postMessage", "chat.update")
            and c.args.get("channel") == channel
            and (c.response.get("ts") in reply_ts)
            and str(c.args.get("text", "")) != PLACEHOLDER
        ]
        if shown and n in first_token:
            latencies.append((min(shown) - first_token[n]) * 1000)
        edits.append(sum(1 for c in fake.calls("chat.update") if c.args.get("ts") in reply_ts))
        final = [  # the call that settled the reply: its message carries the feedback buttons
            c.time
            for c in fake.calls()
            if c.ok
            and c.method in ("chat.postMessage", "chat.update")
            and c.args.get("channel") == channel
            and c.response.get("ts") in reply_ts
            and "feedback_buttons" in str(c.args.get("blocks", ""))
        ]
        if final:
            final_after.append(max(final) - asked_at)
    show("replies streaming at once", f"{args.replies} in {args.channels} channel(s), one workspace")
    show("answers", pace_of(args).describe())
    results = StreamResults(
        args.replies,
        fake.rate_limited_count,
        equal,
        latencies,
        idle_rtt,
        edits,
        elapsed,
        final_after,
        TARGET_FINAL_S,
    )
    results.show()
    show("chat.update calls in all", str(len(fake.calls("chat.update"))))
    emit("slack_stream", results.figures())


def sections(messages: list[FakeMessage]) -> str:
    return "\n".join(
        block["text"]["text"] for m in messages for block in m.blocks or () if block.get("type") == "section"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replies", type=int, default=50)
    parser.add_argument("--channels", type=int, default=50)
    add_pace_arguments(parser)
    run_streaming(parser.parse_args(), run)


if __name__ == "__main__":
    main()
