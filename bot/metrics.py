"""Metrics in the Prometheus text exposition format (version 0.0.4), served at ``GET /metrics``.

A registry of counters, gauges and histograms with labels, small enough to need no dependency. There is
no global registry: the composition root (``bot.run.app.build_app``) makes one ``BotMetrics`` and hands it to
the parts that record (the support service, the toolbox) and to the server that renders it.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.types import Usage

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
"""Seconds; from a fast first text to a long answer written slowly."""

LabelValues = tuple[str, ...]


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def _labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    pairs = [f'{name}="{_escape_label(value)}"' for name, value in zip(names, values, strict=True)]
    if extra:
        pairs.append(extra)
    return "{" + ",".join(pairs) + "}" if pairs else ""


class _Metric(ABC):
    """A named metric with fixed label names; subclasses say how its samples read."""

    kind = ""

    def __init__(self, name: str, help_text: str, labels: Sequence[str]) -> None:
        self.name = name
        self.help = help_text
        self.label_names = tuple(labels)

    def _key(self, labels: dict[str, str]) -> LabelValues:
        if set(labels) != set(self.label_names):
            raise ValueError(f"{self.name} takes the labels {self.label_names}, not {tuple(labels)}")
        return tuple(str(labels[name]) for name in self.label_names)

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {_escape_help(self.help)}", f"# TYPE {self.name} {self.kind}"]

    @abstractmethod
    def samples(self) -> list[str]: ...


class _Scalar(_Metric):
    """A value per label set (counters and gauges)."""

    def __init__(self, name: str, help_text: str, labels: Sequence[str]) -> None:
        super().__init__(name, help_text, labels)
        self._values: dict[LabelValues, float] = {}

    def value(self, **labels: str) -> float:
        return self._values.get(self._key(labels), 0.0)

    def samples(self) -> list[str]:
        return [
            f"{self.name}{_labels(self.label_names, key)} {_number(value)}"
            for key, value in sorted(self._values.items())
        ]


class Counter(_Scalar):
    kind = "counter"

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise ValueError(f"{self.name}: a counter only goes up")
        key = self._key(labels)
        self._values[key] = self._values.get(key, 0.0) + amount


class Gauge(_Scalar):
    kind = "gauge"

    def add(self, amount: float, **labels: str) -> None:
        key = self._key(labels)
        self._values[key] = self._values.get(key, 0.0) + amount


@dataclass
class _Series:
    counts: list[int]
    total: float = 0.0
    count: int = 0


class Histogram(_Metric):
    kind = "histogram"

    def __init__(self, name: str, help_text: str, labels: Sequence[str], buckets: Iterable[float]) -> None:
        super().__init__(name, help_text, labels)
        self.buckets = tuple(sorted(buckets))
        if not self.buckets:
            raise ValueError(f"{name}: a histogram needs buckets")
        self._series: dict[LabelValues, _Series] = {}

    def observe(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        series = self._series.setdefault(key, _Series([0] * len(self.buckets)))
        for index, bound in enumerate(self.buckets):
            if value <= bound:
                series.counts[index] += 1
        series.total += value
        series.count += 1

    def count(self, **labels: str) -> int:
        series = self._series.get(self._key(labels))
        return series.count if series else 0

    def samples(self) -> list[str]:
        lines: list[str] = []
        for key, series in sorted(self._series.items()):
            for bound, cumulative in zip(self.buckets, series.counts, strict=True):
                le = _labels(self.label_names, key, f'le="{_number(bound)}"')
                lines.append(f"{self.name}_bucket{le} {cumulative}")
            every = _labels(self.label_names, key, 'le="+Inf"')
            lines.append(f"{self.name}_bucket{every} {series.count}")
            lines.append(f"{self.name}_sum{_labels(self.label_names, key)} {_number(series.total)}")
            lines.append(f"{self.name}_count{_labels(self.label_names, key)} {series.count}")
        return lines


class Registry:
    """Metrics by name; :meth:`render` is the body of ``GET /metrics``."""

    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}

    def _add(self, metric: _Metric) -> None:
        if metric.name in self._metrics:
            raise ValueError(f"metric {metric.name} is registered twice")
        self._metrics[metric.name] = metric

    def counter(self, name: str, help_text: str, labels: Sequence[str] = ()) -> Counter:
        metric = Counter(name, help_text, labels)
        self._add(metric)
        return metric

    def gauge(self, name: str, help_text: str, labels: Sequence[str] = ()) -> Gauge:
        metric = Gauge(name, help_text, labels)
        self._add(metric)
        return metric

    def histogram(
        self,
        name: str,
        help_text: str,
        labels: Sequence[str] = (),
        buckets: Iterable[float] = LATENCY_BUCKETS,
    ) -> Histogram:
        metric = Histogram(name, help_text, labels, buckets)
        self._add(metric)
        return metric

    def render(self) -> str:
        lines: list[str] = []
        for metric in self._metrics.values():
            lines += metric.header() + metric.samples()
        return "\n".join(lines) + "\n"


class BotMetrics:
    """What the bot records, on one registry.

    Replies are counted by platform and outcome: ``answered``, ``fallback`` (answered without the model),
    ``failed`` (the user saw a notice), ``interrupted`` (cancelled at shutdown and settled),
    ``duplicate`` (a redelivered event), ``stepped_back`` (an escalated thread) and any other status the
    service reports (e.g. ``limited``).
    """

    def __init__(self) -> None:
        self.registry = Registry()
        r = self.registry
        self.replies = r.counter(
            "supportbot_replies_total",
            "Messages to the bot, by platform and outcome.",
            ("platform", "outcome"),
        )
        self.in_progress = r.gauge(
            "supportbot_replies_in_progress", "Replies being written now.", ("platform",)
        )
        self.first_text = r.histogram(
            "supportbot_reply_first_text_seconds",
            "Time from a message's arrival to the first visible text of its answer.",
            ("platform",),
        )
        self.final_text = r.histogram(
            "supportbot_reply_final_text_seconds",
            "Time from a message's arrival to the final text of its answer.",
            ("platform",),
        )
        self.edits = r.counter(
            "supportbot_reply_edits_total", "Message edits made while streaming answers.", ("platform",)
        )
        self.rate_limited = r.counter(
            "supportbot_platform_rate_limited_total",
            "429 answers from the platform to posts and edits.",
            ("platform",),
        )
        self.tool_calls = r.counter(
            "supportbot_tool_calls_total", "Tool calls, by tool and decision.", ("tool", "decision")
        )
        self.tokens = r.counter("supportbot_model_tokens_total", "Model tokens, by kind.", ("kind",))
        self.cost = r.counter("supportbot_model_cost_usd_total", "Model cost in US dollars.")

    def observe_render(
        self, platform: str, *, first_text: float | None, final_text: float, edits: int, rate_limited: int
    ) -> None:
        """One streamed reply: seconds from the message's arrival to its first and final text."""
        if first_text is not None:
            self.first_text.observe(first_text, platform=platform)
        self.final_text.observe(final_text, platform=platform)
        if edits:
            self.edits.inc(edits, platform=platform)
        if rate_limited:
            self.rate_limited.inc(rate_limited, platform=platform)

    def observe_tool_call(self, tool: str, allowed: bool) -> None:
        self.tool_calls.inc(tool=tool, decision="allowed" if allowed else "denied")

    def observe_usage(self, usage: Usage) -> None:
        for kind, tokens in (
            ("input", usage.input_tokens),
            ("output", usage.output_tokens),
            ("cache_read", usage.cache_read_tokens),
            ("cache_write", usage.cache_write_tokens),
        ):
            if tokens:
                self.tokens.inc(tokens, kind=kind)
        if usage.cost_usd:
            self.cost.inc(usage.cost_usd)

    def render(self) -> str:
        return self.registry.render()
