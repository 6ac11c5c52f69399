"""What the leads see in `/support stats`: answers, failures, fallbacks, feedback, speed and cost.

Platform-neutral: a front end gathers the figures of its platform and formats them its own way.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bot.store import Store


@dataclass(frozen=True)
class DayCount:
    """The answers of one UTC day."""

    day: date
    answers: int
    failed: int
    fallback: int


@dataclass(frozen=True)
class Stats:
    since: datetime
    per_day: tuple[DayCount, ...]
    """Days with at least one answer, oldest first."""
    answers: int
    failed: int
    fallback: int
    helpful: int
    not_helpful: int
    median_first_text_ms: float | None
    input_tokens: int
    output_tokens: int
    cost_usd: float
    open_escalations: int


async def gather_stats(store: Store, platform: str, days: int, now: datetime | None = None) -> Stats:
    """The figures of ``platform`` over the last ``days`` days (open escalations: as of now)."""
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    replies = [r for r in await store.replies_since(since) if r.ref.platform == platform]
    reply_ids = {r.reply_id for r in replies}
    votes = [v for v in await store.feedback_since(since) if v.reply_id in reply_ids]
    usage = [u for u in await store.usage_since(since) if u.ref.platform == platform]
    escalations = [e for e in await store.open_escalations() if e.ref.platform == platform]

    by_day: dict[date, list[int]] = {}
    for reply in replies:
        counts = by_day.setdefault(reply.started_at.astimezone(UTC).date(), [0, 0, 0])
        counts[0] += 1
        counts[1] += reply.failed
        counts[2] += reply.fallback
    first_texts = [r.first_text_ms for r in replies if r.first_text_ms is not None]
    return Stats(
        since=since,
        per_day=tuple(DayCount(day, *counts) for day, counts in sorted(by_day.items())),
        answers=len(replies),
        failed=sum(r.failed for r in replies),
        fallback=sum(r.fallback for r in replies),
        helpful=sum(v.helpful for v in votes),
        not_helpful=sum(not v.helpful for v in votes),
        median_first_text_ms=statistics.median(first_texts) if first_texts else None,
        input_tokens=sum(u.input_tokens for u in usage),
        output_tokens=sum(u.output_tokens for u in usage),
        cost_usd=sum(u.cost_usd for u in usage),
        open_escalations=len(escalations),
    )
