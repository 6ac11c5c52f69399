"""Agent turn benchmark: the core's own CPU time per answered message, the model excluded.

    python bench/agent_turn.py [--turns 300] [--threads 20] [--tool-every 5] [--chunk 12]

Builds the real app with `bot.run.app.build_app` (SQLite store, KB index and demo orders in a temporary
folder) and sends ``--turns`` messages through ``app.service.handle`` across ``--threads`` conversations
that run at once (each conversation one message after the other, so histories grow as they would). Every
``--tool-every``-th message asks about an order, and the model answers it with a ``lookup_order`` call
first (two model rounds). Replies render on a no-op ReplyStream with the console's limits. Each message
carries a platform event id, as a Slack or Discord delivery does (so it is claimed in the store's dedup).

Two runs:

* real SDK: ``anthropic.AsyncAnthropic`` streaming from the fake Messages API (tests/fakes), which runs in
  a separate process so that its CPU time is not counted here; this includes the SDK's HTTP and SSE work;
* scripted LLM: an in-process ``bot.agent.llm.LLM`` that yields the same text pieces and turns without any
  network, which leaves the core alone: agent loop, tools and audit, store, streaming renderer.

CPU time is ``time.process_time()`` of this process (all its threads, so aiosqlite's and the KB's worker
threads count) divided by the messages; wall time per message is the run's elapsed time divided by the
messages (messages overlap across conversations) and the mean time one message took. Prints figures only;
nothing here asserts on time.

Store trips are the SQLite store's round trips to its connection's thread (``SQLiteStore.trips``): over the
whole run per message (tool rounds' audit rows and summary folds included), and on the common path alone:
a plain question answered in an existing thread, one message at a time (``--serial`` of them).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import Figure, emit
from bot.agent.llm import ModelRequest, ModelTurn, TextChunk, TokenUsage
from bot.inbound import Budgets, Inbound
from bot.run.app import build_app
from bot.runtime import App
from bot.settings import Settings
from bot.store.sqlite import SQLiteStore
from bot.streaming.budget import EditBudget
from bot.streaming.protocol import Footer, MessageRef, ReplyLimits
from bot.types import Principal, Role, ThreadRef

ROOT = Path(__file__).resolve().parents[1]
TARGET_CPU_MS = 2.0
TARGET_TRIPS = 4
MODEL = "claude-sonnet-5-5"
ANSWER = (
    "Standard shipping takes 3 to 5 business days within the US and express takes 1 to 2. You get a "
    "tracking number by email as soon as the parcel leaves our warehouse, usually the same business day."
)
ORDER_ANSWER = "Your order ORD-10001 has shipped with UPS; the tracking number is 1Z999AA10123456784."
QUESTIONS = ("How long does shipping take?", "Do you ship express?", "How do I track a parcel?")
ORDER_QUESTION = "Where is my order ORD-10001?"
CUSTOMER = Principal("bench", "u-1001", "Ada", frozenset({Role.CUSTOMER}), "C-1001")


# ---- the fake Anthropic API, in its own process ---------------------------------------------------------


SUMMARY = "The customer asked about shipping times and order ORD-10001, which has shipped with UPS."


def _wants_tool(messages: list[dict[str, Any]]) -> bool | None:
    """None: the last message carries tool results (answer now); else whether the question names an order."""
    content = messages[-1]["content"]
    if any(block.get("type") == "tool_result" for block in content):
        return None
    return "ORD-" in " ".join(block.get("text", "") for block in content)


def _serve(conn: Connection, chunk: int) -> None:
    """Run the fake Messages API until told to stop; send its base URL first."""
    sys.path.insert(0, str(ROOT / "tests"))
    from fakes.anthropic import FakeAnthropic, RecordedRequest, Reply

    def responder(request: RecordedRequest) -> Reply:
        request.raw = b""  # keep the process small over many requests
        if not request.stream:  # only the summary model's requests are not streamed (bot.agent.context)
            return Reply.text(SUMMARY, ping=False)
        wants = _wants_tool(request.messages)
        if wants is None:
            return Reply.text(ORDER_ANSWER, chunk=chunk, ping=False)
        if wants:
            return Reply.tool_use(("lookup_order", {"order_id": "ORD-10001"}), ping=False)
        return Reply.text(ANSWER, chunk=chunk, ping=False)

    async def main() -> None:
        async with FakeAnthropic(responder=responder) as fake:
            conn.send(fake.base_url)
            await asyncio.to_thread(conn.recv)
            conn.send((len(fake.message_requests), len(fake.validation_errors)))

    asyncio.run(main())


# ---- the scripted in-process model ----------------------------------------------------------------------


class ScriptedLLM:
    """The same answers as the fake, as `TextChunk`s and one `ModelTurn`, with no network at all."""

    def __init__(self, chunk: int) -> None:
        self._chunk = chunk
        self.requests = 0

    async def stream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelTurn]:
        self.requests += 1
        usage = TokenUsage(input_tokens=1500, output_tokens=50)
        wants = _wants_tool(request.messages)
        if wants:
            tool_use = {
                "type": "tool_use",
                "id": f"toolu_{uuid.uuid4().hex[:20]}",
                "name": "lookup_order",
                "input": {"order_id": "ORD-10001"},
            }
            yield ModelTurn([tool_use], "tool_use", usage, MODEL)
            return
        text = ORDER_ANSWER if wants is None else ANSWER
        for start in range(0, len(text), self._chunk):
            await asyncio.sleep(0)  # a delta arrives: the loop runs others in between, as with a socket
            yield TextChunk(text[start : start + self._chunk])
        yield ModelTurn([{"type": "text", "text": text}], "end_turn", usage, MODEL)

    async def complete(self, request: ModelRequest) -> ModelTurn:
        """A thread's summary, when its history outgrows the budget."""
        self.requests += 1
        usage = TokenUsage(input_tokens=800, output_tokens=30)
        return ModelTurn([{"type": "text", "text": SUMMARY}], "end_turn", usage, MODEL)


# ---- the run --------------------------------------------------------------------------------------------


class NullStream:
    """A ReplyStream that accepts every post and edit and shows nothing."""

    def __init__(self, limits: ReplyLimits) -> None:
        self._limits = limits
        self._posted = 0
        self.calls = 0

    @property
    def limits(self) -> ReplyLimits:
        return self._limits

    async def post(self, text: str, footer: Footer | None = None) -> MessageRef:
        self._posted += 1
        self.calls += 1
        return f"{id(self):x}-{self._posted}-{uuid.uuid4().hex[:6]}"

    async def edit(self, ref: MessageRef, text: str, footer: Footer | None = None) -> None:
        self.calls += 1


@dataclass(frozen=True)
class Figures:
    turns: int
    tool_turns: int
    cpu_s: float
    loop_cpu_s: float
    wall_s: float
    latencies: list[float]
    platform_calls: int
    trips: int
    """The store's round trips to its connection's thread during the run."""

    @property
    def cpu_ms(self) -> float:
        return self.cpu_s * 1000 / self.turns

    @property
    def loop_cpu_ms(self) -> float:
        return self.loop_cpu_s * 1000 / self.turns

    @property
    def wall_ms(self) -> float:
        return self.wall_s * 1000 / self.turns

    @property
    def trips_per_message(self) -> float:
        return self.trips / self.turns


def unlimited_config(folder: Path) -> Path:
    """The repository's bot.toml with the per-user rate and the daily token budget lifted: one bench
    customer sends hundreds of messages a minute."""
    text = (ROOT / "config" / "bot.toml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^messages_per_user_per_minute = \d+", "messages_per_user_per_minute = 10000", text)
    text = re.sub(r"(?m)^daily_tokens_per_space = \d+", "daily_tokens_per_space = 1000000000000", text)
    path = folder / "bot.toml"
    path.write_text(text, encoding="utf-8")
    return path


def settings(folder: Path, base_url: str | None) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        anthropic_api_key="bench-key" if base_url else None,
        anthropic_base_url=base_url,
        answer_model=MODEL,
        answer_max_tokens=1024,
        model_max_retries=0,
        model_timeout_seconds=30.0,
        database_url=f"sqlite:///{folder / 'store.db'}",
        kb_path=ROOT / "config" / "kb",
        kb_index_path=folder / "kb.sqlite3",
        bot_config_path=unlimited_config(folder),
        system_prompt_path=ROOT / "config" / "prompts" / "system.md",
        demo_orders_path=ROOT / "config" / "demo" / "orders.json",
        orders_db_path=folder / "orders.sqlite3",
        orders_api_url=None,
        orders_api_token=None,
        log_level="WARNING",
    )


def store_trips(app: App) -> int:
    """The SQLite store's round trips to its connection's thread so far."""
    if not isinstance(app.store, SQLiteStore):
        raise RuntimeError("the bench counts the SQLite store's trips; it runs on SQLite only")
    return app.store.trips


async def drive(app: App, turns: int, threads: int, tool_every: int) -> Figures:
    """Send ``turns`` messages over ``threads`` concurrent conversations; measure this process's CPU."""
    facts = app.config.facts("console")
    limits = ReplyLimits(3500, facts.edit_interval_seconds)
    budgets = Budgets(edits=EditBudget(rate=1000.0, burst=100), posts=EditBudget(rate=1000.0, burst=100))
    latencies: list[float] = []
    calls = 0
    plan: list[list[str]] = [[] for _ in range(threads)]
    tool_turns = 0
    for n in range(turns):
        order = tool_every > 0 and n % tool_every == tool_every - 1
        tool_turns += order
        plan[n % threads].append(ORDER_QUESTION if order else QUESTIONS[n % len(QUESTIONS)])

    async def conversation(questions: list[str]) -> None:
        nonlocal calls
        ref = ThreadRef("bench", "space", "channel", uuid.uuid4().hex)
        for index, text in enumerate(questions):
            stream = NullStream(limits)
            started = time.perf_counter()
            message = Inbound(
                ref, CUSTOMER, text, f"q-{ref.thread_id}-{index}", datetime.now(UTC), uuid.uuid4().hex
            )
            handled = await app.service.handle(message, stream, budgets)
            latencies.append(time.perf_counter() - started)
            calls += stream.calls
            if handled.outcome is None or handled.outcome.failed:
                raise RuntimeError(f"a turn failed: {handled}")

    trips = store_trips(app)
    cpu, loop_cpu, wall = time.process_time(), time.thread_time(), time.perf_counter()
    await asyncio.gather(*(conversation(questions) for questions in plan))
    return Figures(
        turns,
        tool_turns,
        time.process_time() - cpu,
        time.thread_time() - loop_cpu,
        time.perf_counter() - wall,
        latencies,
        calls,
        store_trips(app) - trips,
    )


async def common_path_trips(app: App, messages: int) -> float:
    """The store's trips per answer of a plain question in an existing thread (one exchange before it),
    one message at a time so that each answer's trips are its own."""
    facts = app.config.facts("console")
    limits = ReplyLimits(3500, facts.edit_interval_seconds)
    budgets = Budgets(edits=EditBudget(rate=1000.0, burst=100), posts=EditBudget(rate=1000.0, burst=100))
    counted = 0
    for _ in range(messages):
        ref = ThreadRef("bench", "space", "channel", uuid.uuid4().hex)
        for index, text in enumerate(QUESTIONS[:2]):
            message = Inbound(
                ref, CUSTOMER, text, f"s-{ref.thread_id}-{index}", datetime.now(UTC), uuid.uuid4().hex
            )
            before = store_trips(app)
            handled = await app.service.handle(message, NullStream(limits), budgets)
            if handled.outcome is None or handled.outcome.failed:
                raise RuntimeError(f"a turn failed: {handled}")
            if index == 1:  # the question in the existing thread
                counted += store_trips(app) - before
    return counted / messages


async def run(
    args: argparse.Namespace, base_url: str | None, llm: ScriptedLLM | None
) -> tuple[Figures, float]:
    """The run's figures, and the store's trips per answer on the common path."""
    with tempfile.TemporaryDirectory(prefix="agent-turn-bench-") as tmp:
        app = await build_app(settings(Path(tmp), base_url), llm=llm)
        try:
            await drive(app, max(args.threads, 20), args.threads, args.tool_every)  # warm-up, not counted
            figures = await drive(app, args.turns, args.threads, args.tool_every)
            return figures, await common_path_trips(app, args.serial)
        finally:
            await app.close()


ROW = "{:<34} {:>7} {:>7} {:>8}   {:>7}   {:>15}   {:>5}   {:>5}"


def report(name: str, figures: Figures) -> None:
    p50 = statistics.median(figures.latencies) * 1000
    p95 = statistics.quantiles(figures.latencies, n=20)[-1] * 1000
    threads = figures.cpu_ms - figures.loop_cpu_ms
    print(
        ROW.format(
            name,
            f"{figures.cpu_ms:.2f}",
            f"{figures.loop_cpu_ms:.2f}",
            f"{threads:.2f}",
            f"{figures.wall_ms:.2f}",
            f"{p50:.1f} / {p95:.1f}",
            f"{figures.platform_calls / figures.turns:.1f}",
            f"{figures.trips_per_message:.1f}",
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--threads", type=int, default=20)
    parser.add_argument("--tool-every", type=int, default=5, help="every Nth message uses lookup_order")
    parser.add_argument("--chunk", type=int, default=12, help="characters per streamed text delta")
    parser.add_argument("--serial", type=int, default=50, help="answers counted for the common path's trips")
    args = parser.parse_args()

    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    server = context.Process(target=_serve, args=(theirs, args.chunk), daemon=True)
    server.start()
    try:
        base_url = ours.recv()
        with_sdk, _ = asyncio.run(run(args, base_url, None))
        ours.send("stop")
        requests, invalid = ours.recv()
    finally:
        server.join(timeout=5)
        if server.is_alive():
            server.terminate()
    scripted_llm = ScriptedLLM(args.chunk)
    scripted, common_trips = asyncio.run(run(args, None, scripted_llm))

    print(
        f"agent turn: {args.turns} messages ({with_sdk.tool_turns} with a lookup_order round) over "
        f"{args.threads} concurrent threads; answers in {args.chunk}-character deltas"
    )
    print(
        f"fake API (separate process): {requests} requests, {invalid} invalid; scripted LLM: "
        f"{scripted_llm.requests} requests (warm-up included)"
    )
    print()
    print(ROW.format("per message, ms", "CPU", "loop", "other", "wall", "latency", "calls", "store"))
    print(ROW.format("", "all", "thread", "threads", "", "p50 / p95", "", "trips"))
    report("real SDK + HTTP/SSE vs fake API", with_sdk)
    report("scripted in-process LLM (core)", scripted)
    print(f"{'SDK and HTTP/SSE share':<34} {with_sdk.cpu_ms - scripted.cpu_ms:>7.2f}")
    print()
    print(f"store trips per answer on the common path (a question in an existing thread): {common_trips:.2f}")
    print()
    print(f"target: the core's own CPU <= {TARGET_CPU_MS:.1f} ms per message (the scripted-LLM row)")
    print(f"target: <= {TARGET_TRIPS} store trips per answer on the common path")
    emit(
        "agent_turn",
        [
            Figure("core CPU per message", scripted.cpu_ms, "ms", at_most=TARGET_CPU_MS, note="scripted LLM"),
            Figure("CPU per message with the real SDK", with_sdk.cpu_ms, "ms"),
            Figure("latency p50", statistics.median(scripted.latencies) * 1000, "ms", note="scripted LLM"),
            Figure(
                "store trips per answer",
                common_trips,
                at_most=TARGET_TRIPS,
                note="a question in an existing thread",
            ),
            Figure("store trips per message, whole run", scripted.trips_per_message, note="tools, folds"),
        ],
    )


if __name__ == "__main__":
    main()
