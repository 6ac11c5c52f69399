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

import aiohttp
from fakes.discord import FakeChannel, FakeDiscord, FakeMessage

from bench.common import (
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
from integrations.discord.app import DiscordCredentials, DiscordFrontEnd

POSTS = "/channels/{channel_id}/messages"
EDITS = "/channels/{channel_id}/messages/{message_id}"


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
    clear_env("ANTHROPIC_", "SLACK_", "DISCORD_")
    first_token: dict[int, float] = {}
    async with FakeDiscord() as fake:
        settings = bench_settings(
            workdir,
            model_url,
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
            freeze_startup_heap()  # as supportbot serve does once it serves: no full collection walks it
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


def answers(fake: FakeDiscord, payload: dict[str, object]) -> tuple[FakeChannel | None, list[FakeMessage]]:
    """The thread the bot opened for the question ``payload`` (None: none yet) and its messages there."""
    thread = fake.channels.get(int(str(payload["id"])))
    return thread, [m for m in fake.bot_messages(thread) if not m.ephemeral] if thread is not None else []


def finished(fake: FakeDiscord, payloads: list[dict[str, object]]) -> bool:
    """Every question's thread ends with an answer that has its buttons (the final edit was made)."""
    for payload in payloads:
        _, replies = answers(fake, payload)
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
        thread, replies = answers(fake, payload)
        if "\n".join(m.content for m in replies) == pace_of(args).answer(n):
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
    show("answers", pace_of(args).describe())
    results = StreamResults(args.replies, fake.rate_limited_count, equal, latencies, idle_rtt, edits, elapsed)
    results.show()
    edit_calls = fake.calls("PATCH", EDITS)
    lowest = min((int(c.headers.get("X-RateLimit-Remaining", "0")) for c in edit_calls if c.ok), default=0)
    show("edit calls in all", f"{len(edit_calls)} (fewest left in a bucket's window: {lowest})")
    emit("discord_stream", results.figures())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replies", type=int, default=20)
    add_pace_arguments(parser)
    run_streaming(parser.parse_args(), run)


if __name__ == "__main__":
    main()
