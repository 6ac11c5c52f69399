"""What the leads see in `/support stats` and `supportbot stats`: questions, answers, feedback, escalations,
speed and cost over the last days, in total, by UTC day and by channel.

Platform-neutral: the figures come from the store's reply, feedback, usage and escalation rows. A chat
front end formats them its own way; :func:`format_table` is the terminal's, :func:`stats_json` and
:func:`stats_csv` are for programs (``supportbot stats --format json|csv``).

- questions: messages the bot took up, i.e. started a reply to (limit notices included; messages in an
  escalated thread or a paused channel, and redelivered events, are not);
- answers: replies that completed, with the model or without it (``fallback``); ``failed`` ones ended with
  a notice, ``limited`` ones were a limit notice instead of an answer;
- helpful / not helpful: the votes on those replies; escalations: opened in the period; solved: threads
  marked solved in the period (in total only);
- median first text: over answers and failed replies that showed text; tokens and cost: the model's.
"""

from __future__ import annotations

import csv
import io
import statistics
import textwrap
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from bot.store import Escalation, FeedbackVote, ReplyRecord, StatsStore, UsageRecord
from bot.types import ThreadRef


@dataclass(frozen=True, order=True)
class Channel:
    platform: str
    space_id: str
    channel_id: str

    @classmethod
    def of(cls, ref: ThreadRef) -> Channel:
        return cls(ref.platform, ref.space_id, ref.channel_id)

    @property
    def label(self) -> str:
        return f"{self.platform}:{self.channel_id}"


@dataclass(frozen=True)
class Figures:
    questions: int = 0
    answers: int = 0
    fallback: int = 0
    failed: int = 0
    limited: int = 0
    helpful: int = 0
    not_helpful: int = 0
    escalations: int = 0
    median_first_text_ms: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True)
class Stats:
    since: datetime
    days: int
    platform: str | None
    """The platform counted; None: all of them."""
    total: Figures
    per_day: tuple[tuple[date, Figures], ...]
    """UTC days with any activity, oldest first."""
    per_channel: tuple[tuple[Channel, Figures], ...]
    """Channels with any activity, most questions first."""
    open_escalations: int
    """Open now, whenever they were opened."""
    per_space: tuple[tuple[str, Figures], ...] = ()
    """Spaces (``platform:space id``: a Slack workspace, a Discord guild) with activity, costliest first."""
    top_threads: tuple[tuple[ThreadRef, Figures], ...] = ()
    """The ``TOP_THREADS`` costliest threads of the period (summaries included), costliest first."""
    solved: int = 0
    """Threads their asker or staff marked solved in the period."""


@dataclass
class _Rows:
    """The rows of one group (all, a day or a channel)."""

    replies: list[ReplyRecord] = field(default_factory=list)
    votes: list[FeedbackVote] = field(default_factory=list)
    usage: list[UsageRecord] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)

    def figures(self) -> Figures:
        answered = [r for r in self.replies if not r.limited]
        first_texts = [r.first_text_ms for r in answered if r.first_text_ms is not None]
        return Figures(
            questions=len(self.replies),
            answers=sum(not r.failed for r in answered),
            fallback=sum(r.fallback and not r.failed for r in answered),
            failed=sum(r.failed for r in answered),
            limited=len(self.replies) - len(answered),
            helpful=sum(v.helpful for v in self.votes),
            not_helpful=sum(not v.helpful for v in self.votes),
            escalations=len(self.escalations),
            median_first_text_ms=statistics.median(first_texts) if first_texts else None,
            input_tokens=sum(u.input_tokens for u in self.usage),
            output_tokens=sum(u.output_tokens for u in self.usage),
            cache_read_tokens=sum(u.cache_read_tokens for u in self.usage),
            cache_write_tokens=sum(u.cache_write_tokens for u in self.usage),
            cost_usd=sum(u.cost_usd for u in self.usage),
        )


K = TypeVar("K", bound=Hashable)

TOP_THREADS = 10


async def gather_stats(
    store: StatsStore, platform: str | None, days: int, now: datetime | None = None
) -> Stats:
    """The figures of ``platform`` (None: every platform) over the last ``days`` days."""
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    since = (now or datetime.now(UTC)) - timedelta(days=days)

    def ours(ref: ThreadRef) -> bool:
        return platform is None or ref.platform == platform

    replies = [r for r in await store.replies_since(since) if ours(r.ref)]
    by_id = {r.reply_id: r for r in replies}
    rows = _Rows(
        replies=replies,
        votes=[v for v in await store.feedback_since(since) if v.reply_id in by_id],
        usage=[u for u in await store.usage_since(since) if ours(u.ref)],
        escalations=[e for e in await store.escalations_since(since) if ours(e.ref)],
    )
    open_now = [e for e in await store.open_escalations() if ours(e.ref)]
    per_day = _group(rows, by_id, lambda ref, at: at.astimezone(UTC).date())
    channels = [(channel, group.figures()) for channel, group in _group(rows, by_id, _channel).items()]
    channels.sort(key=lambda item: (-item[1].questions, item[0]))
    spaces = [(space, group.figures()) for space, group in _group(rows, by_id, _space).items()]
    spaces.sort(key=lambda item: (-item[1].cost_usd, item[0]))
    threads = [(ref, group.figures()) for ref, group in _group(rows, by_id, _thread).items()]
    threads.sort(key=lambda item: (-item[1].cost_usd, item[0].key))
    return Stats(
        since=since,
        days=days,
        platform=platform,
        total=rows.figures(),
        per_day=tuple((day, per_day[day].figures()) for day in sorted(per_day)),
        per_channel=tuple(channels),
        open_escalations=len(open_now),
        per_space=tuple(spaces),
        top_threads=tuple(threads[:TOP_THREADS]),
        solved=sum(ours(ref) for ref in await store.solved_since(since)),
    )


def _channel(ref: ThreadRef, at: datetime) -> Channel:
    return Channel.of(ref)


def _space(ref: ThreadRef, at: datetime) -> str:
    return ref.space_key


def _thread(ref: ThreadRef, at: datetime) -> ThreadRef:
    return ref


def _group(
    rows: _Rows, replies: dict[str, ReplyRecord], key: Callable[[ThreadRef, datetime], K]
) -> dict[K, _Rows]:
    """``rows`` split by ``key`` of each row's thread and time; a vote goes with the reply it is on."""
    groups: defaultdict[K, _Rows] = defaultdict(_Rows)
    for reply in rows.replies:
        groups[key(reply.ref, reply.started_at)].replies.append(reply)
    for vote in rows.votes:
        voted = replies[vote.reply_id]
        groups[key(voted.ref, voted.started_at)].votes.append(vote)
    for usage in rows.usage:
        groups[key(usage.ref, usage.at)].usage.append(usage)
    for escalation in rows.escalations:
        groups[key(escalation.ref, escalation.opened_at)].escalations.append(escalation)
    return dict(groups)


def seconds(ms: float | None) -> str:
    """A median time to first text as people read it: ``1.2 s``, or ``n/a`` when there was none."""
    return "n/a" if ms is None else f"{ms / 1000:.1f} s"


COLUMNS: tuple[tuple[str, Callable[[Figures], str]], ...] = (
    ("questions", lambda f: str(f.questions)),
    ("answers", lambda f: str(f.answers)),
    ("fallback", lambda f: str(f.fallback)),
    ("failed", lambda f: str(f.failed)),
    ("limited", lambda f: str(f.limited)),
    ("helpful", lambda f: str(f.helpful)),
    ("not helpful", lambda f: str(f.not_helpful)),
    ("escalations", lambda f: str(f.escalations)),
    ("first text", lambda f: seconds(f.median_first_text_ms)),
    ("tokens in", lambda f: f"{f.input_tokens + f.cache_read_tokens + f.cache_write_tokens:,}"),
    ("tokens out", lambda f: f"{f.output_tokens:,}"),
    ("cost", lambda f: f"${f.cost_usd:.2f}"),
)
"""The columns of a stats table; ``tokens in`` counts cached input too."""


MIN_LABEL_WIDTH = 12
"""A first column (day, channel, space, thread) is cut to no fewer characters than this to fit a terminal."""


def format_table(stats: Stats, width: int | None = None) -> str:
    """The stats as plain-text tables (by day, by channel, by space, the costliest threads) for the terminal.

    ``width``: the terminal's columns. A table wider than that is split into as many tables as it takes,
    each led by the first column again, which is cut in its middle (``…``) to a third of the width at most.
    None: every table on full-width lines, labels whole (for a file or a pipe)."""
    scope = "all platforms" if stats.platform is None else stats.platform
    since = stats.since.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    title = f"Support stats for the last {stats.days} day(s), {scope} (since {since})"
    lines = [*(textwrap.wrap(title, width) if width else [title]), ""]
    if not stats.per_day:
        lines.append("No questions, feedback, usage or escalations in this period.")
    else:
        by_day = [(day.isoformat(), figures) for day, figures in stats.per_day]
        by_channel = [(channel.label, figures) for channel, figures in stats.per_channel]
        lines += _table("day", [*by_day, ("total", stats.total)], width)
        lines += ["", *_table("channel", [*by_channel, ("total", stats.total)], width)]
        lines += ["", *_table("space", [*stats.per_space, ("total", stats.total)], width)]
        costliest = [(ref.key, figures) for ref, figures in stats.top_threads]
        lines += ["", *_table(f"thread (costliest {TOP_THREADS})", costliest, width)]
    lines += ["", f"Open escalations now: {stats.open_escalations}"]
    return "\n".join(lines)


def _table(first: str, rows: Sequence[tuple[str, Figures]], width: int | None = None) -> list[str]:
    header = [first, *(name for name, _ in COLUMNS)]
    body = [[label, *(cell(figures) for _, cell in COLUMNS)] for label, figures in rows]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    columns = range(1, len(header))
    if width is None or widths[0] + sum(2 + widths[i] for i in columns) <= width:
        return _lines([header, *body], widths, [list(columns)])
    widths[0] = min(widths[0], max(MIN_LABEL_WIDTH, width // 3))
    blocks: list[list[int]] = [[]]
    used = widths[0]
    for i in columns:
        if blocks[-1] and used + 2 + widths[i] > width:
            blocks.append([])
            used = widths[0]
        blocks[-1].append(i)
        used += 2 + widths[i]
    return _lines([header, *body], widths, blocks)


def _lines(
    rows: Sequence[Sequence[str]], widths: Sequence[int], blocks: Sequence[Sequence[int]]
) -> list[str]:
    """``rows`` as one table per block of columns, each led by the first column (cut to its width)."""
    lines: list[str] = []
    for block in blocks:
        if lines:
            lines.append("")
        for cells in rows:
            label = _cut(cells[0], widths[0])
            lines.append("  ".join([label.ljust(widths[0]), *(cells[i].rjust(widths[i]) for i in block)]))
    return lines


def _cut(text: str, width: int) -> str:
    """``text`` in ``width`` characters: its start and its end (what tells thread keys apart) around ``…``."""
    if len(text) <= width:
        return text
    tail = (width - 1) // 2
    return text[: width - 1 - tail] + "…" + text[len(text) - tail :]


def stats_json(stats: Stats) -> dict[str, Any]:
    """The stats as one JSON object: the figures (raw numbers, milliseconds, dollars) in total, per day,
    per channel, per space and of the costliest threads."""
    return {
        "since": stats.since.isoformat(),
        "days": stats.days,
        "platform": stats.platform,
        "open_escalations": stats.open_escalations,
        "solved": stats.solved,
        "total": asdict(stats.total),
        "per_day": [{"day": day.isoformat(), **asdict(f)} for day, f in stats.per_day],
        "per_channel": [
            {"platform": c.platform, "space_id": c.space_id, "channel_id": c.channel_id, **asdict(f)}
            for c, f in stats.per_channel
        ],
        "per_space": [{"space": space, **asdict(f)} for space, f in stats.per_space],
        "top_threads": [{"thread": ref.key, **asdict(f)} for ref, f in stats.top_threads],
    }


CSV_FIELDS = tuple(Figures.__dataclass_fields__)


def stats_csv(stats: Stats) -> str:
    """The stats as one CSV table: a row per group (``scope``: total, day, channel, space, thread, and its
    ``key``), the figures as raw numbers in the columns after."""
    rows: list[tuple[str, str, Figures]] = [("total", "", stats.total)]
    rows += [("day", day.isoformat(), f) for day, f in stats.per_day]
    rows += [("channel", channel.label, f) for channel, f in stats.per_channel]
    rows += [("space", space, f) for space, f in stats.per_space]
    rows += [("thread", ref.key, f) for ref, f in stats.top_threads]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["scope", "key", *CSV_FIELDS])
    for scope, key, figures in rows:
        values = asdict(figures)
        writer.writerow([scope, key, *("" if values[name] is None else values[name] for name in CSV_FIELDS)])
    return out.getvalue()
