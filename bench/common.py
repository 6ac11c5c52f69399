"""What the streaming and load benchmarks share: the fake model in a process of its own, the answers it
writes, the timed model client, the bot's settings, and the helpers that print figures.

The fakes are imported inside the functions that run them, so that a bot process which imports this module
does not load them (``bench/load.py`` measures the bot's memory alone).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import multiprocessing
import os
import re
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _path in (str(ROOT / "tests"), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from bench.report import Figure  # noqa: E402
from bot.agent.llm import LLM, ModelRequest, ModelTurn, TextChunk  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.streaming.reply import DEFAULT_PLACEHOLDER  # noqa: E402

CHARS_PER_TOKEN = 4
PLACEHOLDER = DEFAULT_PLACEHOLDER
"""What a Slack reply shows until its first text."""
TARGET_EXTRA_MS = 50.0
"""The streaming benchmarks' target: the first text within the fake API's round trip plus this."""
"""A token is about four characters of English."""

_QUESTION = re.compile(r"#(\d+)")


def answer_for(n: int, chars: int) -> str:
    """A Markdown answer of about ``chars`` characters, different for every question."""
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


def _spread(n: int, salt: str) -> float:
    """A number in [0, 1) that depends only on ``n`` (the same in every process)."""
    digest = hashlib.blake2b(f"{salt}:{n}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") / 2**32


@dataclass(frozen=True)
class ModelPace:
    """How the fake model answers question ``#n``: its length, its speed and its time to first token.

    The length is ``chars`` give or take ``chars_spread`` and the time to first token ``ttft`` give or take
    ``ttft_spread``, both fixed per question number, so every process agrees on the answer to a question.
    """

    chars: int
    tps: float
    delta_chars: int
    ttft: float = 0.0
    chars_spread: int = 0
    ttft_spread: float = 0.0

    def answer(self, n: int) -> str:
        chars = self.chars + round((2 * _spread(n, "chars") - 1) * self.chars_spread)
        return answer_for(n, max(40, chars))

    def first_token_after(self, n: int) -> float:
        return max(0.0, self.ttft + (2 * _spread(n, "ttft") - 1) * self.ttft_spread)

    @property
    def deltas_per_second(self) -> float:
        # The fake counts one token per text delta: deltas per second = characters per second / size.
        return self.tps * CHARS_PER_TOKEN / self.delta_chars

    def describe(self) -> str:
        size = f"{self.chars}" + (f" ± {self.chars_spread}" if self.chars_spread else "")
        text = f"about {size} characters at {self.tps:g} tokens/s, deltas of {self.delta_chars}"
        if self.ttft or self.ttft_spread:
            first = f"{self.ttft:g}" + (f" ± {self.ttft_spread:g}" if self.ttft_spread else "")
            text += f", first token after {first} s"
        return text


def question_number(messages: list[Any]) -> int | None:
    """The ``#n`` in the last message's text (the question being answered), if there is one."""
    if not messages:
        return None
    content = messages[-1].get("content") if isinstance(messages[-1], dict) else None
    if isinstance(content, str):
        texts = [content]
    else:
        texts = [b.get("text", "") for b in content or () if isinstance(b, dict) and b.get("type") == "text"]
    found = _QUESTION.findall("\n".join(texts))
    return int(found[-1]) if found else None


def serve_model(pace: ModelPace, ready: Connection) -> None:
    """The fake Anthropic API in its own process, so that its CPU time and memory are not the bot's."""
    from fakes.anthropic import FakeAnthropic, RecordedRequest, Reply

    async def main() -> None:
        def respond(request: RecordedRequest) -> Reply:
            n = question_number(request.body.get("messages") or [])
            if n is None:  # not a question of the benchmark (e.g. a summary of older turns)
                return Reply.text("A short summary of the conversation so far.", chunk=pace.delta_chars)
            return Reply.text(
                pace.answer(n),
                tokens_per_second=pace.deltas_per_second,
                chunk=pace.delta_chars,
                ttft=pace.first_token_after(n),
            )

        # No prompt-cache model: its bookkeeping would only cost the fake CPU time.
        async with FakeAnthropic(responder=respond, prompt_cache=None) as fake:
            ready.send(fake.base_url)
            await asyncio.Event().wait()

    asyncio.run(main())


@contextmanager
def model_process(pace: ModelPace) -> Iterator[str]:
    """Run :func:`serve_model` in a child process; yields its base URL."""
    receive, send = multiprocessing.Pipe(duplex=False)
    model = multiprocessing.Process(target=serve_model, args=(pace, send), daemon=True, name="fake-anthropic")
    model.start()
    try:
        yield receive.recv()
    finally:
        model.terminate()
        model.join()


class TimedLLM:
    """The real client, noting when the first text of each question's answer reached the bot."""

    def __init__(self, inner: LLM, first_token: dict[int, float]) -> None:
        self._inner = inner
        self._first_token = first_token

    async def stream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelTurn]:
        n = question_number(request.messages)
        async for item in self._inner.stream(request):
            if n is not None and isinstance(item, TextChunk):
                self._first_token.setdefault(n, time.monotonic())
            yield item

    async def complete(self, request: ModelRequest) -> ModelTurn:
        return await self._inner.complete(request)


def clear_env(*prefixes: str) -> None:
    """Forget settings from the environment, so the benchmark runs only against its fakes."""
    for name in list(os.environ):
        if name.startswith(prefixes):
            del os.environ[name]


def bench_settings(workdir: Path, model_url: str, **overrides: Any) -> Settings:
    """The bot's settings for a benchmark: files in ``workdir``, the repository's config, the fake model."""
    values: dict[str, Any] = {
        "anthropic_api_key": "bench",
        "anthropic_base_url": model_url,
        "model_max_retries": 0,
        "database_url": f"sqlite:///{workdir / 'supportbot.db'}",
        "kb_path": ROOT / "config" / "kb",
        "kb_index_path": workdir / "kb.sqlite3",
        "bot_config_path": ROOT / "config" / "bot.toml",
        "system_prompt_path": ROOT / "config" / "prompts" / "system.md",
        "demo_orders_path": ROOT / "config" / "demo" / "orders.json",
        "orders_db_path": workdir / "orders.sqlite3",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def show(label: str, value: str, width: int = 36) -> None:
    print(f"{label + ':':{width}}{value}", flush=True)


def add_pace_arguments(parser: argparse.ArgumentParser, *, chars: int = 1500, tps: float = 50.0) -> None:
    """``--chars``, ``--tps`` and ``--delta-chars``: how the fake model answers (see :func:`pace_of`)."""
    parser.add_argument("--chars", type=int, default=chars)
    parser.add_argument("--tps", type=float, default=tps, help="tokens a second (about 4 characters each)")
    parser.add_argument("--delta-chars", type=int, default=8, help="characters per streamed text delta")


def pace_of(args: argparse.Namespace) -> ModelPace:
    return ModelPace(chars=args.chars, tps=args.tps, delta_chars=args.delta_chars)


def run_streaming(
    args: argparse.Namespace, run: Callable[[argparse.Namespace, str, Path], Awaitable[None]]
) -> None:
    """``run(args, model_url, workdir)`` with the fake model in its own process and a scratch folder."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with model_process(pace_of(args)) as model_url, tempfile.TemporaryDirectory() as workdir:
        asyncio.run(run(args, model_url, Path(workdir)))


@dataclass(frozen=True)
class StreamResults:
    """What a streaming benchmark (many replies at once on one platform) measured."""

    replies: int
    rate_limited: int
    equal: int
    """Replies whose final text is the model's answer."""
    latencies: list[float]
    """Milliseconds from each reply's first token to its first visible text."""
    idle_rtt: float
    edits: list[int]
    elapsed: float
    final_after: list[float] = field(default_factory=list)
    """Seconds from each question to its reply's final text, where the benchmark measures it."""
    final_within: float | None = None
    """The target for the slowest of them."""

    def show(self) -> None:
        show("429s seen", f"{self.rate_limited}  (target 0)")
        show("final text equal to the answer", f"{self.equal} of {self.replies}  (target {self.replies})")
        if self.latencies:
            p50, p99 = percentile(self.latencies, 0.5), percentile(self.latencies, 0.99)
            show(
                "first token -> first visible text",
                f"p50 {p50:.1f} ms, p99 {p99:.1f} ms ({len(self.latencies)} replies)",
            )
        show(
            "fake API round trip (idle)",
            f"{self.idle_rtt:.1f} ms  (target: within it plus {TARGET_EXTRA_MS:.0f} ms)",
        )
        if self.edits:
            edits = self.edits
            show("edits per reply", f"mean {sum(edits) / len(edits):.1f}, min {min(edits)}, max {max(edits)}")
        if self.final_after:
            target = "" if self.final_within is None else f"  (target at most {self.final_within:.0f} s)"
            p50, slowest = percentile(self.final_after, 0.5), max(self.final_after)
            show("question -> final text", f"p50 {p50:.1f} s, slowest {slowest:.1f} s{target}")
        show("all replies settled after", f"{self.elapsed:.1f} s")

    def figures(self) -> list[Figure]:
        """The figures with their targets, for ``bench.report.emit``."""
        figures = [
            Figure("429s seen", self.rate_limited, at_most=0),
            Figure("final text equal to the answer", self.equal, at_least=self.replies),
        ]
        if self.latencies:
            figures += [
                Figure("first token -> first visible text p50", percentile(self.latencies, 0.5), "ms"),
                Figure(
                    "first token -> first visible text p99",
                    percentile(self.latencies, 0.99),
                    "ms",
                    at_most=self.idle_rtt + TARGET_EXTRA_MS,
                ),
            ]
        figures.append(Figure("fake API round trip (idle)", self.idle_rtt, "ms"))
        if self.edits:
            figures.append(Figure("edits per reply (mean)", sum(self.edits) / len(self.edits)))
        if self.final_after:
            slowest = max(self.final_after)
            figures.append(
                Figure("question -> final text (slowest)", slowest, "s", at_most=self.final_within)
            )
        figures.append(Figure("all replies settled after", self.elapsed, "s"))
        return figures
