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

Prints figures only; nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fakes.anthropic_api import FakeAnthropic, RecordedRequest, Reply  # noqa: E402
from fakes.slack_api import SIGNING_SECRET, FakeMessage, FakeSlack, mention  # noqa: E402

from bot.app import build_app  # noqa: E402
from bot.llm import LLM, AnthropicLLM, ModelRequest, ModelTurn, TextChunk  # noqa: E402
from bot.settings import Settings  # noqa: E402
from integrations.slack.app import SlackFrontEnd  # noqa: E402
from integrations.slack.mrkdwn import to_mrkdwn  # noqa: E402
from integrations.slack.server import SlackHttpServer  # noqa: E402

PLACEHOLDER = "_Thinking…_"
CHARS_PER_TOKEN = 4
TARGET_EXTRA_MS = 50.0


def answer_for(n: int, chars: int) -> str:
    """A Markdown answer of about ``chars`` characters, different for every reply."""
    paragraphs = [
        f"Thanks for asking, reply {n}. Your order **ORD-{10000 + n}** left our warehouse on Monday.",
        "Here is what happens next:",
        "- The carrier scans the parcel at its hub\n- You get an e-mail with the tracking link\n"
        "- Delivery takes two to four working days",
        "If the parcel has not arrived by Friday, reply here and a support lead will look into it.",
    ]
    text = "\n\n".join(paragraphs)
    filler = " You can also follow the parcel on the carrier's website with the tracking number."
    while len(text) < chars:
        text += filler
    return text[:chars].rstrip() + "."


def serve_model(chars: int, tps: float, delta_chars: int, ready: Connection) -> None:
    """The fake Anthropic API in its own process, so that its CPU time does not slow the bot down."""

    async def main() -> None:
        def respond(request: RecordedRequest) -> Reply:
            question = request.body["messages"][-1]["content"][-1]["text"]
            n = int(question.rsplit("#", 1)[1].split()[0])
            # The fake counts one token per text delta: deltas per second = characters per second / size.
            deltas_per_second = tps * CHARS_PER_TOKEN / delta_chars
            return Reply.text(answer_for(n, chars), tokens_per_second=deltas_per_second, chunk=delta_chars)

        async with FakeAnthropic(responder=respond) as fake:
            ready.send(fake.base_url)
            await asyncio.Event().wait()

    asyncio.run(main())


class TimedLLM:
    """The real client, noting when the first text of each question's answer reached the bot."""

    def __init__(self, inner: LLM, first_token: dict[int, float]) -> None:
        self._inner = inner
        self._first_token = first_token

    async def stream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelTurn]:
        question = request.messages[-1]["content"][-1]["text"]
        n = int(question.rsplit("#", 1)[1].split()[0])
        async for item in self._inner.stream(request):
            if isinstance(item, TextChunk):
                self._first_token.setdefault(n, time.monotonic())
            yield item


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def round_trip_ms(fake: FakeSlack) -> float:
    client = fake.client()
    times = []
    for _ in range(30):
        started = time.monotonic()
        await client.api_test()
        times.append((time.monotonic() - started) * 1000)
    return statistics.median(times)


async def run(args: argparse.Namespace, model_url: str, workdir: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "SLACK_")):
            del os.environ[name]
    first_token: dict[int, float] = {}
    async with FakeSlack(ts_start=None) as fake:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            anthropic_api_key="bench",
            anthropic_base_url=model_url,
            model_max_retries=0,
            database_url=f"sqlite:///{workdir / 'supportbot.db'}",
            kb_path=ROOT / "config" / "kb",
            kb_index_path=workdir / "kb.sqlite3",
            bot_config_path=ROOT / "config" / "bot.toml",
            system_prompt_path=ROOT / "config" / "prompts" / "system.md",
            demo_orders_path=ROOT / "config" / "demo" / "orders.json",
            orders_db_path=workdir / "orders.sqlite3",
            slack_api_url=fake.api_url,
        )
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
            fake.reset_calls()
            started = time.monotonic()
            await asyncio.gather(*(sender.send_event(post.event) for _, post in posts))
            await front.tasks.wait_idle()
            elapsed = time.monotonic() - started
            report(args, fake, posts, first_token, idle_rtt, elapsed)
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
) -> None:
    equal = 0
    latencies: list[float] = []
    edits: list[int] = []
    for n, post in posts:
        thread_ts = post.ts  # type: ignore[attr-defined]
        channel = post.message_event["channel"]  # type: ignore[attr-defined]
        replies = [m for m in fake.bot_messages(channel) if m.thread_ts == thread_ts]
        if sections(replies) == to_mrkdwn(answer_for(n, args.chars)):
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
    show("replies streaming at once", f"{args.replies} in {args.channels} channel(s), one workspace")
    show("answers", f"about {args.chars} characters at {args.tps:g} tokens/s, deltas of {args.delta_chars}")
    show("429s seen", f"{fake.rate_limited_count}  (target 0)")
    show("final text equal to the answer", f"{equal} of {args.replies}  (target {args.replies})")
    if latencies:
        p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
        show(
            "first token -> first visible text",
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms ({len(latencies)} replies)",
        )
    show(
        "fake API round trip (idle)", f"{idle_rtt:.1f} ms  (target: within it plus {TARGET_EXTRA_MS:.0f} ms)"
    )
    show("edits per reply", f"mean {statistics.mean(edits):.1f}, min {min(edits)}, max {max(edits)}")
    show("chat.update calls in all", str(len(fake.calls("chat.update"))))
    show("all replies settled after", f"{elapsed:.1f} s")


def show(label: str, value: str) -> None:
    print(f"{label + ':':36}{value}")


def sections(messages: list[FakeMessage]) -> str:
    return "\n".join(
        block["text"]["text"] for m in messages for block in m.blocks or () if block.get("type") == "section"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replies", type=int, default=50)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--chars", type=int, default=1500)
    parser.add_argument("--tps", type=float, default=50.0, help="tokens a second (about 4 characters each)")
    parser.add_argument("--delta-chars", type=int, default=8, help="characters per streamed text delta")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    receive, send = multiprocessing.Pipe(duplex=False)
    model = multiprocessing.Process(
        target=serve_model, args=(args.chars, args.tps, args.delta_chars, send), daemon=True
    )
    model.start()
    try:
        model_url = receive.recv()
        with tempfile.TemporaryDirectory() as workdir:
            asyncio.run(run(args, model_url, Path(workdir)))
    finally:
        model.terminate()
        model.join()


if __name__ == "__main__":
    main()
