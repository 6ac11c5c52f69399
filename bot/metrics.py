"""The bot's Prometheus metrics, served at ``GET /metrics`` by ``bot.run.serve``.

Built on ``prometheus_client`` with a registry of the bot's own, never the library's global one: the
composition root (``bot.run.app.build_app``) makes one ``BotMetrics`` and hands it to the parts that record
(the support service, the toolbox) and to the server that renders it. Besides the bot's series the registry
holds the process's (CPU, memory, open files: ``process_*``), the Python build (``python_info``) and the
bot's version (``supportbot_build_info{version=...}``).

Labelled series exist from the start at zero for the platforms, outcomes, token kinds, tools and hand-off
targets the bot knows, so a dashboard shows 0 rather than nothing before the first message.

``prometheus_client`` is imported when a ``BotMetrics`` is made, not with this module: the terminal
commands record no metrics and do not load it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from bot.types import Usage
from bot.version import supportbot_version

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

    from bot.store import HandoffBacklog

LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
"""Seconds; from a fast first text to a long answer written slowly."""

OUTCOMES = ("answered", "fallback", "failed", "interrupted", "duplicate", "stepped_back", "limited")
"""What becomes of a message to the bot (``supportbot_replies_total``'s ``outcome``)."""

TOKEN_KINDS = ("input", "output", "cache_read", "cache_write")
DECISIONS = ("allowed", "denied")


class BotMetrics:
    """What the bot records, on one registry of its own.

    Replies are counted by platform and outcome: ``answered``, ``fallback`` (answered without the model),
    ``failed`` (the user saw a notice), ``interrupted`` (cancelled at shutdown and settled),
    ``duplicate`` (a redelivered event), ``stepped_back`` (an escalated thread) and ``limited`` (a limit
    notice instead of an answer). ``platforms`` and ``tools`` name the series made at zero up front.

    The helpdesk outbox (``bot.handoff``) is measured by target: what waits there and how long the oldest
    has waited, as of the outbox worker's last pass, and the failed delivery attempts (each is tried again;
    the outbox never gives one up).
    """

    def __init__(
        self, *, platforms: Iterable[str] = (), tools: Iterable[str] = (), version: str | None = None
    ) -> None:
        from prometheus_client import (
            CollectorRegistry,
            Counter,
            Gauge,
            Histogram,
            Info,
            PlatformCollector,
            ProcessCollector,
            disable_created_metrics,
        )

        # No ``*_created`` series beside each counter: a timestamp per series that no dashboard reads.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry: CollectorRegistry = CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        Info("supportbot_build", "The running supportbot's version.", registry=r).info(
            {"version": version or supportbot_version()}
        )
        self.replies: Counter = Counter(
            "supportbot_replies_total",
            "Messages to the bot, by platform and outcome.",
            ("platform", "outcome"),
            registry=r,
        )
        self.in_progress: Gauge = Gauge(
            "supportbot_replies_in_progress", "Replies being written now.", ("platform",), registry=r
        )
        self.first_text: Histogram = Histogram(
            "supportbot_reply_first_text_seconds",
            "Time from a message's arrival to the first visible text of its answer.",
            ("platform",),
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.final_text: Histogram = Histogram(
            "supportbot_reply_final_text_seconds",
            "Time from a message's arrival to the final text of its answer.",
            ("platform",),
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.edits: Counter = Counter(
            "supportbot_reply_edits_total",
            "Message edits made while streaming answers.",
            ("platform",),
            registry=r,
        )
        self.rate_limited: Counter = Counter(
            "supportbot_platform_rate_limited_total",
            "429 answers from the platform to posts and edits.",
            ("platform",),
            registry=r,
        )
        self.tool_calls: Counter = Counter(
            "supportbot_tool_calls_total",
            "Tool calls, by tool and decision.",
            ("tool", "decision"),
            registry=r,
        )
        self.tokens: Counter = Counter(
            "supportbot_model_tokens_total", "Model tokens, by kind.", ("kind",), registry=r
        )
        self.cost: Counter = Counter(
            "supportbot_model_cost_usd_total", "Model cost in US dollars.", registry=r
        )
        self.handoff_pending: Gauge = Gauge(
            "supportbot_handoff_pending",
            "Escalations in the outbox not yet delivered to a helpdesk target.",
            ("target",),
            registry=r,
        )
        self.handoff_oldest: Gauge = Gauge(
            "supportbot_handoff_oldest_pending_seconds",
            "How long the oldest escalation not yet delivered to a helpdesk target has waited (0: none).",
            ("target",),
            registry=r,
        )
        self.handoff_failures: Counter = Counter(
            "supportbot_handoff_failures_total",
            "Failed attempts to deliver an escalation to a helpdesk target (each is tried again).",
            ("target",),
            registry=r,
        )
        self._handoff_targets: set[str] = set()
        for platform in platforms:
            self.add_platform(platform)
        for tool in tools:
            self.add_tool(tool)
        for kind in TOKEN_KINDS:
            self.tokens.labels(kind=kind)

    def add_platform(self, platform: str) -> None:
        """Make ``platform``'s series, at zero until something happens there."""
        for outcome in OUTCOMES:
            self.replies.labels(platform=platform, outcome=outcome)
        for metric in (self.in_progress, self.first_text, self.final_text, self.edits, self.rate_limited):
            metric.labels(platform=platform)

    def add_tool(self, tool: str) -> None:
        """Make ``tool``'s series, at zero until it is called."""
        for decision in DECISIONS:
            self.tool_calls.labels(tool=tool, decision=decision)

    def add_handoff_target(self, target: str) -> None:
        """Make the hand-off ``target``'s series, at zero until something waits for it."""
        self._handoff_targets.add(target)
        for metric in (self.handoff_pending, self.handoff_oldest, self.handoff_failures):
            metric.labels(target=target)

    def observe_handoff_backlog(self, backlog: Iterable[HandoffBacklog], now: datetime) -> None:
        """The outbox as one pass of its worker found it; a target absent from ``backlog`` waits for
        nothing. A target that is not configured any more but still has rows gets its series too."""
        waiting = {item.target: item for item in backlog}
        for target in waiting.keys() - self._handoff_targets:
            self.add_handoff_target(target)
        for target in self._handoff_targets:
            item = waiting.get(target)
            self.handoff_pending.labels(target=target).set(item.pending if item else 0)
            age = (now - item.oldest_at).total_seconds() if item else 0.0
            self.handoff_oldest.labels(target=target).set(max(age, 0.0))

    def count_handoff_failure(self, target: str) -> None:
        self.handoff_failures.labels(target=target).inc()

    def reply_started(self, platform: str) -> None:
        self.in_progress.labels(platform=platform).inc()

    def reply_finished(self, platform: str) -> None:
        self.in_progress.labels(platform=platform).dec()

    def count_reply(self, platform: str, outcome: str) -> None:
        """A message handled, whatever became of it (one of :data:`OUTCOMES`)."""
        self.replies.labels(platform=platform, outcome=outcome).inc()

    def observe_render(
        self, platform: str, *, first_text: float | None, final_text: float, edits: int, rate_limited: int
    ) -> None:
        """One streamed reply: seconds from the message's arrival to its first and final text."""
        if first_text is not None:
            self.first_text.labels(platform=platform).observe(first_text)
        self.final_text.labels(platform=platform).observe(final_text)
        if edits:
            self.edits.labels(platform=platform).inc(edits)
        if rate_limited:
            self.rate_limited.labels(platform=platform).inc(rate_limited)

    def observe_tool_call(self, tool: str, allowed: bool) -> None:
        self.tool_calls.labels(tool=tool, decision="allowed" if allowed else "denied").inc()

    def observe_usage(self, usage: Usage) -> None:
        for kind, tokens in zip(
            TOKEN_KINDS,
            (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens, usage.cache_write_tokens),
            strict=True,
        ):
            if tokens:
                self.tokens.labels(kind=kind).inc(tokens)
        if usage.cost_usd:
            self.cost.inc(usage.cost_usd)

    def value(self, name: str, **labels: str) -> float:
        """The current value of one sample as ``/metrics`` shows it (0 when there is no such sample)."""
        return self.registry.get_sample_value(name, labels) or 0.0

    @property
    def content_type(self) -> str:
        """The media type of :meth:`render`'s body."""
        from prometheus_client import CONTENT_TYPE_LATEST

        return str(CONTENT_TYPE_LATEST)

    def render(self) -> bytes:
        """The body of ``GET /metrics``: the registry in the Prometheus text format."""
        from prometheus_client import generate_latest

        return generate_latest(self.registry)
