"""Discord streaming benchmark: many replies streaming at once from one channel, inside Discord's limits.

    python bench/discord_stream.py [--replies 20] [--chars 1500] [--tps 50] [--delta-chars 8]

Runs the real Discord front end (discord.py over the gateway and REST, the core, the anthropic SDK)
against the fake Discord with its real limits (5 posts and 5 edits per 5 s per channel, every thread a
channel of its own, 50 requests a second in all, ``X-RateLimit-*`` headers on every answer) and the fake
Anthropic API, in a separate process, streaming answers of about ``--chars`` characters at ``--tps``
tokens a second (a token is about four characters) in text deltas of ``--delta-chars`` characters. The bot
uses the repository's ``config/bot.toml``. ``--replies`` people each mention the bot in #support at the
same moment; each gets a thread of their own.

Prints:

* 429s seen (target 0);
* replies whose final text equals the model's answer (target: all);
* time from the model's first token (when the bot reads it) to the first visible text of the answer
  (when Discord receives the post that shows it), p50 and p99, next to the fake API's round trip;
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

import aiohttp  # noqa: E402
from fakes.anthropic_api import FakeAnthropic, RecordedRequest, Reply  # noqa: E402
from fakes.discord_api import FakeDiscord  # noqa: E402

from bot.app import build_app  # noqa: E402
from bot.llm import LLM, AnthropicLLM, ModelRequest, ModelTurn, TextChunk  # noqa: E402
from bot.settings import Settings  # noqa: E402
from integrations.discord.app import DiscordCredentials, DiscordFrontEnd  # noqa: E402

CHARS_PER_TOKEN = 4
POSTS = "/channels/{channel_id}/messages"
EDITS = "/channels/{channel_id}/messages/{message_id}"


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


def question_number(request: ModelRequest | RecordedRequest) -> int:
    messages = request.messages if isinstance(request, ModelRequest) else request.body["messages"]
    text = messages[-1]["content"][0]["text"]
    return int(text.rsplit("#", 1)[1].split()[0])


def serve_model(chars: int, tps: float, delta_chars: int, ready: Connection) -> None:
    """The fake Anthropic API in its own process, so that its CPU time does not slow the bot down."""

    async def main() -> None:
        def respond(request: RecordedRequest) -> Reply:
            # The fake counts one token per text delta: deltas per second = characters per second / size.
            deltas_per_second = tps * CHARS_PER_TOKEN / delta_chars
            text = answer_for(question_number(request), chars)
            return Reply.text(text, tokens_per_second=deltas_per_second, chunk=delta_chars)

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
        n = question_number(request)
        async for item in self._inner.stream(request):
            if isinstance(item, TextChunk):
                self._first_token.setdefault(n, time.monotonic())
            yield item

    async def complete(self, request: ModelRequest) -> ModelTurn:
        return await self._inner.complete(request)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def round_trip_ms(fake: FakeDiscord) -> float:
    """The fake's answer time for a cheap authenticated call, without discord.py's pacing."""
    times = []
    async with aiohttp.ClientSession(headers={"Authorization": f"Bot {fake.token}"}) as http:
        for _ in range(30):
            started = time.monotonic()
            async with http.get(f"{fake.api_base}/users/@me") as response:
                await response.read()
            times.append((time.monotonic() - started) * 1000)
            await asyncio.sleep(0.03)  # under the fake's global limit
    return statistics.median(times)


async def run(args: argparse.Namespace, model_url: str, workdir: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "SLACK_", "DISCORD_")):
            del os.environ[name]
    first_token: dict[int, float] = {}
    async with FakeDiscord() as fake:
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
            discord_token=fake.token,
            discord_api_url=fake.api_base,
            discord_gateway_url=fake.gateway_url,
        )
        llm = TimedLLM(
            AnthropicLLM.from_key("bench", base_url=model_url, max_retries=0, timeout=60), first_token
        )
        core = await build_app(settings, llm=llm)
        front = DiscordFrontEnd(core, DiscordCredentials.from_settings(settings), guild_ready_timeout=0.1)
        await front.start()
        try:
            idle_rtt = await round_trip_ms(fake)
            people = [fake.add_member(fake.guild, f"user{n}") for n in range(args.replies)]
            payloads = [
                fake.user_message(
                    fake.support, people[n], f"{fake.bot_user.mention} where is my parcel? #{n}"
                )
                for n in range(args.replies)
            ]
            fake.reset_calls()
            started = time.monotonic()
            await asyncio.gather(*(fake.dispatch("MESSAGE_CREATE", payload) for payload in payloads))
            await fake.wait_for(lambda: finished(fake, payloads), seconds=170, what="every final answer")
            await front.tasks.wait_idle()
            elapsed = time.monotonic() - started
            report(args, fake, payloads, first_token, idle_rtt, elapsed)
        finally:
            await front.stop()
            await core.close()


def finished(fake: FakeDiscord, payloads: list[dict[str, object]]) -> bool:
    """Every question's thread ends with an answer that has its buttons (the final edit was made)."""
    for payload in payloads:
        thread = fake.channels.get(int(str(payload["id"])))
        replies = [m for m in fake.bot_messages(thread) if not m.ephemeral] if thread is not None else []
        if not replies or not replies[-1].components:
            return False
    return True


def report(
    args: argparse.Namespace,
    fake: FakeDiscord,
    payloads: list[dict[str, object]],
    first_token: dict[int, float],
    idle_rtt: float,
    elapsed: float,
) -> None:
    equal = 0
    latencies: list[float] = []
    edits: list[int] = []
    for n, payload in enumerate(payloads):
        thread = fake.channels.get(int(str(payload["id"])))
        replies = [m for m in fake.bot_messages(thread) if not m.ephemeral] if thread is not None else []
        if "\n".join(m.content for m in replies) == answer_for(n, args.chars):
            equal += 1
        if thread is None:
            continue
        shown = [
            c.at
            for c in fake.calls("POST", POSTS)
            if c.ok and c.params.get("channel_id") == str(thread.id) and isinstance(c.body, dict)
        ]
        if shown and n in first_token:
            latencies.append((min(shown) - first_token[n]) * 1000)
        edits.append(
            len([c for c in fake.calls("PATCH", EDITS) if c.params.get("channel_id") == str(thread.id)])
        )
    show("replies streaming at once", f"{args.replies}, mentions in one channel (a thread each)")
    show("answers", f"about {args.chars} characters at {args.tps:g} tokens/s, deltas of {args.delta_chars}")
    show("429s seen", f"{fake.rate_limited_count}  (target 0)")
    show("final text equal to the answer", f"{equal} of {args.replies}  (target {args.replies})")
    if latencies:
        p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
        show(
            "first token -> first visible text",
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms ({len(latencies)} replies)",
        )
    show("fake API round trip (idle)", f"{idle_rtt:.1f} ms")
    if edits:
        show("edits per reply", f"mean {statistics.mean(edits):.1f}, min {min(edits)}, max {max(edits)}")
    edit_calls = fake.calls("PATCH", EDITS)
    lowest = min((int(c.headers.get("X-RateLimit-Remaining", "0")) for c in edit_calls if c.ok), default=0)
    show("edit calls in all", f"{len(edit_calls)} (fewest left in a bucket's window: {lowest})")
    show("all replies settled after", f"{elapsed:.1f} s")


def show(label: str, value: str) -> None:
    print(f"{label + ':':36}{value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replies", type=int, default=20)
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
