"""Slack files benchmark: reading the files shared with one message, as the answer waits for them.

    python bench/slack_files.py [--runs 5] [--image-mb 3.5]

Shares five files with one message in the fake Slack (four PNG images of ``--image-mb`` MB each, just
under the 3.6 MB an image may be, and a 200 KB log file) and reads them the way the bot does
(``integrations.slack.files.SlackFiles`` over HTTP from the fake's file host, with the bot token, then
base64 for the model), ``--runs`` times, then once more while tracing memory.

Prints:

* the time to read the message's files, p50 and the slowest run;
* the size of the content blocks that go to the model (base64 adds a third), which a request may carry
  32 MB of;
* the peak memory Python allocated while reading them.

Prints figures only; nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import aiohttp
from fakes.slack import FakeSlack

from bench.report import Figure, emit
from integrations.slack.files import SlackFiles
from integrations.slack.inbound import files_of

PNG_HEADER = b"\x89PNG\r\n\x1a\n"


async def run(runs: int, image_bytes: int) -> list[Figure]:
    async with FakeSlack() as fake:
        alice = fake.add_user(name="alice")
        images = [
            fake.upload(
                alice.id, f"shot{i}.png", PNG_HEADER + bytes(image_bytes - len(PNG_HEADER)), "image/png"
            )
            for i in range(4)
        ]
        log = fake.upload(alice.id, "app.log", b"INFO request served\n" * 10_000, "text/plain")
        post = fake.post_as_user(fake.general.id, alice.id, "these", files=[*images, log])
        shared = files_of(post.message_event)
        times: list[float] = []
        async with aiohttp.ClientSession() as session:
            reader = SlackFiles(session, fake.bot_token, fake.api_url)
            for _ in range(runs):
                started = time.perf_counter()
                blocks = await reader.blocks(shared)
                times.append(time.perf_counter() - started)
            tracemalloc.start()  # once more, for the memory (tracing slows the reading down)
            blocks = await reader.blocks(shared)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            size = len(json.dumps(blocks))
        kinds = [block["type"] for block in blocks]
        print(f"blocks: {kinds}")
        print(f"read in p50 {statistics.median(times) * 1000:.0f} ms, slowest {max(times) * 1000:.0f} ms")
        print(f"content for the model: {size / 1e6:.1f} MB; peak memory while reading {peak / 1e6:.0f} MB")
        return [
            Figure("files read p50", statistics.median(times) * 1000, "ms"),
            Figure("files read slowest", max(times) * 1000, "ms"),
            Figure("content blocks", size / 1e6, "MB", at_most=32),
            Figure("peak memory while reading", peak / 1e6, "MB"),
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--image-mb", type=float, default=3.5)
    args = parser.parse_args()
    emit("slack_files", asyncio.run(run(args.runs, int(args.image_mb * 1_000_000))))


if __name__ == "__main__":
    main()
