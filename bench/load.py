"""Load benchmark: hundreds of conversations on Slack and Discord at once, for a fixed time.

    python bench/load.py [--conversations 500] [--seconds 60] [--workspaces 20] [--think 60]

One bot process runs the real front ends (slack-bolt over HTTP with slack_sdk; discord.py over the fake
gateway and REST), the real core and SQLite store, and the real anthropic SDK. The fakes run in processes
of their own, so the bot's memory is measured alone: the fake Slack Web API (with the conversations' users
driving it), the fake Discord REST API and gateway (likewise), and the fake Anthropic API, which streams
each answer at a model's pace (``--tps`` tokens a second after a time to first token of ``--ttft``).
Every fake enforces the platforms' real limits by default: Slack's ``chat.update`` about 50 a minute per
workspace and ``chat.postMessage`` about one a second per channel; Discord's 5 posts and 5 edits per 5 s
per channel (a thread is a channel) and 50 requests a second in all.

The load: ``--conversations`` threads, half on Slack (spread over ``--workspaces`` workspaces of one
org-wide install, a few channels each) and half on Discord (threads opened from mentions in a few
channels of one guild). Each conversation asks a question, waits for the final answer, thinks for
``--think`` seconds give or take half, and asks a follow-up in the same thread, for the whole run. The
conversations start at ``--start-rate`` a second (the ramp); the measured period of ``--seconds`` begins
when every conversation has asked (so all hold history); then no new question is asked and the answers
in flight get ``--drain`` seconds to finish. The offered load is printed first, next to the limits.

Prints figures only, each next to its target; nothing here asserts. Ends with a ``RESULT {json}`` line.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import multiprocessing
import random
import re
import sys
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    PLACEHOLDER,
    ROOT,
    ModelPace,
    TimedLLM,
    bench_settings,
    clear_env,
    model_process,
    percentile,
    show,
)
from bench.report import Figure, emit

MARKER = "▍"
FAILURE_HINT = "please ask again"
TARGET_LATENCY_MS = 1000.0
TARGET_PEAK_RSS_MB = 300.0
SLACK_UPDATES_PER_MINUTE = 50
DISCORD_GLOBAL_PER_SECOND = 50
CONVERSATIONS_PER_SLACK_CHANNEL = 4
CONVERSATIONS_PER_DISCORD_CHANNEL = 25
DAILY_TOKENS = 1_000_000_000


# ------------------------------------------------------------------------------------------------ plan


@dataclass(frozen=True)
class Plan:
    """Who talks where and when; the same in every process."""

    conversations: int
    slack: tuple[int, ...]
    """Indexes of the Slack conversations (the rest are on Discord)."""
    workspaces: int
    think: float
    start_rate: float
    seconds: float
    drain: float
    seed: int

    @property
    def ramp(self) -> float:
        return self.conversations / self.start_rate

    def start_offset(self, index: int) -> float:
        return index / self.start_rate

    def think_time(self, rng: random.Random) -> float:
        return rng.uniform(0.5 * self.think, 1.5 * self.think)


@dataclass(frozen=True)
class Schedule:
    t0: float
    ramp_end: float
    measure_end: float
    drain_end: float


@dataclass
class Question:
    qid: int
    platform: str
    conversation: int
    asked_at: float
    first_visible_at: float | None = None
    final_at: float | None = None
    failed: bool = False
    correct: bool = False
    extra_finals: int = 0
    messages: list[Any] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self) -> dict[str, Any]:
        return {
            "qid": self.qid,
            "platform": self.platform,
            "conversation": self.conversation,
            "asked_at": self.asked_at,
            "first_visible_at": self.first_visible_at,
            "final_at": self.final_at,
            "failed": self.failed,
            "correct": self.correct,
            "extra_finals": self.extra_finals,
        }


def question_id(conversation: int, turn: int) -> int:
    """A number unique to each question, which the fake model reads to pick its answer."""
    return conversation * 1000 + turn


def question_text(qid: int, turn: int) -> str:
    if turn == 0:
        return f"where is my parcel? #{qid}"
    return f"thanks! and what if it does not come by Friday? #{qid}"


class Conversations:
    """The people's side in one fake's process: asking, waiting, thinking, asking again."""

    def __init__(self, plan: Plan, platform: str, pace: ModelPace) -> None:
        self.plan = plan
        self.platform = platform
        self.pace = pace
        self.questions: list[Question] = []
        self.current: dict[int, Question] = {}
        self.stray = 0
        self.errors: list[str] = []

    async def run(self, indexes: list[int], schedule: Schedule, ask: Callable[..., Any]) -> None:
        await asyncio.gather(*(self._converse(i, schedule, ask) for i in indexes))

    async def _converse(self, index: int, schedule: Schedule, ask: Callable[..., Any]) -> None:
        rng = random.Random(self.plan.seed * 100_003 + index)
        await _sleep_until(schedule.t0 + self.plan.start_offset(index))
        turn = 0
        while time.monotonic() < schedule.measure_end:
            qid = question_id(index, turn)
            question = Question(qid, self.platform, index, time.monotonic())
            self.questions.append(question)
            self.current[index] = question
            try:
                await ask(index, turn, question_text(qid, turn))
            except Exception as exc:  # the figures show it; the conversation goes on
                self.errors.append(f"asking {qid}: {type(exc).__name__}: {exc}")
            remaining = schedule.drain_end - time.monotonic()
            try:
                await asyncio.wait_for(question.done.wait(), max(0.0, remaining))
            except TimeoutError:
                return  # lost: no final answer by the end of the drain
            turn += 1
            think_until = time.monotonic() + self.plan.think_time(rng)
            await _sleep_until(min(think_until, schedule.measure_end))  # no question after the period

    def shown(self, index: int, key: Any, text: str, *, final: bool, now: float) -> Question | None:
        """A bot post or edit in conversation ``index``'s thread showing ``text``; the question it answers."""
        question = self.current.get(index)
        if question is None:
            self.stray += 1
            return None
        if key not in question.messages:
            if question.final_at is not None:
                self.stray += 1  # a new message after the answer was complete
                return None
            question.messages.append(key)
        shown = text.strip()
        if question.first_visible_at is None and shown and shown != PLACEHOLDER:
            question.first_visible_at = now
        if final:
            if question.final_at is None:
                question.final_at = now
                question.done.set()
                return question
            question.extra_finals += 1
        elif FAILURE_HINT in shown and not shown.endswith(MARKER) and question.final_at is None:
            question.failed = True
            question.final_at = now
            question.done.set()
        return question

    def results(self) -> list[dict[str, Any]]:
        return [q.record() for q in self.questions]


async def _sleep_until(when: float) -> None:
    delay = when - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


# ------------------------------------------------------------------------------------------------ Slack side


def slack_side(plan: Plan, pace: ModelPace, conn: Connection) -> None:
    """The fake Slack and the Slack conversations, in a process of their own."""
    from fakes.slack import SIGNING_SECRET, FakeMessage, FakeSlack, mention

    from integrations.slack.mrkdwn import to_mrkdwn

    async def main() -> None:
        people = Conversations(plan, "slack", pace)
        async with FakeSlack(ts_start=None) as fake:
            indexes = list(plan.slack)
            teams = [fake.team_id] + [f"T{w:04d}LOAD" for w in range(1, plan.workspaces)]
            where: dict[int, tuple[str, str, str]] = {}  # conversation -> (team, channel, user)
            for w, team in enumerate(teams):
                members = indexes[w :: len(teams)]
                channels = [
                    fake.add_channel(name=f"help-{w}-{c}", team_id=team).id
                    for c in range(max(1, math.ceil(len(members) / CONVERSATIONS_PER_SLACK_CHANNEL)))
                ]
                for k, index in enumerate(members):
                    user = fake.add_user(name=f"user{index}", team_id=team)
                    where[index] = (team, channels[k % len(channels)], user.id)
            threads: dict[tuple[str, str], int] = {}  # (channel, thread ts) -> conversation
            thread_of: dict[int, str] = {}

            def listen(method: str, message: FakeMessage) -> None:
                if message.thread_ts is None:
                    people.stray += 1
                    return
                index = threads.get((message.channel, message.thread_ts))
                if index is None:
                    people.stray += 1
                    return
                blocks = message.blocks or []
                text = "\n".join(b["text"]["text"] for b in blocks if b.get("type") == "section")
                final = any(b.get("type") == "actions" for b in blocks)
                question = people.shown(index, message.ts, text, final=final, now=time.monotonic())
                if question is not None and final and question.extra_finals == 0:
                    channel = fake.channels[message.channel]
                    shown = "\n".join(
                        section
                        for ts in question.messages
                        for b in channel.messages[ts].blocks or ()
                        if b.get("type") == "section"
                        for section in [b["text"]["text"]]
                    )
                    question.correct = shown == to_mrkdwn(pace.answer(question.qid))

            fake.message_listeners.append(listen)
            conn.send(
                {"api_url": fake.api_url, "bot_token": fake.bot_token, "signing_secret": SIGNING_SECRET}
            )
            events_url = conn.recv()
            senders = {team: fake.event_sender(events_url, team_id=team) for team in teams}

            async def ask(index: int, turn: int, text: str) -> None:
                team, channel, user = where[index]
                if turn == 0:
                    post = fake.post_as_user(channel, user, f"{mention()} {text}")
                    thread_of[index] = post.ts
                    threads[(channel, post.ts)] = index
                else:
                    post = fake.post_as_user(channel, user, text, thread_of[index])
                events = [post.message_event] + ([post.app_mention_event] if post.app_mention_event else [])
                for event in events:
                    delivery = await senders[team].send_event(event)
                    if delivery.status != 200:
                        people.errors.append(f"event delivery answered {delivery.status}")

            schedule: Schedule = await asyncio.to_thread(conn.recv)
            await people.run(indexes, schedule, ask)
            await asyncio.sleep(1.0)  # a late duplicate would show by now
            left = sum(
                1
                for channel in fake.channels.values()
                for m in channel.messages.values()
                if m.is_from_bot and not m.deleted and _unsettled(m.visible_text)
            )
            per_team = Counter(
                (fake.channels[c.args.get("channel", "")].team_id or fake.team_id)
                for c in fake.calls("chat.update")
                if c.ok and c.args.get("channel") in fake.channels
            )
            conn.send(
                {
                    "questions": people.results(),
                    "rate_limited": fake.rate_limited_count,
                    "left_visible": left,
                    "stray": people.stray,
                    "errors": people.errors,
                    "updates": len(fake.calls("chat.update")),
                    "posts": len(fake.calls("chat.postMessage")),
                    "busiest_workspace_updates": max(per_team.values(), default=0),
                }
            )
            await asyncio.to_thread(conn.recv)  # the bot has stopped: the fake may go

    asyncio.run(main())


def _unsettled(text: str) -> bool:
    shown = text.strip()
    return shown == PLACEHOLDER or shown.endswith(MARKER)


# ---------------------------------------------------------------------------------------------- Discord side


def discord_side(plan: Plan, pace: ModelPace, conn: Connection) -> None:
    """The fake Discord and the Discord conversations, in a process of their own."""
    from fakes.discord import FakeDiscord, FakeMessage

    async def main() -> None:
        people = Conversations(plan, "discord", pace)
        indexes = [i for i in range(plan.conversations) if i not in set(plan.slack)]
        async with FakeDiscord() as fake:
            channels = [
                fake.add_text_channel(fake.guild, f"support-{c}")
                for c in range(max(1, math.ceil(len(indexes) / CONVERSATIONS_PER_DISCORD_CHANNEL)))
            ]
            members = {index: fake.add_member(fake.guild, f"user{index}") for index in indexes}
            parent = {index: channels[k % len(channels)] for k, index in enumerate(indexes)}
            threads: dict[int, int] = {}  # thread (channel) id -> conversation
            thread_of: dict[int, int] = {}  # conversation -> thread id

            def listen(kind: str, message: FakeMessage) -> None:
                if message.author.id != fake.bot_user.id or message.ephemeral:
                    return
                index = threads.get(message.channel_id)
                if index is None:
                    people.stray += 1
                    return
                final = bool(message.components)
                question = people.shown(index, message.id, message.content, final=final, now=time.monotonic())
                if question is not None and final and question.extra_finals == 0:
                    shown = "\n".join(fake.message(m).content for m in question.messages)
                    question.correct = shown == pace.answer(question.qid)

            fake.message_listeners.append(listen)
            conn.send({"token": fake.token, "api_base": fake.api_base, "gateway_url": fake.gateway_url})

            async def ask(index: int, turn: int, text: str) -> None:
                if turn == 0:
                    payload = fake.user_message(
                        parent[index], members[index], f"{fake.bot_user.mention} {text}"
                    )
                    thread_of[index] = int(payload["id"])  # the bot opens the thread on this message
                    threads[thread_of[index]] = index
                else:
                    payload = fake.user_message(thread_of[index], members[index], text)
                await fake.dispatch("MESSAGE_CREATE", payload)

            schedule: Schedule = await asyncio.to_thread(conn.recv)
            await people.run(indexes, schedule, ask)
            await asyncio.sleep(1.0)
            left = sum(1 for m in fake.bot_messages() if not m.ephemeral and _unsettled(m.content))
            conn.send(
                {
                    "questions": people.results(),
                    "rate_limited": fake.rate_limited_count,
                    "global_429s": sum(1 for hit in fake.rate_limit_hits if hit.scope == "global"),
                    "left_visible": left,
                    "stray": people.stray,
                    "errors": people.errors,
                    "requests": len(fake.calls()),
                    "channels": len(channels),
                }
            )
            await asyncio.to_thread(conn.recv)  # the bot has stopped: the fake may go

    asyncio.run(main())


# ------------------------------------------------------------------------------------------------ the bot


class ErrorCount(logging.Handler):
    """Counts the records logged at ERROR and above, keeping the first few."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.first: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if len(self.first) < 5:
            self.first.append(f"{record.name}: {record.getMessage()}"[:300])


def rss_mb() -> tuple[float, float]:
    """(resident set size now, its peak so far) of this process in MB, from ``/proc/self/status``."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, amount, _unit = line.split()
            values[key] = int(amount) / 1024
    return values.get("VmRSS:", math.nan), values.get("VmHWM:", math.nan)


def bench_config(workdir: Path) -> Path:
    """The repository's bot.toml, with a daily token budget per space no run of this length reaches.

    The budget is the operator's own limit (one guild carries half the load here), not a platform's; every
    platform fact stays as configured.
    """
    text = (ROOT / "config" / "bot.toml").read_text(encoding="utf-8")
    text, count = re.subn(
        r"(?m)^daily_tokens_per_space = .*$", f"daily_tokens_per_space = {DAILY_TOKENS}", text
    )
    if count != 1 or tomllib.loads(text)["limits"]["daily_tokens_per_space"] != DAILY_TOKENS:
        raise SystemExit("config/bot.toml: no [limits] daily_tokens_per_space to raise for the benchmark")
    path = workdir / "bot.toml"
    path.write_text(text, encoding="utf-8")
    return path


async def run_bot(
    args: argparse.Namespace,
    plan: Plan,
    model_url: str,
    slack: Connection,
    discord_conn: Connection,
    workdir: Path,
    errors: ErrorCount,
) -> dict[str, Any]:
    from bot.agent.llm import AnthropicLLM
    from bot.metrics import OUTCOMES
    from bot.run.app import build_app
    from bot.runtime import freeze_startup_heap
    from integrations.discord.app import DiscordCredentials, DiscordFrontEnd
    from integrations.slack.app import SlackFrontEnd
    from integrations.slack.server import SlackHttpServer

    clear_env("ANTHROPIC_", "SLACK_", "DISCORD_", "DATABASE_", "REDIS_")
    slack_info = await asyncio.to_thread(slack.recv)
    discord_info = await asyncio.to_thread(discord_conn.recv)
    settings = bench_settings(
        workdir,
        model_url,
        bot_config_path=bench_config(workdir),
        slack_api_url=slack_info["api_url"],
        discord_token=discord_info["token"],
        discord_api_url=discord_info["api_base"],
        discord_gateway_url=discord_info["gateway_url"],
    )
    first_token: dict[int, float] = {}
    llm = TimedLLM(AnthropicLLM.from_key("bench", base_url=model_url, max_retries=0, timeout=60), first_token)
    core = await build_app(settings, llm=llm)
    slack_front = await SlackFrontEnd.start(
        core, bot_token=slack_info["bot_token"], signing_secret=slack_info["signing_secret"]
    )
    server = SlackHttpServer(slack_front, "127.0.0.1", 0)
    discord_front = DiscordFrontEnd(core, DiscordCredentials.from_settings(settings), guild_ready_timeout=0.1)
    try:
        slack.send(f"{await server.start()}/slack/events")
        await discord_front.start()
        await asyncio.sleep(1.0)
        freeze_startup_heap()  # as supportbot serve does once it serves
        baseline, _ = rss_mb()
        now = time.monotonic()
        t0 = now + 1.0
        schedule = Schedule(
            t0, t0 + plan.ramp, t0 + plan.ramp + plan.seconds, t0 + plan.ramp + plan.seconds + plan.drain
        )
        slack.send(schedule)
        discord_conn.send(schedule)
        samples: list[float] = []
        active_rss = math.nan

        async def sample() -> None:
            nonlocal active_rss
            while True:
                current, _ = rss_mb()
                samples.append(current)
                if time.monotonic() >= schedule.measure_end and math.isnan(active_rss):
                    active_rss = current
                await asyncio.sleep(0.5)

        sampler = asyncio.create_task(sample())
        progress = asyncio.create_task(_progress(schedule, first_token))
        slack_result, discord_result = await asyncio.gather(
            asyncio.to_thread(slack.recv), asyncio.to_thread(discord_conn.recv)
        )
        sampler.cancel()
        progress.cancel()
        _, peak = rss_mb()
        metrics = core.metrics
        assert metrics is not None
        outcomes = {
            platform: {
                outcome: count
                for outcome in OUTCOMES
                if (count := metrics.value("supportbot_replies_total", platform=platform, outcome=outcome))
            }
            for platform in ("slack", "discord")
        }
        return {
            "schedule": schedule,
            "first_token": first_token,
            "slack": slack_result,
            "discord": discord_result,
            "rss_baseline": baseline,
            "rss_active": active_rss if not math.isnan(active_rss) else max(samples, default=math.nan),
            "rss_peak": max(peak, max(samples, default=0.0)),
            "outcomes": outcomes,
            "bot_429s": {
                p: metrics.value("supportbot_platform_rate_limited_total", platform=p)
                for p in ("slack", "discord")
            },
        }
    finally:
        logging.getLogger().removeHandler(errors)  # what the teardown logs is not the load's
        await server.stop()
        await slack_front.close()
        await discord_front.stop()
        await core.close()
        for side in (slack, discord_conn):
            side.send("stop")


async def _progress(schedule: Schedule, first_token: dict[int, float]) -> None:
    """A line every 15 s, so a long run shows it is alive."""
    while True:
        await asyncio.sleep(15)
        now = time.monotonic()
        phase = (
            "ramp" if now < schedule.ramp_end else "measuring" if now < schedule.measure_end else "draining"
        )
        print(f"  … {now - schedule.t0:5.0f} s, {phase}, {len(first_token)} answers started", flush=True)


# ------------------------------------------------------------------------------------------------ report


def report(
    args: argparse.Namespace, plan: Plan, pace: ModelPace, result: dict[str, Any], errors: ErrorCount
) -> None:
    schedule: Schedule = result["schedule"]
    first_token: dict[int, float] = result["first_token"]
    by_platform = {p: [dict(q) for q in result[p]["questions"]] for p in ("slack", "discord")}
    everything = by_platform["slack"] + by_platform["discord"]

    def in_window(q: dict[str, Any]) -> bool:
        return (
            q["final_at"] is not None
            and not q["failed"]
            and schedule.ramp_end <= q["final_at"] < schedule.measure_end
        )

    def asked_in_window(q: dict[str, Any]) -> bool:
        return schedule.ramp_end <= q["asked_at"] < schedule.measure_end

    print()
    print("measured:")
    rates = {p: sum(1 for q in qs if in_window(q)) / plan.seconds for p, qs in by_platform.items()}
    overall_rate = sum(rates.values())
    show(
        "replies per second",
        f"{overall_rate:.2f}  (Slack {rates['slack']:.2f}, Discord {rates['discord']:.2f}; "
        f"in the measured {plan.seconds:g} s)",
    )
    asked = {p: sum(1 for q in qs if asked_in_window(q)) / plan.seconds for p, qs in by_platform.items()}
    show(
        "questions asked per second",
        f"Slack {asked['slack']:.2f}, Discord {asked['discord']:.2f} (measured period)",
    )
    completed = [q for q in everything if q["final_at"] is not None and not q["failed"]]
    show(
        "questions asked",
        f"{len(everything)}  (Slack {len(by_platform['slack'])}, "
        f"Discord {len(by_platform['discord'])}; whole run)",
    )
    show("answers completed", f"{len(completed)}")
    correct = sum(1 for q in completed if q["correct"])
    show("final text equal to the answer", f"{correct} of {len(completed)}  (target all)")
    lost = sum(1 for q in everything if q["final_at"] is None)
    show("lost answers", f"{lost}  (target 0; no final answer {plan.drain:g} s after the last question)")
    duplicates = (
        sum(q["extra_finals"] for q in everything) + result["slack"]["stray"] + result["discord"]["stray"]
    )
    show("duplicate answers", f"{duplicates}  (target 0; second final answers and unexpected bot messages)")
    left = result["slack"]["left_visible"] + result["discord"]["left_visible"]
    show("placeholders/markers left visible", f"{left}  (target 0)")
    slack_429 = result["slack"]["rate_limited"]
    discord_429 = result["discord"]["rate_limited"]
    show(
        "429s seen by the bot",
        f"Slack {slack_429}, Discord {discord_429}  "
        f"(target 0 each; Discord global {result['discord']['global_429s']})",
    )
    failed = sum(1 for q in everything if q["failed"])
    outcome_failed = sum(o.get("failed", 0) for o in result["outcomes"].values())
    driver_errors = result["slack"]["errors"] + result["discord"]["errors"]
    error_total = failed + errors.count + len(driver_errors)
    show(
        "errors",
        f"{error_total}  (target 0: {failed} failed replies, {errors.count} logged at ERROR, "
        f"{len(driver_errors)} deliveries)",
    )
    for line in errors.first + driver_errors[:5]:
        print(f"    {line}")
    show(
        "reply outcomes (bot metrics)",
        "; ".join(
            f"{p} " + ", ".join(f"{k} {v:g}" for k, v in sorted(o.items()))
            for p, o in result["outcomes"].items()
        )
        + f"  (failed {outcome_failed:g})",
    )

    latencies: dict[str, list[float]] = {"slack": [], "discord": []}
    for platform, qs in by_platform.items():
        for q in qs:
            start = first_token.get(q["qid"])
            if start is not None and q["first_visible_at"] is not None:
                latencies[platform].append((q["first_visible_at"] - start) * 1000)
    every = latencies["slack"] + latencies["discord"]
    p50 = percentile(every, 0.5) if every else math.nan
    p99 = percentile(every, 0.99) if every else math.nan
    detail = ", ".join(
        f"{p} p50 {percentile(v, 0.5):.0f} / p99 {percentile(v, 0.99):.0f}" for p, v in latencies.items() if v
    )
    show(
        "first token -> first visible text",
        f"p50 {p50:.0f} ms, p99 {p99:.0f} ms  "
        f"(target p99 <= {TARGET_LATENCY_MS:.0f} ms; {detail}; {len(every)} answers)",
    )
    baseline, active, peak = result["rss_baseline"], result["rss_active"], result["rss_peak"]
    per_conversation = (active - baseline) * 1024 / plan.conversations
    for platform, qs in by_platform.items():
        split: dict[str, list[float]] = {"first questions": [], "follow-ups": []}
        for q in qs:
            start = first_token.get(q["qid"])
            if start is not None and q["first_visible_at"] is not None:
                kind = "first questions" if q["qid"] % 1000 == 0 else "follow-ups"
                split[kind].append((q["first_visible_at"] - start) * 1000)
        show(
            f"  {platform}",
            ", ".join(
                f"{kind} p50 {percentile(v, 0.5):.0f} / p99 {percentile(v, 0.99):.0f} ms ({len(v)})"
                for kind, v in split.items()
                if v
            ),
        )
    show(
        "bot peak RSS",
        f"{peak:.0f} MB  (target < {TARGET_PEAK_RSS_MB:.0f} MB; before the first question {baseline:.0f} MB)",
    )
    show(
        "memory per active conversation",
        f"{per_conversation:.0f} KB  ((RSS with {plan.conversations} active {active:.0f} MB "
        f"- {baseline:.0f} MB) / {plan.conversations})",
    )
    busiest = result["slack"]["busiest_workspace_updates"]
    show(
        "platform calls",
        f"Slack {result['slack']['posts']} posts, {result['slack']['updates']} updates "
        f"(busiest workspace {busiest}); Discord {result['discord']['requests']} requests",
    )

    figures = [
        Figure("replies per second", overall_rate, "/s"),
        Figure("replies per second, Slack", rates["slack"], "/s"),
        Figure("replies per second, Discord", rates["discord"], "/s"),
        Figure("questions asked", len(everything)),
        Figure("answers completed", len(completed)),
        Figure("final text equal to the answer", correct, at_least=len(completed)),
        Figure("lost answers", lost, at_most=0),
        Figure("duplicate answers", duplicates, at_most=0),
        Figure("placeholders/markers left visible", left, at_most=0),
        Figure("Slack 429s", slack_429, at_most=0),
        Figure("Discord 429s", discord_429, at_most=0),
        Figure("errors", error_total, at_most=0, note=f"{failed} failed replies, {errors.count} ERROR logs"),
        Figure("first token -> first visible text p50", p50, "ms"),
        Figure("first token -> first visible text p99", p99, "ms", at_most=TARGET_LATENCY_MS),
        Figure("bot peak RSS", peak, "MB", at_most=TARGET_PEAK_RSS_MB),
        Figure("bot RSS before the first question", baseline, "MB"),
        Figure("memory per active conversation", per_conversation, "KB"),
    ]
    emit("load", figures)


def print_offered(args: argparse.Namespace, plan: Plan, pace: ModelPace) -> None:
    slack_n = len(plan.slack)
    discord_n = plan.conversations - slack_n
    answer_seconds = pace.ttft + pace.chars / (pace.tps * 4)
    cycle = plan.think + answer_seconds
    per_workspace = slack_n / plan.workspaces
    slack_channels = plan.workspaces * max(1, math.ceil(per_workspace / CONVERSATIONS_PER_SLACK_CHANNEL))
    discord_channels = max(1, math.ceil(discord_n / CONVERSATIONS_PER_DISCORD_CHANNEL))
    ws_per_minute = per_workspace / cycle * 60
    streaming_edits = max(0.0, answer_seconds - pace.ttft)  # about one Discord edit a second while streaming
    discord_requests = discord_n / cycle * (2 + streaming_edits)
    print("offered load:")
    show("conversations", f"{plan.conversations}: Slack {slack_n}, Discord {discord_n}")
    show("model", f"{pace.describe()} (about {answer_seconds:.1f} s an answer)")
    show(
        "think time",
        f"{plan.think * 0.5:g}-{plan.think * 1.5:g} s "
        f"(mean {plan.think:g} s; a question every {cycle:.0f} s per conversation)",
    )
    show(
        "ramp, measured, drain",
        f"{plan.ramp:.0f} s (conversations start at {plan.start_rate:g}/s), {plan.seconds:g} s, "
        f"up to {plan.drain:g} s",
    )
    show(
        "Slack",
        f"{slack_n / cycle:.2f} questions/s in {plan.workspaces} workspaces of one org-wide install, "
        f"{slack_channels} channels",
    )
    show(
        "  per workspace",
        f"{per_workspace:.1f} conversations, {ws_per_minute:.1f} questions/min: "
        f"~{2 * ws_per_minute:.0f} first+final chat.update/min of the {SLACK_UPDATES_PER_MINUTE}/min limit",
    )
    show(
        "  per channel",
        f"about {CONVERSATIONS_PER_SLACK_CHANNEL} conversations (chat.postMessage ~1/s per channel)",
    )
    show(
        "Discord",
        f"{discord_n / cycle:.2f} questions/s in {discord_channels} channels of one guild (a thread each)",
    )
    show(
        "  requests",
        f"~{discord_requests:.0f}/s of the global {DISCORD_GLOBAL_PER_SECOND}/s "
        "(post + ~1 edit/s + final per answer), 5/5 s per thread",
    )
    print(flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=60.0, help="the measured period")
    parser.add_argument("--workspaces", type=int, default=20, help="Slack workspaces of the install")
    parser.add_argument("--slack-share", type=float, default=0.5, help="share of the conversations on Slack")
    parser.add_argument("--think", type=float, default=60.0, help="mean think time between questions (s)")
    parser.add_argument("--start-rate", type=float, default=8.0, help="conversations started a second")
    parser.add_argument("--drain", type=float, default=30.0, help="seconds for the answers in flight")
    parser.add_argument("--chars", type=int, default=900, help="mean answer length in characters")
    parser.add_argument("--chars-spread", type=int, default=300)
    parser.add_argument("--tps", type=float, default=60.0, help="model tokens a second (4 characters each)")
    parser.add_argument("--delta-chars", type=int, default=12, help="characters per streamed text delta")
    parser.add_argument("--ttft", type=float, default=0.8, help="mean time to the first token (s)")
    parser.add_argument("--ttft-spread", type=float, default=0.4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    slack_count = round(args.conversations * args.slack_share)
    step = args.conversations / slack_count if slack_count else math.inf
    slack = tuple(sorted({min(args.conversations - 1, int(k * step)) for k in range(slack_count)}))
    plan = Plan(
        conversations=args.conversations,
        slack=slack,
        workspaces=max(1, min(args.workspaces, len(slack) or 1)),
        think=args.think,
        start_rate=args.start_rate,
        seconds=args.seconds,
        drain=args.drain,
        seed=args.seed,
    )
    pace = ModelPace(
        chars=args.chars,
        tps=args.tps,
        delta_chars=args.delta_chars,
        ttft=args.ttft,
        chars_spread=args.chars_spread,
        ttft_spread=args.ttft_spread,
    )
    print_offered(args, plan, pace)

    errors = ErrorCount()
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().addHandler(errors)

    slack_ours, slack_theirs = multiprocessing.Pipe()
    discord_ours, discord_theirs = multiprocessing.Pipe()
    with model_process(pace) as model_url, tempfile.TemporaryDirectory() as workdir:
        sides = [
            multiprocessing.Process(
                target=slack_side, args=(plan, pace, slack_theirs), daemon=True, name="slack"
            ),
            multiprocessing.Process(
                target=discord_side, args=(plan, pace, discord_theirs), daemon=True, name="discord"
            ),
        ]
        for side in sides:
            side.start()
        try:
            result = asyncio.run(
                run_bot(args, plan, model_url, slack_ours, discord_ours, Path(workdir), errors)
            )
        finally:
            for side in sides:
                side.terminate()
                side.join()
    report(args, plan, pace, result, errors)


if __name__ == "__main__":
    main()
