"""Scale-out benchmark: one and two ``supportbot slack`` instances on PostgreSQL and Redis, same load.

    python bench/scale.py [--mentions 200] [--channels 20] [--chars 300] [--instances 1,2]

For each instance count, starts that many real ``supportbot slack`` processes (HTTP mode) on a fresh
PostgreSQL schema and a fresh Redis key prefix, all pointed at one fake Slack Web API (with limits no run
reaches, so the figures are the bot's, not Slack's budget) and one fake Anthropic API (in a process of its
own, answering about ``--chars`` characters quickly). Then ``--mentions`` people mention the bot at once,
spread over ``--channels`` channels; instance ``i % n`` gets each event and, as Slack retries events it
thinks were not acknowledged, the same event (same ``event_id``, ``X-Slack-Retry-Num: 1``) goes to the
next instance too. With one instance both deliveries go to it.

Prints, per instance count: replies per second (from the first delivery to the last final answer),
duplicate replies (target 0), unanswered mentions (target 0), model calls, and the 429s seen. Figures
only; nothing here asserts. PostgreSQL and Redis come from ``SUPPORTBOT_TEST_POSTGRES_URL`` and
``SUPPORTBOT_TEST_REDIS_URL`` (defaults: the local servers ``.ci/run`` starts). Takes well under a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import multiprocessing
import os
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fakes.anthropic import FakeAnthropic, RecordedRequest, Reply  # noqa: E402
from fakes.slack import FakeMessage, FakeSlack, SlackLimits, mention  # noqa: E402
from local_services import POSTGRES_URL, REDIS_URL, create_schema, delete_prefix, drop_schema  # noqa: E402

from bench.report import Figure, emit  # noqa: E402
from tests.scale.rig import (  # noqa: E402
    Instance,
    start_instance,
    stop_instance,
    wait_idle,
    wait_ready,
)
from tests.slack.rig import bot_toml  # noqa: E402

CONCURRENT_DELIVERIES = 64


def serve_model(chars: int, ready: Connection) -> None:
    """The fake Anthropic API in its own process, answering every question at once."""

    async def main() -> None:
        answer = ("Your parcel left the warehouse on Monday and arrives in two to four working days. " * 20)[
            :chars
        ]
        calls = 0

        def respond(request: RecordedRequest) -> Reply:
            nonlocal calls
            calls += 1
            return Reply.text(answer.rstrip() + ".", tokens_per_second=2000, chunk=40)

        async with FakeAnthropic(responder=respond) as fake:
            ready.send(fake.base_url)
            while True:
                await asyncio.sleep(0.1)
                if ready.poll():
                    ready.recv()
                    ready.send(calls)

    asyncio.run(main())


def cpu_seconds(instance: Instance) -> float:
    """User and system CPU time of the instance's process so far (Linux ``/proc``; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{instance.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def model_calls(model: Connection) -> int:
    """How many questions the fake model has answered so far."""

    def ask() -> int:
        model.send("calls?")
        return int(model.recv())

    return await asyncio.to_thread(ask)


def is_final(message: FakeMessage) -> bool:
    return bool(message.blocks) and len(message.blocks or ()) > 1


async def run_once(
    n_instances: int, args: argparse.Namespace, model: Connection, model_url: str, workdir: Path
) -> dict[str, float]:
    schema_url = await create_schema(POSTGRES_URL)
    prefix = f"supportbot-bench:{time.monotonic_ns()}:"
    run_dir = workdir / f"run{n_instances}"
    instances: list[Instance] = []
    async with FakeSlack(ts_start=None, limits=SlackLimits.relaxed()) as fake:
        try:
            run_dir.mkdir(parents=True)
            config = bot_toml(run_dir / "bot.toml", fast=True)
            for i in range(n_instances):
                instances.append(
                    await start_instance(
                        f"i{i}",
                        run_dir,
                        fake,
                        model_url,
                        database_url=schema_url,
                        redis_url=REDIS_URL,
                        redis_prefix=prefix,
                        config=config,
                        log_level=args.log_level,
                    )
                )
            await wait_ready(instances, seconds=120)
            calls_before = await model_calls(model)
            cpu_before = sum(cpu_seconds(instance) for instance in instances)

            channels = [fake.general.id] + [
                fake.add_channel(name=f"help-{i}").id for i in range(args.channels - 1)
            ]
            posts = []
            for n in range(args.mentions):
                user = fake.add_user(name=f"user{n}")
                posts.append(
                    fake.post_as_user(channels[n % len(channels)], user.id, f"{mention()} where is #{n}?")
                )
            limit = asyncio.Semaphore(CONCURRENT_DELIVERIES)

            async def deliver(n: int) -> None:
                first, retry = instances[n % n_instances], instances[(n + 1) % n_instances]
                envelope = first.sender.envelope(posts[n].event)
                async with limit:
                    await asyncio.gather(
                        first.sender.send_envelope(envelope),
                        retry.sender.send_envelope(envelope, retry_num=1),
                    )

            def answered() -> int:
                finals = {(m.channel, m.thread_ts) for m in fake.bot_messages() if is_final(m)}
                return sum(1 for post in posts if (post.message_event["channel"], post.ts) in finals)

            started = time.monotonic()
            await asyncio.gather(*(deliver(n) for n in range(args.mentions)))
            with contextlib.suppress(TimeoutError):  # the figures then show what is missing
                await fake.wait_for(lambda: answered() == len(posts), seconds=120, what="every answer")
            elapsed = time.monotonic() - started
            await wait_idle(instances, seconds=60)
            cpu = sum(cpu_seconds(instance) for instance in instances) - cpu_before
            await asyncio.sleep(0.5)  # a duplicate would show by now

            replies_per_thread = [
                sum(
                    1
                    for m in fake.bot_messages(post.message_event["channel"])
                    if m.thread_ts == post.ts and is_final(m)
                )
                for post in posts
            ]
            calls = await model_calls(model) - calls_before
            return {
                "answered": answered(),
                "elapsed": elapsed,
                "duplicates": sum(max(0, count - 1) for count in replies_per_thread),
                "model_calls": calls,
                "rate_limited": fake.rate_limited_count,
                "cpu_ms_per_reply": cpu * 1000 / max(1, answered()),
            }
        finally:
            for instance in instances:
                await stop_instance(instance)
            await drop_schema(schema_url)
            await delete_prefix(REDIS_URL, prefix)


async def run(args: argparse.Namespace, model: Connection, model_url: str, workdir: Path) -> None:
    print(
        f"load: {args.mentions} mentions in {args.channels} channels, each delivered twice "
        f"(to instance i % n and as a retry to the next); answers of about {args.chars} characters"
    )
    header = ("instances", "replies/s", "answered", "duplicates", "model calls", "429s", "bot CPU/reply")
    widths = (10, 10, 10, 11, 12, 6, 14)
    print(" ".join(f"{title:>{width}}" for title, width in zip(header, widths, strict=True)))
    results: list[Figure] = []
    for count in args.instances:
        figures = await run_once(count, args, model, model_url, workdir)
        results += [
            Figure(f"{count} instance(s): replies per second", figures["answered"] / figures["elapsed"]),
            Figure(f"{count} instance(s): answered", figures["answered"], at_least=args.mentions),
            Figure(f"{count} instance(s): duplicate answers", figures["duplicates"], at_most=0),
            Figure(f"{count} instance(s): model calls", figures["model_calls"], at_most=args.mentions),
            Figure(f"{count} instance(s): 429s", figures["rate_limited"], at_most=0),
        ]
        print(
            f"{count:>10} {figures['answered'] / figures['elapsed']:>10.1f} "
            f"{int(figures['answered']):>6}/{args.mentions:<3} {int(figures['duplicates']):>11} "
            f"{int(figures['model_calls']):>12} {int(figures['rate_limited']):>6} "
            f"{figures['cpu_ms_per_reply']:>11.1f} ms"
        )
    print(
        "(duplicates target 0; model calls target one per mention; bot CPU/reply: the instances' CPU time\n"
        " per answer, all instances together. On a small machine the instances share its cores with the\n"
        " fakes, PostgreSQL and Redis, so replies/s is bounded by the machine; CPU/reply shows what the\n"
        " shared store, locks and budgets cost per answer.)"
    )
    emit("scale", results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=int, default=200)
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--chars", type=int, default=300)
    parser.add_argument(
        "--instances", type=lambda v: [int(x) for x in v.split(",")], default=[1, 2], help="e.g. 1,2"
    )
    parser.add_argument("--log-level", default="WARNING", help="of the instances (their logs: --workdir)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the instances' files and logs here")
    args = parser.parse_args()
    ours, theirs = multiprocessing.Pipe()
    model = multiprocessing.Process(target=serve_model, args=(args.chars, theirs), daemon=True)
    model.start()
    try:
        model_url = ours.recv()
        if args.workdir is not None:
            asyncio.run(run(args, ours, model_url, args.workdir))
            return
        with tempfile.TemporaryDirectory() as workdir:
            asyncio.run(run(args, ours, model_url, Path(workdir)))
    finally:
        model.terminate()
        model.join()


if __name__ == "__main__":
    main()
