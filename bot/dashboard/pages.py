"""What each dashboard page shows, read from the store: the overview's figures and charts, and the tables.

The figures are ``bot.stats``'s, the same that ``/support stats`` and ``supportbot stats`` show, over every
platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bot.dashboard.charts import Chart, bar_chart
from bot.dashboard.tables import Cell, Table, thread_cell
from bot.quality.drafts import WAITING_LISTED
from bot.quality.gaps import describe_reasons, find_gaps
from bot.stats import TOP_THREADS, Figures, Stats, gather_stats, seconds
from bot.store import AnswerLog, GapsStore, KbDraft, KbDrafts, StatsStore

DEFAULT_DAYS = 14
MAX_DAYS = 90
SUMMARY_CHARS = 300
ANSWERS_READ = 2000
"""The newest answers of a period read for the not-helpful table (a bound on one page's work)."""
NOT_HELPFUL_LISTED = 100


@dataclass(frozen=True)
class Tile:
    """One figure of the overview: a name and its value as shown."""

    name: str
    value: str
    key: str
    """A stable name for the figure (the page's ``data-figure``)."""


@dataclass(frozen=True)
class Overview:
    days: int
    since: datetime
    tiles: tuple[Tile, ...]
    charts: tuple[Chart, ...]
    per_day: Table


def helpful_share(figures: Figures) -> str:
    """The share of votes that said helpful, or ``n/a`` without votes."""
    votes = figures.helpful + figures.not_helpful
    return "n/a" if not votes else f"{100 * figures.helpful / votes:.0f}%"


def money(value: float) -> str:
    return f"${value:.2f}"


async def overview(store: StatsStore, days: int, now: datetime | None = None) -> Overview:
    stats = await gather_stats(store, None, days, now)
    total = stats.total
    tiles = (
        Tile("Questions", str(total.questions), "questions"),
        Tile("Answered", str(total.answers), "answers"),
        Tile("Answered without the model", str(total.fallback), "fallback"),
        Tile("Helpful", helpful_share(total), "helpful_share"),
        Tile("Escalations", str(total.escalations), "escalations"),
        Tile("Open escalations now", str(stats.open_escalations), "open_escalations"),
        Tile("Solved threads", str(stats.solved), "solved"),
        Tile("Median time to first text", seconds(total.median_first_text_ms), "first_text"),
        Tile("Cost", money(total.cost_usd), "cost"),
    )
    days_shown = _every_day(stats)
    charts = (
        bar_chart("Questions per day", [(day, f.questions) for day, f in days_shown], lambda v: f"{v:.0f}"),
        bar_chart("Answered per day", [(day, f.answers) for day, f in days_shown], lambda v: f"{v:.0f}"),
        bar_chart(
            "Escalations per day", [(day, f.escalations) for day, f in days_shown], lambda v: f"{v:.0f}"
        ),
        bar_chart(
            "Median time to first text per day",
            [
                (day, f.median_first_text_ms / 1000 if f.median_first_text_ms is not None else None)
                for day, f in days_shown
            ],
            lambda v: f"{v:.1f} s",
        ),
        bar_chart("Cost per day", [(day, f.cost_usd) for day, f in days_shown], money),
    )
    return Overview(days, stats.since, tiles, charts, _per_day_table(stats))


def _every_day(stats: Stats) -> list[tuple[date, Figures]]:
    """Each UTC day of the period, oldest first, with its figures (none on a quiet day)."""
    active = dict(stats.per_day)
    first = stats.since.astimezone(UTC).date()
    last = (stats.since + timedelta(days=stats.days)).astimezone(UTC).date()
    return [(day, active.get(day, Figures())) for day in _days(first, last)]


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _per_day_table(stats: Stats) -> Table:
    rows = tuple(
        (
            Cell(day.isoformat()),
            Cell(str(f.questions), number=True),
            Cell(str(f.answers), number=True),
            Cell(str(f.fallback), number=True),
            Cell(str(f.helpful), number=True),
            Cell(str(f.not_helpful), number=True),
            Cell(str(f.escalations), number=True),
            Cell(seconds(f.median_first_text_ms), number=True),
            Cell(money(f.cost_usd), number=True),
        )
        for day, f in stats.per_day
    )
    return Table(
        "overview",
        "Per day",
        (
            "day",
            "questions",
            "answered",
            "without the model",
            "helpful",
            "not helpful",
            "escalations",
            "first text",
            "cost",
        ),
        rows,
        "No questions in this period.",
    )


async def open_escalations(store: StatsStore) -> Table:
    rows = tuple(
        (
            Cell(f"#{e.id}", number=True),
            Cell(e.opened_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")),
            thread_cell(e.ref),
            Cell(e.user_id or "someone"),
            Cell(" ".join(e.summary.split())[:SUMMARY_CHARS]),
        )
        for e in await store.open_escalations()
    )
    return Table(
        "escalations",
        "Open escalations",
        ("escalation", "opened", "thread", "asked by", "summary"),
        rows,
        "No open escalations.",
    )


async def costliest_threads(store: StatsStore, days: int, now: datetime | None = None) -> Table:
    stats = await gather_stats(store, None, days, now)
    rows = tuple(
        (
            thread_cell(ref),
            Cell(str(f.questions), number=True),
            Cell(str(f.answers), number=True),
            Cell(f"{f.input_tokens + f.cache_read_tokens + f.cache_write_tokens:,}", number=True),
            Cell(f"{f.output_tokens:,}", number=True),
            Cell(money(f.cost_usd), number=True),
        )
        for ref, f in stats.top_threads
    )
    return Table(
        "threads",
        f"The {TOP_THREADS} costliest threads of the last {days} day(s)",
        ("thread", "questions", "answered", "tokens in", "tokens out", "cost"),
        rows,
        "No model usage in this period.",
    )


async def not_helpful(store: AnswerLog, days: int, now: datetime | None = None) -> Table:
    """The answers people voted not helpful, newest first: the question, the answer and its sources."""
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    voted = [a for a in await store.answers_since(since, ANSWERS_READ) if a.not_helpful_votes]
    rows = tuple(
        (
            Cell(a.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")),
            thread_cell(a.ref),
            Cell(a.question),
            Cell(a.answer),
            Cell("; ".join(source.cited() for source in a.cited) or "none"),
            Cell(str(a.not_helpful_votes), number=True),
        )
        for a in voted[:NOT_HELPFUL_LISTED]
    )
    return Table(
        "not-helpful",
        f"Answers voted not helpful in the last {days} day(s)",
        ("answered", "thread", "question", "answer", "sources", "not helpful votes"),
        rows,
        "No answer was voted not helpful in this period.",
    )


async def coverage_gaps(store: GapsStore, days: int, now: datetime | None = None) -> Table:
    """The coverage gaps (``bot.quality.gaps``): a row per example question, topics largest first."""
    report = await find_gaps(store, days, now=now)
    rows = tuple(
        (
            Cell(topic.label),
            Cell(str(topic.count), number=True),
            Cell(describe_reasons(topic.reasons)),
            Cell(example.question),
            thread_cell(example.ref),
        )
        for topic in report.topics
        for example in topic.examples
    )
    return Table(
        "gaps",
        f"Coverage gaps of the last {days} day(s): {report.questions} question(s) in "
        f"{len(report.topics)} topic(s)",
        ("topic", "questions", "why", "example question", "thread"),
        rows,
        "No question went unanswered, unhelpful or escalated in this period.",
    )


async def waiting_drafts(store: KbDrafts) -> Table:
    """The KB drafts waiting for a lead (``bot.quality.drafts``), newest change first."""
    return drafts_table(await store.kb_drafts("draft", WAITING_LISTED))


def drafts_table(drafts: list[KbDraft]) -> Table:
    rows = tuple(
        (
            Cell(f"#{d.id}", number=True),
            Cell(d.updated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")),
            thread_cell(d.ref),
            Cell(d.title),
            Cell(d.question),
            Cell(d.body),
            Cell(d.drafted_by),
            Cell(d.made_with),
        )
        for d in drafts
    )
    return Table(
        "kb-drafts",
        "KB drafts waiting for a lead",
        ("draft", "changed", "thread", "title", "question", "article", "drafted by", "drafted with"),
        rows,
        "No KB drafts are waiting: a lead drafts one from a resolved escalation's post, or with "
        "/support kb save.",
    )
