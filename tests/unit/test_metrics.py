"""The Prometheus text format of `bot.metrics` (exposition format 0.0.4)."""

from __future__ import annotations

import pytest

from bot.metrics import CONTENT_TYPE, BotMetrics, Registry
from bot.types import Usage


def test_counters_and_gauges_render_with_help_type_and_escaped_labels() -> None:
    registry = Registry()
    replies = registry.counter(
        "x_replies_total", "Replies.\nBy outcome \\ platform.", ("platform", "outcome")
    )
    busy = registry.gauge("x_busy", "Busy now.")
    replies.inc(platform="slack", outcome="answered")
    replies.inc(2, platform="slack", outcome="answered")
    replies.inc(0.5, platform='we"ird\\', outcome="new\nline")
    busy.add(1)
    busy.add(-1)
    assert registry.render() == (
        "# HELP x_replies_total Replies.\\nBy outcome \\\\ platform.\n"
        "# TYPE x_replies_total counter\n"
        'x_replies_total{platform="slack",outcome="answered"} 3\n'
        'x_replies_total{platform="we\\"ird\\\\",outcome="new\\nline"} 0.5\n'
        "# HELP x_busy Busy now.\n"
        "# TYPE x_busy gauge\n"
        "x_busy 0\n"
    )
    assert replies.value(platform="slack", outcome="answered") == 3
    assert CONTENT_TYPE == "text/plain; version=0.0.4; charset=utf-8"


def test_histograms_have_cumulative_buckets_sum_and_count() -> None:
    registry = Registry()
    seconds = registry.histogram("x_seconds", "Latency.", ("platform",), buckets=(0.5, 1, 2.5))
    for value in (0.2, 0.7, 0.9, 3.0):
        seconds.observe(value, platform="slack")
    assert registry.render().splitlines()[2:] == [
        'x_seconds_bucket{platform="slack",le="0.5"} 1',
        'x_seconds_bucket{platform="slack",le="1"} 3',
        'x_seconds_bucket{platform="slack",le="2.5"} 3',
        'x_seconds_bucket{platform="slack",le="+Inf"} 4',
        'x_seconds_sum{platform="slack"} 4.8',
        'x_seconds_count{platform="slack"} 4',
    ]
    assert seconds.count(platform="slack") == 4 and seconds.count(platform="discord") == 0


def test_mistakes_are_refused() -> None:
    registry = Registry()
    counter = registry.counter("x_total", "X.", ("tool",))
    with pytest.raises(ValueError, match="labels"):
        counter.inc(platform="slack")
    with pytest.raises(ValueError, match="only goes up"):
        counter.inc(-1, tool="t")
    with pytest.raises(ValueError, match="twice"):
        registry.counter("x_total", "Again.")


def test_bot_metrics_record_usage_tool_calls_and_renders() -> None:
    metrics = BotMetrics()
    metrics.observe_usage(Usage(1000, 200, 300, 0, 0.0123))
    metrics.observe_tool_call("lookup_order", True)
    metrics.observe_tool_call("lookup_order", False)
    metrics.observe_render("slack", first_text=0.4, final_text=2.0, edits=3, rate_limited=1)
    text = metrics.render()
    for sample in (
        'supportbot_model_tokens_total{kind="input"} 1000',
        'supportbot_model_tokens_total{kind="output"} 200',
        'supportbot_model_tokens_total{kind="cache_read"} 300',
        "supportbot_model_cost_usd_total 0.0123",
        'supportbot_tool_calls_total{tool="lookup_order",decision="allowed"} 1',
        'supportbot_tool_calls_total{tool="lookup_order",decision="denied"} 1',
        'supportbot_reply_first_text_seconds_bucket{platform="slack",le="0.5"} 1',
        'supportbot_reply_final_text_seconds_count{platform="slack"} 1',
        'supportbot_reply_edits_total{platform="slack"} 3',
        'supportbot_platform_rate_limited_total{platform="slack"} 1',
    ):
        assert sample in text.splitlines(), sample
    assert 'kind="cache_write"' not in text  # no zero series for what never happened
