"""The Store on SQLite through aiosqlite: the embedded default (docs/architecture.md §8).

One connection per store, in WAL mode with foreign keys on and a busy timeout, so that several processes
(``supportbot serve`` next to ``supportbot ask``) can share one file. Coroutines of one store are serialised
by an ``asyncio.Lock``: every method is one statement or one explicit ``BEGIN IMMEDIATE`` transaction, and
two coroutines never interleave statements of their transactions on the shared connection.

Datetimes are stored as ISO-8601 UTC text with microseconds and come back timezone-aware (UTC). Naive
datetimes are refused with ``ValueError``: their time zone is a guess, and a wrong guess reorders history.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Coroutine, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.kb.sources.base import SourceArticle
from bot.store import knowledge, mapping, quality
from bot.store.mapping import reply_params, thread_params, turn_params, usage_params
from bot.store.migrations import Migration, MigrationError, check_migrations
from bot.store.migrations.sqlite import MIGRATIONS
from bot.store.records import (
    LEAD_ACTION_ARGUMENT_CHARS,
    LEAD_ACTIONS_KEPT,
    AnswerRecord,
    ArticleDiff,
    AuditRecord,
    ChangeBatch,
    Escalation,
    FeedbackVote,
    ForgetReport,
    HandoffBacklog,
    HandoffDelivery,
    KbDraft,
    LeadAction,
    PendingReply,
    PruneReport,
    ReplyRecord,
    SourceStatus,
    ThreadState,
    ThreadSummary,
    UsageRecord,
)
from bot.types import ThreadRef, Turn

logger = logging.getLogger(__name__)

MEMORY = ":memory:"
DEFAULT_BUSY_TIMEOUT = timedelta(seconds=5)
DEFAULT_EVENT_RETENTION = timedelta(days=7)
_PRUNE_INTERVAL = timedelta(hours=1)
_LOCKED_RETRY_SECONDS = 0.02

Clock = Callable[[], datetime]
T = TypeVar("T")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def to_db_time(value: datetime) -> str:
    """``value`` as sortable ISO-8601 UTC text; ``ValueError`` for a naive datetime."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} given to the store; pass a timezone-aware one")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


_THREAD_WHERE = "platform = ? AND space_id = ? AND channel_id = ? AND thread_id = ?"

# Statements used both on their own and in an answer's grouped transactions (``Answering``).
_APPEND_TURN = (
    "INSERT INTO turns (platform, space_id, channel_id, thread_id, role, author, text,"
    " message_id, sent_at, exchange, answered_for, user_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (platform, space_id, channel_id, thread_id, message_id)"
    " WHERE message_id <> ''"
    " DO UPDATE SET role = excluded.role, author = excluded.author, text = excluded.text,"
    " sent_at = excluded.sent_at, exchange = excluded.exchange,"
    " answered_for = excluded.answered_for, user_id = excluded.user_id"
)
_LOAD_TURNS = (
    "SELECT role, author, text, message_id, sent_at, exchange, answered_for, user_id FROM ("
    f"  SELECT * FROM turns WHERE {_THREAD_WHERE} ORDER BY sent_at DESC, id DESC LIMIT ?"
    ") ORDER BY sent_at, id"
)
_LOAD_SUMMARY = f"SELECT * FROM thread_summaries WHERE {_THREAD_WHERE}"
_IS_ESCALATED = f"SELECT 1 FROM escalations WHERE {_THREAD_WHERE} AND resolved_at IS NULL LIMIT 1"
_HANDOFF_BACKLOG = (  # the undelivered rows only, as the partial index handoff_outbox_due holds them
    "SELECT o.target, COUNT(*) AS pending, COUNT(o.last_error) AS failing, MIN(o.created_at) AS oldest_at,"
    " (SELECT f.last_error FROM handoff_outbox AS f WHERE f.target = o.target AND f.delivered_at IS NULL"
    " AND f.last_error IS NOT NULL ORDER BY f.created_at, f.id LIMIT 1) AS last_error"
    " FROM handoff_outbox AS o WHERE o.delivered_at IS NULL GROUP BY o.target ORDER BY o.target"
)
_RECORD_USAGE = (
    "INSERT INTO usage (platform, space_id, channel_id, thread_id, reply_id, model,"
    " input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (platform, space_id, channel_id, thread_id, reply_id, model, at) DO NOTHING"
)
_RECORD_REPLY = (
    "INSERT INTO replies (reply_id, platform, space_id, channel_id, thread_id, started_at,"
    " first_text_ms, failed, fallback, limited, user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (reply_id) DO UPDATE SET platform = excluded.platform,"
    " space_id = excluded.space_id, channel_id = excluded.channel_id,"
    " thread_id = excluded.thread_id, started_at = excluded.started_at,"
    " first_text_ms = excluded.first_text_ms, failed = excluded.failed,"
    " fallback = excluded.fallback, limited = excluded.limited, user_id = excluded.user_id"
)
_SETTLE_PENDING = "DELETE FROM pending_replies WHERE reply_id = ?"
_SPACE_TOKENS = (
    "SELECT COALESCE(SUM(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens), 0)"
    " AS tokens FROM usage WHERE platform = ? AND space_id = ? AND at >= ?"
)
_RECORD_ANSWER = (
    "INSERT INTO answer_records (reply_id, platform, space_id, channel_id, thread_id, message_id, user_id,"
    " at, question, answer, searches, cited, nothing_found, fallback)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (reply_id) DO UPDATE SET message_id = excluded.message_id, user_id = excluded.user_id,"
    " at = excluded.at, question = excluded.question, answer = excluded.answer,"
    " searches = excluded.searches, cited = excluded.cited, nothing_found = excluded.nothing_found,"
    " fallback = excluded.fallback"
)
# An answer's votes, and whether its thread was escalated at or after it, read with it.
_ANSWERS_SINCE = (
    "SELECT a.*,"
    " (SELECT COUNT(*) FROM feedback f WHERE f.reply_id = a.reply_id AND f.helpful = 1) AS helpful_votes,"
    " (SELECT COUNT(*) FROM feedback f WHERE f.reply_id = a.reply_id AND f.helpful = 0) AS not_helpful_votes,"
    " EXISTS (SELECT 1 FROM escalations e WHERE e.platform = a.platform AND e.space_id = a.space_id"
    "  AND e.channel_id = a.channel_id AND e.thread_id = a.thread_id AND e.opened_at >= a.at) AS escalated"
    " FROM answer_records a WHERE a.at >= ? ORDER BY a.at DESC, a.reply_id LIMIT ?"
)
_SAVE_DRAFT = (
    "INSERT INTO kb_drafts (platform, space_id, channel_id, thread_id, title, question, body, drafted_by,"
    " made_with, created_at, updated_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'draft')"
    " ON CONFLICT (platform, space_id, channel_id, thread_id) WHERE status = 'draft'"
    " DO UPDATE SET title = excluded.title, question = excluded.question, body = excluded.body,"
    " drafted_by = excluded.drafted_by, made_with = excluded.made_with, updated_at = excluded.updated_at"
    " RETURNING *"
)


# Knowledge articles: a written article takes the change number given; a removed one keeps its row.
_UPSERT_ARTICLE = (
    "INSERT INTO kb_articles (source, key, title, url, visibility, tags, body, locale, validator,"
    " content_hash, updated_at, seq, removed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)"
    " ON CONFLICT (source, key) DO UPDATE SET title = excluded.title, url = excluded.url,"
    " visibility = excluded.visibility, tags = excluded.tags, body = excluded.body,"
    " locale = excluded.locale, validator = excluded.validator, content_hash = excluded.content_hash,"
    " updated_at = excluded.updated_at, seq = excluded.seq, removed = 0"
)
_REMOVE_ARTICLE = (
    "UPDATE kb_articles SET removed = 1, body = '', tags = '[]', validator = NULL, content_hash = '',"
    " seq = ?, updated_at = ? WHERE source = ? AND key = ?"
)
_REVALIDATE_ARTICLE = "UPDATE kb_articles SET validator = ? WHERE source = ? AND key = ?"
_SOURCE_SUCCESS = (
    "INSERT INTO kb_source_status (source, last_attempt_at, last_success_at, last_error, articles,"
    " added, updated, removed, skipped) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (source) DO UPDATE SET last_attempt_at = excluded.last_attempt_at,"
    " last_success_at = excluded.last_success_at, last_error = NULL, articles = excluded.articles,"
    " added = excluded.added, updated = excluded.updated, removed = excluded.removed,"
    " skipped = excluded.skipped"
)
_SOURCE_FAILURE = (
    "INSERT INTO kb_source_status (source, last_attempt_at, last_success_at, last_error, articles,"
    " added, updated, removed, skipped) VALUES (?, ?, NULL, ?,"
    " (SELECT COUNT(*) FROM kb_articles WHERE source = ? AND removed = 0), 0, 0, 0, 0)"
    " ON CONFLICT (source) DO UPDATE SET last_attempt_at = excluded.last_attempt_at,"
    " last_error = excluded.last_error"
)


def _replace_source(
    db: sqlite3.Connection, source: str, articles: Sequence[SourceArticle], now: str
) -> tuple[knowledge.Plan, int]:
    """Make ``articles`` the source's whole content inside the caller's transaction, each change taking
    the next number; the plan and the store's change number after it."""
    rows = db.execute(
        "SELECT key, content_hash, validator, removed FROM kb_articles WHERE source = ?", (source,)
    ).fetchall()
    plan = knowledge.plan_replace(knowledge.current_by_key(rows), articles)
    seq = int(db.execute("SELECT seq FROM kb_sequence WHERE id = 1").fetchone()["seq"])
    written = (*plan.added, *plan.updated)
    db.executemany(
        _UPSERT_ARTICLE,
        (knowledge.article_params(source, item, seq + n, now) for n, item in enumerate(written, 1)),
    )
    db.executemany(
        _REMOVE_ARTICLE,
        ((seq + n, now, source, key) for n, key in enumerate(plan.removed, len(written) + 1)),
    )
    db.executemany(_REVALIDATE_ARTICLE, ((item.validator, source, item.key) for item in plan.revalidated))
    seq += plan.changes
    db.execute("UPDATE kb_sequence SET seq = ? WHERE id = 1", (seq,))
    return plan, seq


def _load_limit(limit: int | None) -> int:
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0 or None, not {limit}")
    return -1 if limit is None else limit  # LIMIT -1: no limit in SQLite


def _in_transaction(work: Callable[[sqlite3.Connection], T], db: sqlite3.Connection) -> T:
    """``work`` between ``BEGIN IMMEDIATE`` and ``COMMIT``, rolled back on any error; runs in the
    connection's thread (see ``SQLiteStore._run``)."""
    if db.in_transaction:  # as in _transaction: never build on one an earlier failure left open
        db.execute("ROLLBACK")
    db.execute("BEGIN IMMEDIATE")
    try:
        result = work(db)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return result


@asynccontextmanager
async def _transaction(db: aiosqlite.Connection) -> AsyncIterator[aiosqlite.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any error (cancellation included).

    IMMEDIATE takes the write lock up front, so a concurrent writer in another process waits for the busy
    timeout instead of failing later when a read lock cannot be upgraded.
    """
    if db.in_transaction:  # defensive: never build on a transaction some earlier failure left open
        await db.rollback()
    try:
        # Inside the try: if we are cancelled while BEGIN is queued, the ROLLBACK queued after it undoes it.
        await db.execute("BEGIN IMMEDIATE")
        yield db
        await db.commit()
    except BaseException:
        await _finish(db.rollback())
        raise


async def _finish(operation: Coroutine[Any, Any, None]) -> None:
    """Await ``operation`` to its end even if we are cancelled meanwhile (then re-raise the cancellation).

    Used for ROLLBACK, so that the store lock is released only once the connection is out of the failed
    transaction, whatever the caller does.
    """
    task = asyncio.ensure_future(operation)
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            cancelled = True
    task.result()
    if cancelled:
        raise asyncio.CancelledError


async def _fetchall(db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
    async with db.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


async def _fetchone(db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
    async with db.execute(sql, params) as cursor:
        return await cursor.fetchone()


async def _journal_mode_wal(db: aiosqlite.Connection, busy_timeout: timedelta) -> str:
    """Switch to WAL; returns the journal mode now in force.

    Switching needs the database to itself and SQLite answers "database is locked" at once, without its
    busy handler, while another connection (another process opening the same file) is migrating it; so
    the switch is tried again until the busy timeout is up.
    """
    deadline = time.monotonic() + busy_timeout.total_seconds()
    while True:
        try:
            row = await _fetchone(db, "PRAGMA journal_mode = WAL")
            return str(row[0]).lower() if row is not None else "?"
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            await asyncio.sleep(_LOCKED_RETRY_SECONDS)


async def apply_migrations(db: aiosqlite.Connection, migrations: Sequence[Migration]) -> list[int]:
    """Bring the database to the newest version in ``migrations``; return the versions applied now.

    Each migration runs in its own transaction together with its ``schema_migrations`` row, so a failed
    migration leaves no trace and is retried on the next open. The applied set is re-read inside each
    transaction, so two processes opening the same file at once apply every migration exactly once.
    Raises ``MigrationError`` when the database holds a version this build does not know (it was written
    by a newer build) or a known version under another name (the migration list was edited).
    """
    check_migrations(migrations)
    await db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    by_version = {migration.version: migration for migration in migrations}
    recorded = await _fetchall(db, "SELECT version, name FROM schema_migrations ORDER BY version")
    for row in recorded:
        known = by_version.get(row["version"])
        if known is None:
            newest = max(by_version, default=0)
            raise MigrationError(
                f"the database has schema version {row['version']} ({row['name']}), which this build does "
                f"not know (it knows up to {newest}); it was written by a newer supportbot: upgrade this one"
            )
        if known.name != row["name"]:
            raise MigrationError(
                f"schema version {known.version} is recorded as {row['name']!r} in the database but is "
                f"{known.name!r} in this build; released migrations must not be edited"
            )

    already = {row["version"] for row in recorded}
    applied_now: list[int] = []
    for migration in migrations:
        if migration.version in already:
            continue
        async with _transaction(db):
            done = await _fetchone(
                db, "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
            )
            if done is not None:
                continue
            for statement in migration.statements:
                await db.execute(statement)
            await db.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, to_db_time(_utcnow())),
            )
        applied_now.append(migration.version)
        logger.info("applied schema migration %d (%s)", migration.version, migration.name)
    return applied_now


class SQLiteStore:
    """The ``Store`` protocol on one aiosqlite connection. Create it with ``await SQLiteStore.open(path)``."""

    def __init__(
        self,
        db: aiosqlite.Connection,
        *,
        clock: Clock = _utcnow,
        event_retention: timedelta = DEFAULT_EVENT_RETENTION,
    ) -> None:
        """Wrap an already configured and migrated connection; use ``open`` instead."""
        self._db = db
        self._clock = clock
        self._event_retention = event_retention
        self._lock = asyncio.Lock()
        self._closed = False
        self._next_prune: datetime | None = None  # prune on the first claim after open
        self.trips = 0
        """Round trips to the connection's thread so far (each statement, fetch, commit or grouped
        transaction is one, at about 75 µs of CPU): the benchmarks' "store trips per answer"."""
        self._count_trips()

    def _count_trips(self) -> None:
        """Count every call aiosqlite queues for its thread (``Connection._execute``: the one door)."""
        queue: Callable[..., Awaitable[Any]] = self._db._execute

        async def counted(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            self.trips += 1
            return await queue(function, *args, **kwargs)

        self._db._execute = counted  # type: ignore[method-assign, assignment]

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        busy_timeout: timedelta = DEFAULT_BUSY_TIMEOUT,
        event_retention: timedelta = DEFAULT_EVENT_RETENTION,
        clock: Clock = _utcnow,
        migrations: Sequence[Migration] = MIGRATIONS,
    ) -> SQLiteStore:
        """Open (creating file and parent directory if missing) and migrate the database at ``path``.

        ``path`` may be ``":memory:"`` for a private in-memory database. Raises ``sqlite3.Error`` or
        ``OSError`` when the file cannot be opened and ``MigrationError`` when its schema cannot be used.
        """
        database = str(path)
        if database != MEMORY:
            await asyncio.to_thread(Path(database).parent.mkdir, parents=True, exist_ok=True)
        # isolation_level=None: no implicit transactions; every write opens its own (see _transaction).
        # timeout= sets SQLite's busy timeout through the C API, so no value is formatted into SQL.
        db = await aiosqlite.connect(database, isolation_level=None, timeout=busy_timeout.total_seconds())
        try:
            db.row_factory = sqlite3.Row
            await db.execute("PRAGMA foreign_keys = ON")
            mode = await _journal_mode_wal(db, busy_timeout)
            if database != MEMORY and mode != "wal":
                logger.warning("SQLite journal mode is %s, not WAL (file system without WAL support?)", mode)
            # Safe with WAL: a power loss may drop the last commits but never corrupts the database.
            await db.execute("PRAGMA synchronous = NORMAL")
            await apply_migrations(db, migrations)
        except BaseException:
            await db.close()
            raise
        return cls(db, clock=clock, event_retention=event_retention)

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock, _transaction(self._db) as db:
            yield db

    async def _write_one(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Cursor:
        """Run one write statement on its own; its cursor tells ``rowcount`` and ``lastrowid``.

        No BEGIN and COMMIT around it: a single statement in autocommit mode is atomic, and SQLite takes
        the write lock when it starts (waiting for the busy timeout, as ``BEGIN IMMEDIATE`` would). One
        trip to the connection's thread instead of three; several statements use :meth:`_write`.
        """
        async with self._lock:
            if self._db.in_transaction:  # as in _transaction: never join one an earlier failure left open
                await self._db.rollback()
            return await self._db.execute(sql, params)

    async def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """The rows of one query, in one trip to the connection's thread."""
        async with self._lock:
            return list(await self._db.execute_fetchall(sql, params))

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work`` (several statements on the plain ``sqlite3`` connection) in one transaction, in ONE trip
        to the connection's thread: ``BEGIN IMMEDIATE``, the statements and ``COMMIT`` (or ``ROLLBACK``)
        all run there. Once queued it runs to its end even if the caller is cancelled; what is queued after
        it runs after it."""
        async with self._lock:
            run: Callable[..., Awaitable[T]] = self._db._execute
            return await run(_in_transaction, work, self._db._conn)

    def _now(self) -> datetime:
        return from_db_time(to_db_time(self._clock()))

    async def close(self) -> None:
        """Close the connection after the operation in progress; closing twice is harmless."""
        async with self._lock:
            if self._closed:
                return
            self._closed = True
            await self._db.close()

    # Dedup.

    async def claim_event(self, event_id: str) -> bool:
        """Atomic across coroutines and processes: the primary key decides, ``rowcount`` tells who won.

        Ids older than ``event_retention`` are pruned (at most once per hour), after which a very late
        redelivery of such an id would be claimed again.
        """
        if not event_id:
            raise ValueError("event_id must not be empty")
        now = self._now()
        inserted = await self._write_one(
            "INSERT INTO processed_events (event_id, claimed_at) VALUES (?, ?)"
            " ON CONFLICT (event_id) DO NOTHING",
            (event_id, to_db_time(now)),
        )
        if self._next_prune is None or now >= self._next_prune:
            self._next_prune = now + _PRUNE_INTERVAL
            await self._write_one(
                "DELETE FROM processed_events WHERE claimed_at < ?",
                (to_db_time(now - self._event_retention),),
            )
        claimed = inserted.rowcount == 1
        return claimed

    # Conversations.

    async def append_turn(self, ref: ThreadRef, turn: Turn) -> None:
        """Store ``turn``; a turn with the same non-empty ``message_id`` in the thread is replaced."""
        await self._write_one(_APPEND_TURN, turn_params(ref, turn, to_db_time))

    async def load_turns(self, ref: ThreadRef, limit: int | None = None) -> list[Turn]:
        """The newest ``limit`` turns (all when None), oldest first, ordered by ``sent_at``."""
        rows = await self._read(_LOAD_TURNS, (*thread_params(ref), _load_limit(limit)))
        return [mapping.turn(row, from_db_time) for row in rows]

    async def clear_turns(self, ref: ThreadRef) -> None:
        async with self._write() as db:
            await db.execute(f"DELETE FROM turns WHERE {_THREAD_WHERE}", thread_params(ref))
            await db.execute(f"DELETE FROM thread_summaries WHERE {_THREAD_WHERE}", thread_params(ref))

    # Thread summaries.

    async def save_summary(
        self, ref: ThreadRef, text: str, covers_until_message_id: str, covers_until_time: datetime
    ) -> None:
        """Keep ``text`` as the thread's summary, replacing the one before."""
        await self._write_one(
            "INSERT INTO thread_summaries (platform, space_id, channel_id, thread_id, text,"
            " covers_until_message_id, covers_until_time, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (platform, space_id, channel_id, thread_id) DO UPDATE SET"
            " text = excluded.text, covers_until_message_id = excluded.covers_until_message_id,"
            " covers_until_time = excluded.covers_until_time, updated_at = excluded.updated_at",
            (
                *thread_params(ref),
                text,
                covers_until_message_id,
                to_db_time(covers_until_time),
                to_db_time(self._now()),
            ),
        )

    async def load_summary(self, ref: ThreadRef) -> ThreadSummary | None:
        rows = await self._read(_LOAD_SUMMARY, thread_params(ref))
        if not rows:
            return None
        return mapping.thread_summary(rows[0], from_db_time)

    # Identity links.

    async def link_identity(self, platform: str, user_id: str, customer_id: str) -> None:
        """Link the user to ``customer_id``, replacing an earlier link."""
        await self._write_one(
            "INSERT INTO identity_links (platform, user_id, customer_id, linked_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (platform, user_id) DO UPDATE SET"
            " customer_id = excluded.customer_id, linked_at = excluded.linked_at",
            (platform, user_id, customer_id, to_db_time(self._now())),
        )

    async def unlink_identity(self, platform: str, user_id: str) -> bool:
        """Remove the link; True when there was one."""
        cursor = await self._write_one(
            "DELETE FROM identity_links WHERE platform = ? AND user_id = ?", (platform, user_id)
        )
        return cursor.rowcount > 0

    async def customer_for(self, platform: str, user_id: str) -> str | None:
        rows = await self._read(
            "SELECT customer_id FROM identity_links WHERE platform = ? AND user_id = ?", (platform, user_id)
        )
        return str(rows[0]["customer_id"]) if rows else None

    # Usage and audit.

    async def record_usage(self, record: UsageRecord) -> None:
        await self._write_one(_RECORD_USAGE, usage_params(record, to_db_time))

    async def usage_since(self, since: datetime) -> list[UsageRecord]:
        """Usage rows at or after ``since``, oldest first."""
        rows = await self._read("SELECT * FROM usage WHERE at >= ? ORDER BY at, id", (to_db_time(since),))
        return [mapping.usage_record(row, from_db_time) for row in rows]

    async def tokens_used_since(self, platform: str, space_id: str, since: datetime) -> int:
        rows = await self._read(_SPACE_TOKENS, (platform, space_id, to_db_time(since)))
        return int(rows[0]["tokens"])

    async def record_tool_call(self, record: AuditRecord) -> None:
        await self._write_one(
            "INSERT INTO tool_calls (at, platform, user_id, principal, thread_key, tool, args_digest,"
            " allowed, outcome, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (at, thread_key, tool, args_digest) DO NOTHING",
            (
                to_db_time(record.at),
                record.platform,
                record.user_id,
                record.principal,
                record.thread_key,
                record.tool,
                record.args_digest,
                int(record.allowed),
                record.outcome,
                record.latency_ms,
            ),
        )

    async def tool_calls(self, limit: int = 100) -> list[AuditRecord]:
        """The newest ``limit`` audit rows, newest first (by ``at``, then by insertion)."""
        if limit < 0:
            raise ValueError(f"limit must be >= 0, not {limit}")
        rows = await self._read("SELECT * FROM tool_calls ORDER BY at DESC, id DESC LIMIT ?", (limit,))
        return [mapping.audit_record(row, from_db_time) for row in rows]

    # Lead actions.

    async def record_lead_action(self, action: LeadAction) -> None:
        async with self._write() as db:
            await db.execute(
                "INSERT INTO lead_actions (at, platform, space_id, channel_id, user_id, action, argument)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (at, platform, space_id, user_id, action) DO NOTHING",
                (
                    to_db_time(action.at),
                    action.platform,
                    action.space_id,
                    action.channel_id,
                    action.user_id,
                    action.action,
                    action.argument[:LEAD_ACTION_ARGUMENT_CHARS],
                ),
            )
            await db.execute(
                "DELETE FROM lead_actions WHERE id <="
                " (SELECT id FROM lead_actions ORDER BY id DESC LIMIT 1 OFFSET ?)",
                (LEAD_ACTIONS_KEPT,),
            )

    async def lead_actions(self, platform: str, space_id: str, limit: int = 100) -> list[LeadAction]:
        if limit < 0:
            raise ValueError(f"limit must be >= 0, not {limit}")
        rows = await self._read(
            "SELECT * FROM lead_actions WHERE platform = ? AND space_id IN (?, '')"
            " ORDER BY at DESC, id DESC LIMIT ?",
            (platform, space_id, limit),
        )
        return [mapping.lead_action(row, from_db_time) for row in rows]

    # Escalations.

    async def open_escalation(self, ref: ThreadRef, user_id: str, summary: str) -> Escalation | None:
        """Open an escalation in the thread; None when one is open there already (a unique index on the
        open ones decides, so two requests at the same moment open one)."""
        opened_at = self._now()
        cursor = await self._write_one(
            "INSERT INTO escalations (platform, space_id, channel_id, thread_id, user_id, summary,"
            " opened_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (platform, space_id, channel_id, thread_id) WHERE resolved_at IS NULL DO NOTHING",
            (*thread_params(ref), user_id, summary, to_db_time(opened_at)),
        )
        if cursor.rowcount != 1 or cursor.lastrowid is None:
            return None
        return Escalation(id=cursor.lastrowid, ref=ref, user_id=user_id, summary=summary, opened_at=opened_at)

    async def resolve_escalations(self, ref: ThreadRef, resolved_by: str) -> int:
        """Resolve every open escalation of the thread; return how many were open."""
        cursor = await self._write_one(
            "UPDATE escalations SET resolved_at = ?, resolved_by = ?"
            f" WHERE {_THREAD_WHERE} AND resolved_at IS NULL",
            (to_db_time(self._now()), resolved_by, *thread_params(ref)),
        )
        return cursor.rowcount

    async def open_escalations(self) -> list[Escalation]:
        """Open escalations, oldest first."""
        rows = await self._read("SELECT * FROM escalations WHERE resolved_at IS NULL ORDER BY opened_at, id")
        return [mapping.escalation(row, from_db_time) for row in rows]

    async def escalations_since(self, since: datetime) -> list[Escalation]:
        rows = await self._read(
            "SELECT * FROM escalations WHERE opened_at >= ? ORDER BY opened_at, id", (to_db_time(since),)
        )
        return [mapping.escalation(row, from_db_time) for row in rows]

    async def is_escalated(self, ref: ThreadRef) -> bool:
        rows = await self._read(_IS_ESCALATED, thread_params(ref))
        return bool(rows)

    # The helpdesk outbox.

    async def enqueue_handoff(self, escalation_id: int, ref: ThreadRef, target: str, payload: str) -> None:
        now = to_db_time(self._now())
        await self._write_one(
            "INSERT INTO handoff_outbox (escalation_id, target, platform, space_id, channel_id, thread_id,"
            " payload, created_at, attempts, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)"
            " ON CONFLICT (escalation_id, target) DO NOTHING",
            (escalation_id, target, *thread_params(ref), payload, now, now),
        )

    async def due_handoffs(self, now: datetime, limit: int) -> list[HandoffDelivery]:
        rows = await self._read(
            "SELECT * FROM handoff_outbox WHERE delivered_at IS NULL AND next_attempt_at <= ?"
            " ORDER BY next_attempt_at, id LIMIT ?",
            (to_db_time(now), limit),
        )
        return [mapping.handoff_delivery(row) for row in rows]

    async def handoff_failed(self, delivery_id: int, next_attempt_at: datetime, error: str) -> None:
        await self._write_one(
            "UPDATE handoff_outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?"
            " WHERE id = ?",
            (to_db_time(next_attempt_at), error, delivery_id),
        )

    async def handoff_delivered(self, delivery_id: int, ticket_id: str | None, url: str | None) -> None:
        await self._write_one(
            "UPDATE handoff_outbox SET attempts = attempts + 1, delivered_at = ?, last_error = NULL,"
            " ticket_id = ?, ticket_url = ? WHERE id = ?",
            (to_db_time(self._now()), ticket_id, url, delivery_id),
        )

    async def handoff_backlog(self) -> list[HandoffBacklog]:
        return [mapping.handoff_backlog(row, from_db_time) for row in await self._read(_HANDOFF_BACKLOG)]

    async def escalation(self, escalation_id: int) -> Escalation | None:
        rows = await self._read("SELECT * FROM escalations WHERE id = ?", (escalation_id,))
        return mapping.escalation(rows[0], from_db_time) if rows else None

    # Feedback.

    async def record_feedback(self, reply_id: str, user_id: str, helpful: bool) -> None:
        await self._write_one(
            "INSERT INTO feedback (reply_id, user_id, helpful, at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (reply_id, user_id) DO UPDATE SET helpful = excluded.helpful, at = excluded.at",
            (reply_id, user_id, int(helpful), to_db_time(self._now())),
        )

    async def feedback_for(self, reply_id: str) -> dict[str, bool]:
        """Each voter's latest vote on the reply: user id → helpful."""
        rows = await self._read(
            "SELECT user_id, helpful FROM feedback WHERE reply_id = ? ORDER BY user_id", (reply_id,)
        )
        return {row["user_id"]: bool(row["helpful"]) for row in rows}

    async def feedback_since(self, since: datetime) -> list[FeedbackVote]:
        rows = await self._read(
            "SELECT * FROM feedback WHERE at >= ? ORDER BY at, reply_id, user_id", (to_db_time(since),)
        )
        return [mapping.feedback_vote(row, from_db_time) for row in rows]

    # Replies.

    async def record_reply(self, record: ReplyRecord) -> None:
        """Record an answer; recording the same ``reply_id`` again replaces the row."""
        await self._write_one(_RECORD_REPLY, reply_params(record, to_db_time))

    async def replies_since(self, since: datetime) -> list[ReplyRecord]:
        rows = await self._read(
            "SELECT * FROM replies WHERE started_at >= ? ORDER BY started_at, reply_id", (to_db_time(since),)
        )
        return [mapping.reply_record(row, from_db_time) for row in rows]

    # The dashboard's links.

    async def use_dashboard_link(self, nonce: str, expires_at: datetime) -> bool:
        """The primary key decides, ``rowcount`` tells who won; expired links' nonces go in the same trip."""
        if not nonce:
            raise ValueError("nonce must not be empty")
        now = to_db_time(self._now())

        def work(db: sqlite3.Connection) -> bool:
            db.execute("DELETE FROM dashboard_links_used WHERE expires_at < ?", (now,))
            inserted = db.execute(
                "INSERT INTO dashboard_links_used (nonce, opened_at, expires_at) VALUES (?, ?, ?)"
                " ON CONFLICT (nonce) DO NOTHING",
                (nonce, now, to_db_time(expires_at)),
            )
            return inserted.rowcount == 1

        return await self._run(work)

    # Retention and forgetting (bot.privacy).

    async def prune(self, before: datetime, batch: int) -> PruneReport:
        """One bounded pass: each statement touches at most ``batch`` rows dated before ``before``."""
        if batch < 1:
            raise ValueError(f"batch must be >= 1, not {batch}")
        cutoff = to_db_time(before)

        async def run(sql: str) -> int:
            return (await self._write_one(sql, (cutoff, batch))).rowcount

        return PruneReport(
            turns=await run("DELETE FROM turns WHERE id IN (SELECT id FROM turns WHERE sent_at < ? LIMIT ?)"),
            summaries=await run(
                "DELETE FROM thread_summaries WHERE rowid IN"
                " (SELECT rowid FROM thread_summaries WHERE covers_until_time < ? LIMIT ?)"
            ),
            pending_replies=await run(
                "DELETE FROM pending_replies WHERE reply_id IN"
                " (SELECT reply_id FROM pending_replies WHERE started_at < ? LIMIT ?)"
            ),
            tool_calls=await run(
                "DELETE FROM tool_calls WHERE id IN (SELECT id FROM tool_calls WHERE at < ? LIMIT ?)"
            ),
            escalations=await run(
                "UPDATE escalations SET summary = '', user_id = '' WHERE id IN (SELECT id FROM escalations"
                " WHERE resolved_at < ? AND (summary <> '' OR user_id <> '') LIMIT ?)"
            ),
            replies=await run(
                "UPDATE replies SET user_id = NULL WHERE reply_id IN (SELECT reply_id FROM replies"
                " WHERE started_at < ? AND user_id IS NOT NULL LIMIT ?)"
            ),
            answer_records=await run(
                "DELETE FROM answer_records WHERE reply_id IN"
                " (SELECT reply_id FROM answer_records WHERE at < ? LIMIT ?)"
            ),
            handoffs=await run(
                "DELETE FROM handoff_outbox WHERE id IN"
                " (SELECT id FROM handoff_outbox WHERE delivered_at < ? LIMIT ?)"
            ),
            solved_threads=await run(
                "UPDATE solved_threads SET solved_by = '', message_id = '' WHERE rowid IN"
                " (SELECT rowid FROM solved_threads"
                "  WHERE solved_at < ? AND (solved_by <> '' OR message_id <> '') LIMIT ?)"
            ),
        )

    async def forget_user(self, platform: str, user_id: str) -> ForgetReport:
        async with self._write() as db:

            async def run(sql: str, params: Sequence[Any] = (platform, user_id)) -> int:
                async with db.execute(sql, params) as cursor:
                    return cursor.rowcount

            summaries = await run(
                "DELETE FROM thread_summaries WHERE (platform, space_id, channel_id, thread_id) IN"
                " (SELECT platform, space_id, channel_id, thread_id FROM turns"
                "  WHERE platform = ? AND (user_id = ? OR answered_for = ?))",
                (platform, user_id, user_id),
            )
            handoffs = await run(  # before their escalations lose the asker
                "DELETE FROM handoff_outbox WHERE escalation_id IN"
                " (SELECT id FROM escalations WHERE platform = ? AND user_id = ?)"
            )
            return ForgetReport(
                messages=await run("DELETE FROM turns WHERE platform = ? AND user_id = ?"),
                answers=await run("DELETE FROM turns WHERE platform = ? AND answered_for = ?"),
                summaries=summaries,
                links=await run("DELETE FROM identity_links WHERE platform = ? AND user_id = ?"),
                feedback=await run(
                    "DELETE FROM feedback WHERE user_id = ? AND reply_id NOT IN"
                    " (SELECT reply_id FROM replies WHERE platform <> ?)",
                    (user_id, platform),
                ),
                replies=await run("UPDATE replies SET user_id = NULL WHERE platform = ? AND user_id = ?"),
                escalations=await run(
                    "UPDATE escalations SET user_id = '', summary = '' WHERE platform = ? AND user_id = ?"
                ),
                answer_records=await run("DELETE FROM answer_records WHERE platform = ? AND user_id = ?"),
                handoffs=handoffs,
                solved_threads=await run(
                    "UPDATE solved_threads SET solved_by = '', message_id = ''"
                    " WHERE platform = ? AND solved_by = ?"
                ),
            )

    # What each answer did, and the KB drafts (bot.quality).

    async def answers_since(self, since: datetime, limit: int) -> list[AnswerRecord]:
        rows = await self._read(_ANSWERS_SINCE, (to_db_time(since), max(0, limit)))
        return [quality.answer_record(row, from_db_time) for row in rows]

    async def save_kb_draft(
        self, ref: ThreadRef, title: str, question: str, body: str, drafted_by: str, made_with: str
    ) -> KbDraft:
        now = to_db_time(self._now())
        params = (*thread_params(ref), title, question, body, drafted_by, made_with, now, now)

        def work(db: sqlite3.Connection) -> sqlite3.Row:
            row: sqlite3.Row = db.execute(_SAVE_DRAFT, params).fetchone()
            return row

        return quality.kb_draft(await self._run(work), from_db_time)

    async def kb_drafts(self, status: str, limit: int) -> list[KbDraft]:
        rows = await self._read(
            "SELECT * FROM kb_drafts WHERE status = ? ORDER BY updated_at DESC, id DESC LIMIT ?",
            (status, max(0, limit)),
        )
        return [quality.kb_draft(row, from_db_time) for row in rows]

    async def kb_draft(self, draft_id: int) -> KbDraft | None:
        rows = await self._read("SELECT * FROM kb_drafts WHERE id = ?", (draft_id,))
        return quality.kb_draft(rows[0], from_db_time) if rows else None

    async def edit_kb_draft(self, draft_id: int, title: str, question: str, body: str) -> KbDraft | None:
        return await self._change_draft(
            "UPDATE kb_drafts SET title = ?, question = ?, body = ?, updated_at = ?"
            " WHERE id = ? AND status = 'draft' RETURNING *",
            (title, question, body, to_db_time(self._now()), draft_id),
        )

    async def decide_kb_draft(
        self, draft_id: int, status: str, visibility: str | None, decided_by: str
    ) -> KbDraft | None:
        now = to_db_time(self._now())
        return await self._change_draft(
            "UPDATE kb_drafts SET status = ?, visibility = ?, decided_by = ?, decided_at = ?, updated_at = ?"
            " WHERE id = ? AND status = 'draft' RETURNING *",
            (status, visibility, decided_by, now, now, draft_id),
        )

    async def _change_draft(self, sql: str, params: Sequence[Any]) -> KbDraft | None:
        def work(db: sqlite3.Connection) -> sqlite3.Row | None:
            row: sqlite3.Row | None = db.execute(sql, params).fetchone()
            return row

        row = await self._run(work)
        return None if row is None else quality.kb_draft(row, from_db_time)

    # Paused channels.

    async def pause_channel(self, platform: str, space_id: str, channel_id: str, paused_by: str) -> None:
        await self._write_one(
            "INSERT INTO paused_channels (platform, space_id, channel_id, paused_by, paused_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (platform, space_id, channel_id) DO NOTHING",
            (platform, space_id, channel_id, paused_by, to_db_time(self._now())),
        )

    async def resume_channel(self, platform: str, space_id: str, channel_id: str) -> bool:
        cursor = await self._write_one(
            "DELETE FROM paused_channels WHERE platform = ? AND space_id = ? AND channel_id = ?",
            (platform, space_id, channel_id),
        )
        return cursor.rowcount > 0

    async def is_paused(self, platform: str, space_id: str, channel_id: str) -> bool:
        rows = await self._read(
            "SELECT 1 FROM paused_channels WHERE platform = ? AND space_id = ? AND channel_id = ?",
            (platform, space_id, channel_id),
        )
        return bool(rows)

    # Solved threads.

    async def mark_solved(self, ref: ThreadRef, solved_by: str, message_id: str) -> bool:
        cursor = await self._write_one(
            "INSERT INTO solved_threads (platform, space_id, channel_id, thread_id, solved_by, message_id,"
            " solved_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (platform, space_id, channel_id, thread_id) DO NOTHING",
            (*thread_params(ref), solved_by, message_id, to_db_time(self._now())),
        )
        return cursor.rowcount > 0

    async def solved_since(self, since: datetime) -> list[ThreadRef]:
        rows = await self._read(
            "SELECT platform, space_id, channel_id, thread_id FROM solved_threads WHERE solved_at >= ?"
            " ORDER BY solved_at",
            (to_db_time(since),),
        )
        return [ThreadRef(*row) for row in rows]

    # Pending replies.

    async def add_pending_reply(self, pending: PendingReply) -> None:
        """Record a reply in flight; adding the same ``reply_id`` again replaces the record."""
        await self._write_one(
            "INSERT INTO pending_replies (reply_id, platform, space_id, channel_id, thread_id,"
            " message_ref, started_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (reply_id) DO UPDATE SET platform = excluded.platform,"
            " space_id = excluded.space_id, channel_id = excluded.channel_id,"
            " thread_id = excluded.thread_id, message_ref = excluded.message_ref,"
            " started_at = excluded.started_at",
            (
                pending.reply_id,
                *thread_params(pending.ref),
                pending.message_ref,
                to_db_time(pending.started_at),
            ),
        )

    async def settle_pending_reply(self, reply_id: str) -> None:
        """Forget the reply; settling an unknown or already settled reply is a no-op."""
        await self._write_one(_SETTLE_PENDING, (reply_id,))

    async def pending_replies(self, platform: str) -> list[PendingReply]:
        """Unsettled replies of ``platform``, oldest first."""
        rows = await self._read(
            "SELECT * FROM pending_replies WHERE platform = ? ORDER BY started_at, reply_id", (platform,)
        )
        return [mapping.pending_reply(row, from_db_time) for row in rows]

    # Knowledge articles (bot.store.knowledge).

    async def replace_articles(
        self, source: str, articles: Sequence[SourceArticle], skipped: int
    ) -> ArticleDiff:
        now = to_db_time(self._now())

        def work(db: sqlite3.Connection) -> tuple[knowledge.Plan, int]:
            plan, seq = _replace_source(db, source, articles, now)
            db.execute(_SOURCE_SUCCESS, knowledge.status_params(source, now, plan, skipped))
            return plan, seq

        plan, seq = await self._run(work)
        return ArticleDiff(
            tuple(item.key for item in plan.added),
            tuple(item.key for item in plan.updated),
            plan.removed,
            seq,
        )

    async def record_sync_failure(self, source: str, error: str) -> None:
        await self._write_one(
            _SOURCE_FAILURE, (source, to_db_time(self._now()), knowledge.error_text(error), source)
        )

    async def source_articles(self, source: str) -> dict[str, SourceArticle]:
        rows = await self._read(
            "SELECT * FROM kb_articles WHERE source = ? AND removed = 0 ORDER BY key", (source,)
        )
        return {row["key"]: knowledge.article(row) for row in rows}

    async def retire_sources(self, keep: Collection[str], idle_for: timedelta) -> dict[str, int]:
        now = self._now()

        def work(db: sqlite3.Connection) -> dict[str, int]:
            retired = db.execute(
                "DELETE FROM kb_source_status WHERE last_attempt_at < ?"
                " AND source NOT IN (SELECT value FROM json_each(?)) RETURNING source",
                (to_db_time(now - idle_for), json.dumps(sorted(keep))),
            ).fetchall()
            return {
                row["source"]: len(_replace_source(db, row["source"], (), to_db_time(now))[0].removed)
                for row in retired
            }

        return await self._run(work)

    async def forget_removals(self, older_than: timedelta) -> int:
        cutoff = to_db_time(self._now() - older_than)

        def work(db: sqlite3.Connection) -> int:
            db.execute(
                "UPDATE kb_sequence SET pruned_through = max(pruned_through, coalesce("
                " (SELECT max(seq) FROM kb_articles WHERE removed = 1 AND updated_at < ?), 0)) WHERE id = 1",
                (cutoff,),
            )
            return db.execute(
                "DELETE FROM kb_articles WHERE removed = 1 AND updated_at < ?", (cutoff,)
            ).rowcount

        return await self._run(work)

    async def article_changes(self, after: int, limit: int) -> ChangeBatch:
        limit = knowledge.check_limit(limit)
        rows = await self._read(
            "SELECT * FROM kb_articles WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)
        )
        [sequence] = await self._read(knowledge.READ_SEQUENCE)  # after the rows
        return knowledge.change_batch(rows, after, limit, sequence)

    async def source_statuses(self) -> list[SourceStatus]:
        rows = await self._read("SELECT * FROM kb_source_status ORDER BY source")
        return [knowledge.source_status(row, from_db_time) for row in rows]

    # One answer's trips (Answering): several statements, one transaction, one trip each.

    async def take_turn(
        self, ref: ThreadRef, turn: Turn, load: int, tokens_since: datetime | None = None
    ) -> ThreadState:
        thread = thread_params(ref)
        turn_row, limit = turn_params(ref, turn, to_db_time), _load_limit(load)
        space = None if tokens_since is None else (ref.platform, ref.space_id, to_db_time(tokens_since))

        def work(db: sqlite3.Connection) -> tuple[bool, list[sqlite3.Row], sqlite3.Row | None, int | None]:
            db.execute(_APPEND_TURN, turn_row)
            escalated = db.execute(_IS_ESCALATED, thread).fetchone() is not None
            turns = db.execute(_LOAD_TURNS, (*thread, limit)).fetchall()
            summary = db.execute(_LOAD_SUMMARY, thread).fetchone()
            tokens = None if space is None else int(db.execute(_SPACE_TOKENS, space).fetchone()["tokens"])
            return escalated, turns, summary, tokens

        escalated, rows, summary, tokens = await self._run(work)
        return ThreadState(
            escalated,
            [mapping.turn(row, from_db_time) for row in rows],
            None if summary is None else mapping.thread_summary(summary, from_db_time),
            tokens,
        )

    async def finish_reply(
        self,
        record: ReplyRecord,
        turn: Turn,
        usage: UsageRecord | None = None,
        answer: AnswerRecord | None = None,
    ) -> None:
        statements = [
            (_APPEND_TURN, turn_params(record.ref, turn, to_db_time)),
            (_RECORD_REPLY, reply_params(record, to_db_time)),
            *([(_RECORD_USAGE, usage_params(usage, to_db_time))] if usage is not None else []),
            *([(_RECORD_ANSWER, quality.answer_params(answer, to_db_time))] if answer is not None else []),
            (_SETTLE_PENDING, (record.reply_id,)),
        ]

        def work(db: sqlite3.Connection) -> None:
            for sql, params in statements:
                db.execute(sql, params)

        await self._run(work)


__all__ = ["DEFAULT_BUSY_TIMEOUT", "DEFAULT_EVENT_RETENTION", "MEMORY", "SQLiteStore", "apply_migrations"]
