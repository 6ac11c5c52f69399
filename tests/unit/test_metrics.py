"""What `bot.metrics` exposes: the bot's series under their names, zero from the start for what the bot
knows, the process's and the build's series, the helpdesk outbox's backlog, in the Prometheus text format."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.metrics import OUTCOMES, BotMetrics
from bot.store import HandoffBacklog
from bot.types import Usage
from tests.scrape import samples, types, value

ROOT = Path(__file__).resolve().parents[2]

NAMES = {
    "supportbot_replies_total": "counter",
    "supportbot_replies_in_progress": "gauge",
    "supportbot_reply_first_text_seconds": "histogram",
    "supportbot_reply_final_text_seconds": "histogram",
    "supportbot_reply_edits_total": "counter",
    "supportbot_platform_rate_limited_total": "counter",
    "supportbot_tool_calls_total": "counter",
    "supportbot_model_tokens_total": "counter",
    "supportbot_model_cost_usd_total": "counter",
    "supportbot_handoff_pending": "gauge",
    "supportbot_handoff_oldest_pending_seconds": "gauge",
    "supportbot_handoff_failures_total": "counter",
    "supportbot_build_info": "gauge",
}


def text(metrics: BotMetrics) -> str:
    return metrics.render().decode()


def test_every_metric_is_exposed_under_its_name_with_build_and_process_series() -> None:
    metrics = BotMetrics(version="1.2.3")
    body = text(metrics)
    assert types(body) | NAMES == types(body)  # every name, with its type
    assert value(body, "supportbot_build_info", version="1.2.3") == 1
    for name in ("process_cpu_seconds_total", "process_resident_memory_bytes", "process_start_time_seconds"):
        assert any(sample_name == name for sample_name, _ in samples(body)), name
    python = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    assert any(name == "python_info" and ("version", python) in labels for name, labels in samples(body))
    assert "_created" not in body
    assert metrics.content_type.startswith("text/plain; version=")


def test_known_platforms_outcomes_tools_and_token_kinds_start_at_zero() -> None:
    body = text(BotMetrics(platforms=("slack", "discord"), tools=("lookup_order",)))
    for platform in ("slack", "discord"):
        for outcome in OUTCOMES:
            assert value(body, "supportbot_replies_total", platform=platform, outcome=outcome) == 0
        assert value(body, "supportbot_replies_in_progress", platform=platform) == 0
        assert value(body, "supportbot_reply_first_text_seconds_count", platform=platform) == 0
        assert value(body, "supportbot_reply_final_text_seconds_bucket", platform=platform, le="+Inf") == 0
        assert value(body, "supportbot_reply_edits_total", platform=platform) == 0
        assert value(body, "supportbot_platform_rate_limited_total", platform=platform) == 0
    for decision in ("allowed", "denied"):
        assert value(body, "supportbot_tool_calls_total", tool="lookup_order", decision=decision) == 0
    for kind in ("input", "output", "cache_read", "cache_write"):
        assert value(body, "supportbot_model_tokens_total", kind=kind) == 0
    assert value(body, "supportbot_model_cost_usd_total") == 0


def test_replies_usage_tool_calls_and_renders_are_recorded() -> None:
    metrics = BotMetrics(platforms=("slack",))
    metrics.reply_started("slack")
    metrics.observe_usage(Usage(1000, 200, 300, 0, 0.0123))
    metrics.observe_tool_call("lookup_order", True)
    metrics.observe_tool_call("lookup_order", False)
    metrics.observe_render("slack", first_text=0.4, final_text=2.0, edits=3, rate_limited=1)
    assert value(text(metrics), "supportbot_replies_in_progress", platform="slack") == 1
    metrics.reply_finished("slack")
    metrics.count_reply("slack", "answered")
    body = text(metrics)
    for name, labels, expected in (
        ("supportbot_replies_total", {"platform": "slack", "outcome": "answered"}, 1),
        ("supportbot_replies_total", {"platform": "slack", "outcome": "failed"}, 0),
        ("supportbot_replies_in_progress", {"platform": "slack"}, 0),
        ("supportbot_model_tokens_total", {"kind": "input"}, 1000),
        ("supportbot_model_tokens_total", {"kind": "output"}, 200),
        ("supportbot_model_tokens_total", {"kind": "cache_read"}, 300),
        ("supportbot_model_tokens_total", {"kind": "cache_write"}, 0),
        ("supportbot_model_cost_usd_total", {}, 0.0123),
        ("supportbot_tool_calls_total", {"tool": "lookup_order", "decision": "allowed"}, 1),
        ("supportbot_tool_calls_total", {"tool": "lookup_order", "decision": "denied"}, 1),
        ("supportbot_reply_first_text_seconds_bucket", {"platform": "slack", "le": "0.25"}, 0),
        ("supportbot_reply_first_text_seconds_bucket", {"platform": "slack", "le": "0.5"}, 1),
        ("supportbot_reply_final_text_seconds_count", {"platform": "slack"}, 1),
        ("supportbot_reply_final_text_seconds_sum", {"platform": "slack"}, 2.0),
        ("supportbot_reply_edits_total", {"platform": "slack"}, 3),
        ("supportbot_platform_rate_limited_total", {"platform": "slack"}, 1),
    ):
        assert value(body, name, **labels) == expected, (name, labels)
    assert metrics.value("supportbot_replies_total", platform="slack", outcome="answered") == 1


def test_the_handoff_outbox_is_measured_by_target_from_zero() -> None:
    metrics = BotMetrics()
    for target in ("webhook", "zendesk"):
        metrics.add_handoff_target(target)
    body = text(metrics)
    for target in ("webhook", "zendesk"):
        for name in (
            "supportbot_handoff_pending",
            "supportbot_handoff_oldest_pending_seconds",
            "supportbot_handoff_failures_total",
        ):
            assert value(body, name, target=target) == 0, (name, target)

    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    metrics.observe_handoff_backlog(
        [
            HandoffBacklog("fax", 1, 0, now - timedelta(days=2), None),  # no longer configured
            HandoffBacklog("webhook", 3, 2, now - timedelta(minutes=20), "HTTP 503: down"),
        ],
        now,
    )
    metrics.count_handoff_failure("webhook")
    metrics.count_handoff_failure("webhook")
    body = text(metrics)
    for name, labels, expected in (
        ("supportbot_handoff_pending", {"target": "webhook"}, 3),
        ("supportbot_handoff_oldest_pending_seconds", {"target": "webhook"}, 1200),
        ("supportbot_handoff_failures_total", {"target": "webhook"}, 2),
        ("supportbot_handoff_pending", {"target": "zendesk"}, 0),
        ("supportbot_handoff_oldest_pending_seconds", {"target": "zendesk"}, 0),
        ("supportbot_handoff_pending", {"target": "fax"}, 1),
        ("supportbot_handoff_oldest_pending_seconds", {"target": "fax"}, 2 * 86400),
    ):
        assert value(body, name, **labels) == expected, (name, labels)

    metrics.observe_handoff_backlog([], now + timedelta(minutes=1))  # everything delivered
    body = text(metrics)
    for target in ("webhook", "zendesk", "fax"):
        assert value(body, "supportbot_handoff_pending", target=target) == 0
        assert value(body, "supportbot_handoff_oldest_pending_seconds", target=target) == 0
    assert value(body, "supportbot_handoff_failures_total", target="webhook") == 2


def test_each_bot_metrics_has_a_registry_of_its_own() -> None:
    first, second = BotMetrics(), BotMetrics()
    first.count_reply("slack", "answered")
    assert value(text(second), "supportbot_replies_total", platform="slack", outcome="answered") is None
    assert value(text(first), "supportbot_replies_total", platform="slack", outcome="answered") == 1


def test_the_core_loads_prometheus_client_only_when_metrics_are_made() -> None:
    """The terminal commands build the app without metrics and so never pay for the import."""
    code = (
        "import sys, bot.run.app, bot.runtime, bot.service, bot.agent.toolbox, bot.metrics\n"
        "assert 'prometheus_client' not in sys.modules, 'imported with the core'\n"
        "bot.metrics.BotMetrics()\n"
        "assert 'prometheus_client' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
