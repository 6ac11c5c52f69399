"""Running eval cases through the whole bot: the inbound pipeline, the agent, its tools and their
authorization, on a fresh app (and so a fresh store) per case, built by the caller (`bot/run/eval_cli.py`).

Each turn goes through `SupportService.handle` as a front end sends it; the toolbox's observers note the
tools it used, the store says whether the thread was escalated.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.agent.events import Completed
from bot.agent.toolbox import ToolCallSeen
from bot.eval.cases import LoadedCase
from bot.eval.checks import check_case
from bot.inbound import Budgets, Inbound
from bot.runtime import App
from bot.streaming.budget import EditBudget
from bot.streaming.protocol import Footer, MessageRef, ReplyLimits
from bot.types import Source, ThreadRef

AppFactory = Callable[[], AbstractAsyncContextManager[App]]
"""Opens a fresh app for one case and closes it afterwards."""
Judge = Callable[[LoadedCase, "CaseRun"], Awaitable[str | None]]
"""Grades a run by its case's rubric: None when it passes, else why not."""


@dataclass(frozen=True)
class ToolUse:
    name: str
    input: object
    outcome: str
    """The audit word: ok, denied, not_found, invalid_input, timeout, error."""

    def describe(self) -> str:
        if isinstance(self.input, dict) and self.input:
            args = ", ".join(f"{k}={v!r}" for k, v in self.input.items())
            return f"{self.name}({args})"
        return f"{self.name}()"


@dataclass(frozen=True)
class TurnResult:
    """One question and what became of it."""

    question: str
    status: str
    """answered, stepped_back (the thread is with a human), limited, or the failure's reason."""
    text: str
    sources: tuple[Source, ...]
    tools: tuple[ToolUse, ...]
    escalated: bool
    """The thread is escalated once this turn is answered."""
    fallback: bool
    cost_usd: float
    latency_ms: float


@dataclass
class CaseRun:
    """A case as it ran: its turns, or the error that stopped it."""

    turns: list[TurnResult] = field(default_factory=list)
    error: str | None = None

    @property
    def tools(self) -> list[ToolUse]:
        return [use for turn in self.turns for use in turn.tools]


@dataclass(frozen=True)
class CaseResult:
    name: str
    where: str
    """``file:line`` of the case."""
    passed: bool
    reasons: tuple[str, ...]
    cost_usd: float
    latency_ms: float
    run: CaseRun

    @property
    def tools(self) -> list[str]:
        return [use.name for use in self.run.tools]

    @property
    def answer(self) -> str:
        return self.run.turns[-1].text if self.run.turns else ""


class _CollectingStream:
    """A `ReplyStream` that keeps what it was sent; the service's outcome says what the reply settled on."""

    def __init__(self, limits: ReplyLimits) -> None:
        self._limits = limits
        self._count = 0
        self._prefix = f"bot-{uuid.uuid4().hex[:12]}"  # unique like a platform's message ids

    @property
    def limits(self) -> ReplyLimits:
        return self._limits

    async def post(self, text: str, footer: Footer | None = None) -> MessageRef:
        self._count += 1
        return f"{self._prefix}-{self._count}"

    async def edit(self, ref: MessageRef, text: str, footer: Footer | None = None) -> None:
        return None


def _budgets() -> Budgets:
    """Budgets that never hold an eval back: the platform's pacing is not what is measured."""
    return Budgets(edits=EditBudget(rate=1000.0, burst=1000), posts=EditBudget(rate=1000.0, burst=1000))


async def run_case(loaded: LoadedCase, open_app: AppFactory) -> CaseRun:
    """Every turn of the case, in one thread, as its asker; an exception ends the run with its error."""
    case = loaded.case
    run = CaseRun()
    try:
        async with open_app() as app:
            principal = case.principal()
            ref = ThreadRef(case.platform, "eval", f"eval-{case.name}"[:80], uuid.uuid4().hex)
            seen: list[ToolCallSeen] = []
            app.toolbox.observers.append(seen.append)
            facts = app.config.facts(case.platform)
            for number, turn in enumerate(case.turns, start=1):
                already = len(seen)
                message = Inbound(
                    ref=ref,
                    principal=principal,
                    text=turn.user,
                    message_id=f"user-{uuid.uuid4().hex[:12]}-{number}",
                    sent_at=datetime.now(UTC),
                )
                stream = _CollectingStream(ReplyLimits(facts.max_message_chars, 0.0))
                started = time.monotonic()
                handled = await app.service.handle(message, stream, _budgets())
                latency_ms = (time.monotonic() - started) * 1000
                outcome = handled.outcome
                end = outcome.end if outcome is not None else None
                status = str(handled.status)
                if outcome is not None and outcome.failed:
                    status = getattr(end, "reason", "failed") or "failed"
                run.turns.append(
                    TurnResult(
                        question=turn.user,
                        status=status,
                        text=outcome.text if outcome is not None else "",
                        sources=end.sources if isinstance(end, Completed) else (),
                        tools=tuple(
                            ToolUse(s.name, s.input, s.result.outcome)
                            for s in seen[already:]
                            if s.thread == ref
                        ),
                        escalated=await app.store.is_escalated(ref),
                        fallback=isinstance(end, Completed) and end.stop_reason == "fallback",
                        cost_usd=end.usage.cost_usd if end is not None else 0.0,
                        latency_ms=latency_ms,
                    )
                )
    except Exception as exc:  # one broken case must not end the suite: it fails with the error
        run.error = f"{type(exc).__name__}: {exc}"[:500]
    return run


async def run_suite(
    cases: Sequence[LoadedCase],
    open_app: AppFactory,
    *,
    concurrency: int = 4,
    judge: Judge | None = None,
    price_factor: float = 1.0,
) -> list[CaseResult]:
    """Run ``cases`` (``concurrency`` at a time), check them and, with a ``judge``, grade their rubrics.

    ``price_factor`` scales the costs (0.5 for the Message Batches API's half price). Results come back in
    the order of ``cases``."""
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(loaded: LoadedCase) -> CaseResult:
        async with gate:
            run = await run_case(loaded, open_app)
            reasons = check_case(loaded.case, run)
            if judge is not None and loaded.case.judge and run.error is None:
                verdict = await judge(loaded, run)
                if verdict is not None:
                    reasons.append(f"judge: {verdict}")
        return CaseResult(
            name=loaded.case.name,
            where=f"{loaded.path}:{loaded.line}",
            passed=not reasons,
            reasons=tuple(reasons),
            cost_usd=sum(turn.cost_usd for turn in run.turns) * price_factor,
            latency_ms=sum(turn.latency_ms for turn in run.turns),
            run=run,
        )

    return list(await asyncio.gather(*(one(loaded) for loaded in cases)))
