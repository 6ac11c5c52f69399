"""The Store on PostgreSQL through asyncpg: the scale-out store, shared by every instance
(docs/architecture.md §8).

A connection pool (``asyncpg.create_pool``) serves the coroutines of one process; several processes share
the database. Each method is one statement, so PostgreSQL's own atomicity is the whole concurrency story:
``claim_event`` is ``INSERT … ON CONFLICT DO NOTHING`` and the row count says who won, across every
connection of every instance.

Migrations (``bot.store.migrations.postgres``) are applied on open, in order, each in its own transaction
together with its ``schema_migrations`` row, while the opening connection holds a session advisory lock
(``pg_advisory_lock``) keyed by the schema: instances that start together wait for each other and every
migration runs once.

Datetimes are ``TIMESTAMPTZ`` and come back timezone-aware (UTC); naive datetimes are refused with
``ValueError``, as in SQLite. Text that PostgreSQL cannot store (the NUL character) is replaced by U+FFFD
in the free text of turns and escalations, so a strange message never fails an answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar
from urllib.parse import unquote, urlsplit

import asyncpg

from bot.kb.sources.base import SourceArticle
from bot.store import knowledge, mapping, quality
from bot.store.mapping import reply_params, thread_params, turn_params, usage_params
from bot.store.migrations import Migration, MigrationError, check_migrations, check_recorded
from bot.store.migrations.postgres import MIGRATIONS
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

DEFAULT_POOL_MIN_SIZE = 1
DEFAULT_POOL_MAX_SIZE = 10
DEFAULT_CONNECT_TIMEOUT = timedelta(seconds=10)
DEFAULT_EVENT_RETENTION = timedelta(days=7)
_PRUNE_INTERVAL = timedelta(hours=1)
DEFAULT_RETRY_FOR = timedelta(seconds=10)
"""How long a statement is tried again while the server is out of reach (a restart, a failover)."""
_MIGRATION_LOCK = "supportbot.schema_migrations:"
"""Prefix of the advisory lock key; the schema name follows, so schemas migrate independently."""

Clock = Callable[[], datetime]
T = TypeVar("T")
if TYPE_CHECKING:  # asyncpg's classes are generic in its stubs only
    Pool: TypeAlias = asyncpg.Pool[asyncpg.Record]
    Connection: TypeAlias = (
        asyncpg.Connection[asyncpg.Record] | asyncpg.pool.PoolConnectionProxy[asyncpg.Record]
    )


def _utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    """``value`` in UTC; ``ValueError`` for a naive datetime (its time zone would be a guess)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} given to the store; pass a timezone-aware one")
    return value.astimezone(UTC)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _clean(text: str) -> str:
    """PostgreSQL text cannot hold NUL; keep everything else as it is."""
    return text.replace("\x00", "\ufffd")


def _rowcount(status: str) -> int:
    """The row count of a command status such as ``INSERT 0 1``, ``UPDATE 2`` or ``DELETE 0``."""
    return int(status.rsplit(" ", 1)[-1])


_THREAD_WHERE = "platform = $1 AND space_id = $2 AND channel_id = $3 AND thread_id = $4"

# Statements used both on their own and in an answer's grouped transactions (``Answering``).
_APPEND_TURN = (
    "INSERT INTO turns (platform, space_id, channel_id, thread_id, role, author, text,"
    " message_id, sent_at, exchange, answered_for, user_id)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    " ON CONFLICT (platform, space_id, channel_id, thread_id, message_id)"
    " WHERE message_id <> ''"
    " DO UPDATE SET role = excluded.role, author = excluded.author, text = excluded.text,"
    " sent_at = excluded.sent_at, exchange = excluded.exchange,"
    " answered_for = excluded.answered_for, user_id = excluded.user_id"
)
_LOAD_TURNS = (
    "SELECT role, author, text, message_id, sent_at, exchange, answered_for, user_id, id FROM ("
    "  SELECT role, author, text, message_id, sent_at, exchange, answered_for, user_id, id FROM turns"
    f"  WHERE {_THREAD_WHERE} ORDER BY sent_at DESC, id DESC LIMIT $5"
    ") newest ORDER BY sent_at, id"
)
_LOAD_SUMMARY = (
    "SELECT text, covers_until_message_id, covers_until_time, updated_at FROM thread_summaries"
    f" WHERE {_THREAD_WHERE}"
)
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
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    " ON CONFLICT (platform, space_id, channel_id, thread_id, reply_id, model, at) DO NOTHING"
)
_RECORD_REPLY = (
    "INSERT INTO replies (reply_id, platform, space_id, channel_id, thread_id, started_at,"
    " first_text_ms, failed, fallback, limited, user_id)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    " ON CONFLICT (reply_id) DO UPDATE SET platform = excluded.platform,"
    " space_id = excluded.space_id, channel_id = excluded.channel_id,"
    " thread_id = excluded.thread_id, started_at = excluded.started_at,"
    " first_text_ms = excluded.first_text_ms, failed = excluded.failed,"
    " fallback = excluded.fallback, limited = excluded.limited, user_id = excluded.user_id"
)
_SETTLE_PENDING = "DELETE FROM pending_replies WHERE reply_id = $1"
_SPACE_TOKENS = (
    "SELECT COALESCE(SUM(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens), 0)"
    " FROM usage WHERE platform = $1 AND space_id = $2 AND at >= $3"
)
_RECORD_ANSWER = (
    "INSERT INTO answer_records (reply_id, platform, space_id, channel_id, thread_id, message_id, user_id,"
    " at, question, answer, searches, cited, nothing_found, fallback)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    " ON CONFLICT (reply_id) DO UPDATE SET message_id = excluded.message_id, user_id = excluded.user_id,"
    " at = excluded.at, question = excluded.question, answer = excluded.answer,"
    " searches = excluded.searches, cited = excluded.cited, nothing_found = excluded.nothing_found,"
    " fallback = excluded.fallback"
)
# An answer's votes, and whether its thread was escalated at or after it, read with it.
_ANSWERS_SINCE = (
    "SELECT a.*,"
    " (SELECT COUNT(*) FROM feedback f WHERE f.reply_id = a.reply_id AND f.helpful) AS helpful_votes,"
    " (SELECT COUNT(*) FROM feedback f WHERE f.reply_id = a.reply_id AND NOT f.helpful) AS not_helpful_votes,"
    " EXISTS (SELECT 1 FROM escalations e WHERE e.platform = a.platform AND e.space_id = a.space_id"
    "  AND e.channel_id = a.channel_id AND e.thread_id = a.thread_id AND e.opened_at >= a.at) AS escalated"
    " FROM answer_records a WHERE a.at >= $1 ORDER BY a.at DESC, a.reply_id LIMIT $2"
)
_SAVE_DRAFT = (
    "INSERT INTO kb_drafts (platform, space_id, channel_id, thread_id, title, question, body, drafted_by,"
    " made_with, created_at, updated_at, status)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'draft')"
    " ON CONFLICT (platform, space_id, channel_id, thread_id) WHERE status = 'draft'"
    " DO UPDATE SET title = excluded.title, question = excluded.question, body = excluded.body,"
    " drafted_by = excluded.drafted_by, made_with = excluded.made_with, updated_at = excluded.updated_at"
    " RETURNING *"
)


# Knowledge articles: a written article takes the change number given; a removed one keeps its row.
_UPSERT_ARTICLE = (
    "INSERT INTO kb_articles (source, key, title, url, visibility, tags, body, locale, validator,"
    " content_hash, updated_at, seq, removed)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, FALSE)"
    " ON CONFLICT (source, key) DO UPDATE SET title = excluded.title, url = excluded.url,"
    " visibility = excluded.visibility, tags = excluded.tags, body = excluded.body,"
    " locale = excluded.locale, validator = excluded.validator, content_hash = excluded.content_hash,"
    " updated_at = excluded.updated_at, seq = excluded.seq, removed = FALSE"
)
_REMOVE_ARTICLE = (
    "UPDATE kb_articles SET removed = TRUE, body = '', tags = '[]', validator = NULL, content_hash = '',"
    " seq = $1, updated_at = $2 WHERE source = $3 AND key = $4"
)
_REVALIDATE_ARTICLE = "UPDATE kb_articles SET validator = $1 WHERE source = $2 AND key = $3"
_SOURCE_SUCCESS = (
    "INSERT INTO kb_source_status (source, last_attempt_at, last_success_at, last_error, articles,"
    " added, updated, removed, skipped) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    " ON CONFLICT (source) DO UPDATE SET last_attempt_at = excluded.last_attempt_at,"
    " last_success_at = excluded.last_success_at, last_error = NULL, articles = excluded.articles,"
    " added = excluded.added, updated = excluded.updated, removed = excluded.removed,"
    " skipped = excluded.skipped"
)
_SOURCE_FAILURE = (
    "INSERT INTO kb_source_status (source, last_attempt_at, last_success_at, last_error, articles,"
    " added, updated, removed, skipped) VALUES ($1, $2, NULL, $3,"
    " (SELECT COUNT(*) FROM kb_articles WHERE source = $1 AND NOT removed), 0, 0, 0, 0)"
    " ON CONFLICT (source) DO UPDATE SET last_attempt_at = excluded.last_attempt_at,"
    " last_error = excluded.last_error"
)


# Locking the sequence's row first makes syncs take turns: the change numbers become visible in their
# order, so a follower that has seen number n has seen every change before it.
_LOCK_SEQUENCE = "SELECT seq FROM kb_sequence WHERE id = 1 FOR UPDATE"


async def _replace_source(
    conn: Connection, source: str, articles: Sequence[SourceArticle], now: datetime
) -> tuple[knowledge.Plan, int]:
    """Make ``articles`` the source's whole content inside the caller's transaction, each change taking
    the next number; the plan and the store's change number after it."""
    seq = int(await conn.fetchval(_LOCK_SEQUENCE))
    rows = await conn.fetch(
        "SELECT key, content_hash, validator, removed FROM kb_articles WHERE source = $1", source
    )
    plan = knowledge.plan_replace(knowledge.current_by_key(rows), articles)
    written = (*plan.added, *plan.updated)
    await conn.executemany(
        _UPSERT_ARTICLE,
        [knowledge.article_params(source, item, seq + n, now, _clean) for n, item in enumerate(written, 1)],
    )
    await conn.executemany(
        _REMOVE_ARTICLE,
        [(seq + n, now, source, key) for n, key in enumerate(plan.removed, len(written) + 1)],
    )
    await conn.executemany(
        _REVALIDATE_ARTICLE, [(item.validator, source, item.key) for item in plan.revalidated]
    )
    seq += plan.changes
    await conn.execute("UPDATE kb_sequence SET seq = $1 WHERE id = 1", seq)
    return plan, seq


def _load_limit(limit: int | None) -> int | None:
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0 or None, not {limit}")
    return limit  # LIMIT NULL: no limit


async def apply_migrations(conn: Connection, migrations: Sequence[Migration]) -> list[int]:
    """Bring the connection's schema to the newest version in ``migrations``; return the versions applied now.

    Runs under a session advisory lock keyed by the current schema, so that instances starting together
    migrate one after the other; each migration and its ``schema_migrations`` row commit together, so a
    failed one leaves no trace and is retried on the next open. Raises ``MigrationError`` for a database
    written by a newer build or a released migration that was edited (see ``check_recorded``).
    """
    check_migrations(migrations)
    schema = await conn.fetchval("SELECT current_schema()")
    if schema is None:
        path = await conn.fetchval("SHOW search_path")
        raise MigrationError(
            f"no schema on the search_path ({path}) exists; create it first (CREATE SCHEMA …) or fix the URL"
        )
    key = await conn.fetchval("SELECT hashtextextended($1, 0)", _MIGRATION_LOCK + schema)
    await conn.execute("SELECT pg_advisory_lock($1)", key)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
        )
        rows = await conn.fetch("SELECT version, name FROM schema_migrations ORDER BY version")
        check_recorded([(row["version"], row["name"]) for row in rows], migrations)
        already = {row["version"] for row in rows}
        applied_now: list[int] = []
        for migration in migrations:
            if migration.version in already:
                continue
            async with conn.transaction():
                for statement in migration.statements:
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    _utcnow(),
                )
            applied_now.append(migration.version)
            logger.info("applied schema migration %d (%s)", migration.version, migration.name)
        return applied_now
    finally:
        if not conn.is_closed():
            await conn.execute("SELECT pg_advisory_unlock($1)", key)


_LOST_CONNECTION = (
    asyncpg.PostgresConnectionError,  # the connection broke, or none could be made
    asyncpg.exceptions.OperatorInterventionError,  # the server is shutting down or starting up
    asyncpg.exceptions.InternalClientError,  # a connection left mid-operation when it broke
    asyncpg.InterfaceError,  # "connection is closed" and the like
    OSError,  # connection refused while the server restarts
)


class _Statements:
    """The pool's one-statement calls, each tried again while the server is out of reach.

    A connection the server dropped (a restart, ``pg_terminate_backend``, a failover) fails the statement
    running on it; the pool replaces the connection, so the statement is sent again on a fresh one, for up
    to ``retry_for``. It may have been committed before its connection broke, so every write may run twice:
    upserts, deletes, and inserts that a unique key makes idempotent (audit and usage rows).
    """

    def __init__(self, pool: Pool, retry_for: timedelta, closed: Callable[[], bool]) -> None:
        self._pool = pool
        self._retry_for = retry_for.total_seconds()
        self._closed = closed

    async def execute(self, sql: str, *args: Any) -> str:
        return await self._retry(lambda: self._pool.execute(sql, *args))

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return await self._retry(lambda: self._pool.fetch(sql, *args))

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        return await self._retry(lambda: self._pool.fetchrow(sql, *args))

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self._retry(lambda: self._pool.fetchval(sql, *args))

    async def transaction(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """``work`` on one connection in one transaction, all of it sent again on a fresh connection while
        the server is out of reach (so ``work`` must be safe to run twice, as every single write is)."""

        async def attempt() -> T:
            async with self._pool.acquire() as conn, conn.transaction():
                return await work(conn)

        return await self._retry(attempt)

    async def _retry(self, statement: Callable[[], Awaitable[T]]) -> T:
        deadline = time.monotonic() + self._retry_for
        delay = 0.05
        while True:
            try:
                return await statement()
            except asyncpg.DataError:
                raise  # the statement's own arguments: sending it again cannot help
            except _LOST_CONNECTION as exc:
                if self._closed() or time.monotonic() + delay > deadline:
                    raise
                logger.warning("store: lost the database connection (%s); trying again", type(exc).__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)


class PostgresStore:
    """The ``Store`` protocol on an asyncpg pool. Create it with ``await PostgresStore.open(dsn)``."""

    def __init__(
        self,
        pool: Pool,
        *,
        clock: Clock = _utcnow,
        event_retention: timedelta = DEFAULT_EVENT_RETENTION,
        retry_for: timedelta = DEFAULT_RETRY_FOR,
    ) -> None:
        """Wrap an open pool on a migrated schema; use ``open`` instead."""
        self._pool = pool
        self._db = _Statements(pool, retry_for, lambda: self._closed)
        self._clock = clock
        self._event_retention = event_retention
        self._closed = False
        self._next_prune: datetime | None = None  # prune on the first claim after open

    @classmethod
    async def open(
        cls,
        dsn: str,
        *,
        min_size: int = DEFAULT_POOL_MIN_SIZE,
        max_size: int = DEFAULT_POOL_MAX_SIZE,
        connect_timeout: timedelta = DEFAULT_CONNECT_TIMEOUT,
        event_retention: timedelta = DEFAULT_EVENT_RETENTION,
        clock: Clock = _utcnow,
        migrations: Sequence[Migration] = MIGRATIONS,
    ) -> PostgresStore:
        """Connect a pool to ``dsn`` (a ``postgresql://`` URL asyncpg understands) and migrate the schema.

        Query parameters asyncpg does not know become server settings, so ``?search_path=tenant_a`` puts
        the tables in schema ``tenant_a`` (which must exist). Raises ``OSError`` or ``TimeoutError`` when
        the server cannot be reached, ``asyncpg.PostgresError`` when it refuses (authentication, unknown
        database) and ``MigrationError`` when the schema cannot be used.
        """
        if not 0 <= min_size <= max_size or max_size < 1:
            raise ValueError(f"pool sizes need 0 <= min <= max and max >= 1, not {min_size}..{max_size}")
        pool: Pool = await asyncpg.create_pool(
            dsn, min_size=min_size, max_size=max_size, timeout=connect_timeout.total_seconds()
        )
        try:
            async with pool.acquire() as conn:
                await apply_migrations(conn, migrations)
        except BaseException:
            pool.terminate()
            raise
        return cls(pool, clock=clock, event_retention=event_retention)

    def _now(self) -> datetime:
        return aware(self._clock())

    async def close(self) -> None:
        """Close the pool once the operations in progress are done; closing twice is harmless."""
        if self._closed:
            return
        self._closed = True
        await self._pool.close()

    # Dedup.

    async def claim_event(self, event_id: str) -> bool:
        """Atomic across connections and instances: the primary key decides, the row count tells who won.

        Ids older than ``event_retention`` are pruned (at most once per hour per process).
        """
        if not event_id:
            raise ValueError("event_id must not be empty")
        now = self._now()
        # The conflict clause counts a row this very call wrote as its own: if the connection broke after
        # the commit, the insert is sent again and finds its claim (the same time, to the microsecond).
        status = await self._db.execute(
            "INSERT INTO processed_events (event_id, claimed_at) VALUES ($1, $2)"
            " ON CONFLICT (event_id) DO UPDATE SET claimed_at = excluded.claimed_at"
            " WHERE processed_events.claimed_at = excluded.claimed_at",
            event_id,
            now,
        )
        if self._next_prune is None or now >= self._next_prune:
            self._next_prune = now + _PRUNE_INTERVAL
            await self._db.execute(
                "DELETE FROM processed_events WHERE claimed_at < $1", now - self._event_retention
            )
        return _rowcount(status) == 1

    # Conversations.

    async def append_turn(self, ref: ThreadRef, turn: Turn) -> None:
        """Store ``turn``; a turn with the same non-empty ``message_id`` in the thread is replaced."""
        await self._db.execute(_APPEND_TURN, *turn_params(ref, turn, aware, _clean))

    async def load_turns(self, ref: ThreadRef, limit: int | None = None) -> list[Turn]:
        """The newest ``limit`` turns (all when None), oldest first, ordered by ``sent_at``."""
        rows = await self._db.fetch(_LOAD_TURNS, *thread_params(ref), _load_limit(limit))
        return [mapping.turn(row, _utc) for row in rows]

    async def clear_turns(self, ref: ThreadRef) -> None:
        """Forget the thread's turns and its summary (in one transaction)."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(f"DELETE FROM turns WHERE {_THREAD_WHERE}", *thread_params(ref))
            await conn.execute(f"DELETE FROM thread_summaries WHERE {_THREAD_WHERE}", *thread_params(ref))

    # Thread summaries.

    async def save_summary(
        self, ref: ThreadRef, text: str, covers_until_message_id: str, covers_until_time: datetime
    ) -> None:
        """Keep ``text`` as the thread's summary, replacing the one before."""
        await self._db.execute(
            "INSERT INTO thread_summaries (platform, space_id, channel_id, thread_id, text,"
            " covers_until_message_id, covers_until_time, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            " ON CONFLICT (platform, space_id, channel_id, thread_id) DO UPDATE SET"
            " text = excluded.text, covers_until_message_id = excluded.covers_until_message_id,"
            " covers_until_time = excluded.covers_until_time, updated_at = excluded.updated_at",
            *thread_params(ref),
            _clean(text),
            covers_until_message_id,
            aware(covers_until_time),
            self._now(),
        )

    async def load_summary(self, ref: ThreadRef) -> ThreadSummary | None:
        row = await self._db.fetchrow(_LOAD_SUMMARY, *thread_params(ref))
        if row is None:
            return None
        return mapping.thread_summary(row, _utc)

    # Identity links.

    async def link_identity(self, platform: str, user_id: str, customer_id: str) -> None:
        """Link the user to ``customer_id``, replacing an earlier link."""
        await self._db.execute(
            "INSERT INTO identity_links (platform, user_id, customer_id, linked_at) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (platform, user_id) DO UPDATE SET"
            " customer_id = excluded.customer_id, linked_at = excluded.linked_at",
            platform,
            user_id,
            customer_id,
            self._now(),
        )

    async def unlink_identity(self, platform: str, user_id: str) -> bool:
        """Remove the link; True when there was one."""
        status = await self._db.execute(
            "DELETE FROM identity_links WHERE platform = $1 AND user_id = $2", platform, user_id
        )
        return _rowcount(status) > 0

    async def customer_for(self, platform: str, user_id: str) -> str | None:
        value = await self._db.fetchval(
            "SELECT customer_id FROM identity_links WHERE platform = $1 AND user_id = $2", platform, user_id
        )
        return None if value is None else str(value)

    # Usage and audit.

    async def record_usage(self, record: UsageRecord) -> None:
        await self._db.execute(_RECORD_USAGE, *usage_params(record, aware))

    async def usage_since(self, since: datetime) -> list[UsageRecord]:
        """Usage rows at or after ``since``, oldest first."""
        rows = await self._db.fetch("SELECT * FROM usage WHERE at >= $1 ORDER BY at, id", aware(since))
        return [mapping.usage_record(row, _utc) for row in rows]

    async def tokens_used_since(self, platform: str, space_id: str, since: datetime) -> int:
        """All tokens (input, cache read, cache write, output) of the space's usage at or after ``since``."""
        value = await self._db.fetchval(_SPACE_TOKENS, platform, space_id, aware(since))
        return int(value)

    async def record_tool_call(self, record: AuditRecord) -> None:
        await self._db.execute(
            "INSERT INTO tool_calls (at, platform, user_id, principal, thread_key, tool, args_digest,"
            " allowed, outcome, latency_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            " ON CONFLICT (at, thread_key, tool, args_digest) DO NOTHING",
            aware(record.at),
            record.platform,
            record.user_id,
            record.principal,
            record.thread_key,
            record.tool,
            record.args_digest,
            record.allowed,
            record.outcome,
            record.latency_ms,
        )

    async def tool_calls(self, limit: int = 100) -> list[AuditRecord]:
        """The newest ``limit`` audit rows, newest first (by ``at``, then by insertion)."""
        if limit < 0:
            raise ValueError(f"limit must be >= 0, not {limit}")
        rows = await self._db.fetch("SELECT * FROM tool_calls ORDER BY at DESC, id DESC LIMIT $1", limit)
        return [mapping.audit_record(row, _utc) for row in rows]

    # Lead actions.

    async def record_lead_action(self, action: LeadAction) -> None:
        # Two statements, each safe to send twice: the insert is kept once, the prune is idempotent.
        await self._db.execute(
            "INSERT INTO lead_actions (at, platform, space_id, channel_id, user_id, action, argument)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (at, platform, space_id, user_id, action) DO NOTHING",
            aware(action.at),
            action.platform,
            action.space_id,
            action.channel_id,
            action.user_id,
            action.action,
            _clean(action.argument[:LEAD_ACTION_ARGUMENT_CHARS]),
        )
        await self._db.execute(
            "DELETE FROM lead_actions WHERE id <="
            " (SELECT id FROM lead_actions ORDER BY id DESC LIMIT 1 OFFSET $1)",
            LEAD_ACTIONS_KEPT,
        )

    async def lead_actions(self, platform: str, space_id: str, limit: int = 100) -> list[LeadAction]:
        if limit < 0:
            raise ValueError(f"limit must be >= 0, not {limit}")
        rows = await self._db.fetch(
            "SELECT * FROM lead_actions WHERE platform = $1 AND space_id IN ($2, '')"
            " ORDER BY at DESC, id DESC LIMIT $3",
            platform,
            space_id,
            limit,
        )
        return [mapping.lead_action(row, _utc) for row in rows]

    # Escalations.

    async def open_escalation(self, ref: ThreadRef, user_id: str, summary: str) -> Escalation | None:
        """Open an escalation in the thread; None when one is open there already (a unique index on the
        open ones decides, so two requests at the same moment, on any instance, open one)."""
        opened_at = self._now()
        summary = _clean(summary)
        escalation_id = await self._db.fetchval(
            "INSERT INTO escalations (platform, space_id, channel_id, thread_id, user_id, summary,"
            " opened_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (platform, space_id, channel_id, thread_id) WHERE resolved_at IS NULL DO NOTHING"
            " RETURNING id",
            *thread_params(ref),
            user_id,
            summary,
            opened_at,
        )
        if escalation_id is None:
            return None
        return Escalation(
            id=int(escalation_id), ref=ref, user_id=user_id, summary=summary, opened_at=opened_at
        )

    async def resolve_escalations(self, ref: ThreadRef, resolved_by: str) -> int:
        """Resolve every open escalation of the thread; return how many were open."""
        status = await self._db.execute(
            "UPDATE escalations SET resolved_at = $5, resolved_by = $6"
            f" WHERE {_THREAD_WHERE} AND resolved_at IS NULL",
            *thread_params(ref),
            self._now(),
            resolved_by,
        )
        return _rowcount(status)

    async def open_escalations(self) -> list[Escalation]:
        """Open escalations, oldest first."""
        rows = await self._db.fetch(
            "SELECT * FROM escalations WHERE resolved_at IS NULL ORDER BY opened_at, id"
        )
        return [mapping.escalation(row, _utc) for row in rows]

    async def escalations_since(self, since: datetime) -> list[Escalation]:
        rows = await self._db.fetch(
            "SELECT * FROM escalations WHERE opened_at >= $1 ORDER BY opened_at, id", aware(since)
        )
        return [mapping.escalation(row, _utc) for row in rows]

    async def is_escalated(self, ref: ThreadRef) -> bool:
        value = await self._db.fetchval(_IS_ESCALATED, *thread_params(ref))
        return value is not None

    # The helpdesk outbox.

    async def enqueue_handoff(self, escalation_id: int, ref: ThreadRef, target: str, payload: str) -> None:
        now = self._now()
        await self._db.execute(
            "INSERT INTO handoff_outbox (escalation_id, target, platform, space_id, channel_id, thread_id,"
            " payload, created_at, attempts, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $8)"
            " ON CONFLICT (escalation_id, target) DO NOTHING",
            escalation_id,
            target,
            *thread_params(ref),
            _clean(payload),
            now,
        )

    async def due_handoffs(self, now: datetime, limit: int) -> list[HandoffDelivery]:
        rows = await self._db.fetch(
            "SELECT * FROM handoff_outbox WHERE delivered_at IS NULL AND next_attempt_at <= $1"
            " ORDER BY next_attempt_at, id LIMIT $2",
            aware(now),
            limit,
        )
        return [mapping.handoff_delivery(row) for row in rows]

    async def handoff_failed(self, delivery_id: int, next_attempt_at: datetime, error: str) -> None:
        await self._db.execute(
            "UPDATE handoff_outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3"
            " WHERE id = $1",
            delivery_id,
            aware(next_attempt_at),
            _clean(error),
        )

    async def handoff_delivered(self, delivery_id: int, ticket_id: str | None, url: str | None) -> None:
        await self._db.execute(
            "UPDATE handoff_outbox SET attempts = attempts + 1, delivered_at = $2, last_error = NULL,"
            " ticket_id = $3, ticket_url = $4 WHERE id = $1",
            delivery_id,
            self._now(),
            ticket_id,
            url,
        )

    async def handoff_backlog(self) -> list[HandoffBacklog]:
        return [mapping.handoff_backlog(row, _utc) for row in await self._db.fetch(_HANDOFF_BACKLOG)]

    async def escalation(self, escalation_id: int) -> Escalation | None:
        row = await self._db.fetchrow("SELECT * FROM escalations WHERE id = $1", escalation_id)
        return mapping.escalation(row, _utc) if row is not None else None

    # Feedback.

    async def record_feedback(self, reply_id: str, user_id: str, helpful: bool) -> None:
        await self._db.execute(
            "INSERT INTO feedback (reply_id, user_id, helpful, at) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (reply_id, user_id) DO UPDATE SET helpful = excluded.helpful, at = excluded.at",
            reply_id,
            user_id,
            helpful,
            self._now(),
        )

    async def feedback_for(self, reply_id: str) -> dict[str, bool]:
        """Each voter's latest vote on the reply: user id → helpful."""
        rows = await self._db.fetch(
            "SELECT user_id, helpful FROM feedback WHERE reply_id = $1 ORDER BY user_id", reply_id
        )
        return {row["user_id"]: bool(row["helpful"]) for row in rows}

    async def feedback_since(self, since: datetime) -> list[FeedbackVote]:
        rows = await self._db.fetch(
            "SELECT * FROM feedback WHERE at >= $1 ORDER BY at, reply_id, user_id", aware(since)
        )
        return [mapping.feedback_vote(row, _utc) for row in rows]

    # Replies.

    async def record_reply(self, record: ReplyRecord) -> None:
        """Record an answer; recording the same ``reply_id`` again replaces the row."""
        await self._db.execute(_RECORD_REPLY, *reply_params(record, aware))

    async def replies_since(self, since: datetime) -> list[ReplyRecord]:
        rows = await self._db.fetch(
            "SELECT * FROM replies WHERE started_at >= $1 ORDER BY started_at, reply_id", aware(since)
        )
        return [mapping.reply_record(row, _utc) for row in rows]

    # The dashboard's links.

    async def use_dashboard_link(self, nonce: str, expires_at: datetime) -> bool:
        """The primary key decides and the row count tells who won; expired links' nonces are deleted."""
        if not nonce:
            raise ValueError("nonce must not be empty")
        now = self._now()
        await self._db.execute("DELETE FROM dashboard_links_used WHERE expires_at < $1", now)
        # As in claim_event: a statement sent again after its connection broke finds its own row (the same
        # opening time, to the microsecond) and still counts as the first use.
        status = await self._db.execute(
            "INSERT INTO dashboard_links_used (nonce, opened_at, expires_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (nonce) DO UPDATE SET opened_at = excluded.opened_at"
            " WHERE dashboard_links_used.opened_at = excluded.opened_at",
            nonce,
            now,
            aware(expires_at),
        )
        return _rowcount(status) == 1

    # Retention and forgetting (bot.privacy).

    async def prune(self, before: datetime, batch: int) -> PruneReport:
        """One bounded pass: each statement touches at most ``batch`` rows dated before ``before`` (each
        safe to send again)."""
        if batch < 1:
            raise ValueError(f"batch must be >= 1, not {batch}")
        cutoff = aware(before)

        async def run(sql: str) -> int:
            return _rowcount(await self._db.execute(sql, cutoff, batch))

        return PruneReport(
            turns=await run(
                "DELETE FROM turns WHERE id IN (SELECT id FROM turns WHERE sent_at < $1 LIMIT $2)"
            ),
            summaries=await run(
                "DELETE FROM thread_summaries WHERE ctid IN"
                " (SELECT ctid FROM thread_summaries WHERE covers_until_time < $1 LIMIT $2)"
            ),
            pending_replies=await run(
                "DELETE FROM pending_replies WHERE reply_id IN"
                " (SELECT reply_id FROM pending_replies WHERE started_at < $1 LIMIT $2)"
            ),
            tool_calls=await run(
                "DELETE FROM tool_calls WHERE id IN (SELECT id FROM tool_calls WHERE at < $1 LIMIT $2)"
            ),
            escalations=await run(
                "UPDATE escalations SET summary = '', user_id = '' WHERE id IN (SELECT id FROM escalations"
                " WHERE resolved_at < $1 AND (summary <> '' OR user_id <> '') LIMIT $2)"
            ),
            replies=await run(
                "UPDATE replies SET user_id = NULL WHERE reply_id IN (SELECT reply_id FROM replies"
                " WHERE started_at < $1 AND user_id IS NOT NULL LIMIT $2)"
            ),
            answer_records=await run(
                "DELETE FROM answer_records WHERE reply_id IN"
                " (SELECT reply_id FROM answer_records WHERE at < $1 LIMIT $2)"
            ),
            handoffs=await run(
                "DELETE FROM handoff_outbox WHERE id IN"
                " (SELECT id FROM handoff_outbox WHERE delivered_at < $1 LIMIT $2)"
            ),
            solved_threads=await run(
                "UPDATE solved_threads SET solved_by = '', message_id = '' WHERE ctid IN"
                " (SELECT ctid FROM solved_threads"
                "  WHERE solved_at < $1 AND (solved_by <> '' OR message_id <> '') LIMIT $2)"
            ),
        )

    async def forget_user(self, platform: str, user_id: str) -> ForgetReport:
        """One transaction on one connection: all of it or nothing."""
        async with self._pool.acquire() as conn, conn.transaction():

            async def run(sql: str, *args: Any) -> int:
                return _rowcount(await conn.execute(sql, *(args or (platform, user_id))))

            summaries = await run(
                "DELETE FROM thread_summaries WHERE (platform, space_id, channel_id, thread_id) IN"
                " (SELECT platform, space_id, channel_id, thread_id FROM turns"
                "  WHERE platform = $1 AND (user_id = $2 OR answered_for = $2))"
            )
            handoffs = await run(  # before their escalations lose the asker
                "DELETE FROM handoff_outbox WHERE escalation_id IN"
                " (SELECT id FROM escalations WHERE platform = $1 AND user_id = $2)"
            )
            return ForgetReport(
                messages=await run("DELETE FROM turns WHERE platform = $1 AND user_id = $2"),
                answers=await run("DELETE FROM turns WHERE platform = $1 AND answered_for = $2"),
                summaries=summaries,
                links=await run("DELETE FROM identity_links WHERE platform = $1 AND user_id = $2"),
                feedback=await run(
                    "DELETE FROM feedback WHERE user_id = $2 AND reply_id NOT IN"
                    " (SELECT reply_id FROM replies WHERE platform <> $1)"
                ),
                replies=await run("UPDATE replies SET user_id = NULL WHERE platform = $1 AND user_id = $2"),
                escalations=await run(
                    "UPDATE escalations SET user_id = '', summary = '' WHERE platform = $1 AND user_id = $2"
                ),
                answer_records=await run("DELETE FROM answer_records WHERE platform = $1 AND user_id = $2"),
                handoffs=handoffs,
                solved_threads=await run(
                    "UPDATE solved_threads SET solved_by = '', message_id = ''"
                    " WHERE platform = $1 AND solved_by = $2"
                ),
            )

    # What each answer did, and the KB drafts (bot.quality).

    async def answers_since(self, since: datetime, limit: int) -> list[AnswerRecord]:
        rows = await self._db.fetch(_ANSWERS_SINCE, aware(since), max(0, limit))
        return [quality.answer_record(row, _utc) for row in rows]

    async def save_kb_draft(
        self, ref: ThreadRef, title: str, question: str, body: str, drafted_by: str, made_with: str
    ) -> KbDraft:
        """Sent again after its connection broke, the upsert finds the waiting draft it wrote."""
        now = self._now()
        row = await self._db.fetchrow(
            _SAVE_DRAFT,
            *thread_params(ref),
            _clean(title),
            _clean(question),
            _clean(body),
            drafted_by,
            made_with,
            now,
            now,
        )
        assert row is not None  # an upsert with RETURNING always returns its row
        return quality.kb_draft(row, _utc)

    async def kb_drafts(self, status: str, limit: int) -> list[KbDraft]:
        rows = await self._db.fetch(
            "SELECT * FROM kb_drafts WHERE status = $1 ORDER BY updated_at DESC, id DESC LIMIT $2",
            status,
            max(0, limit),
        )
        return [quality.kb_draft(row, _utc) for row in rows]

    async def kb_draft(self, draft_id: int) -> KbDraft | None:
        row = await self._db.fetchrow("SELECT * FROM kb_drafts WHERE id = $1", draft_id)
        return None if row is None else quality.kb_draft(row, _utc)

    async def edit_kb_draft(self, draft_id: int, title: str, question: str, body: str) -> KbDraft | None:
        row = await self._db.fetchrow(
            "UPDATE kb_drafts SET title = $1, question = $2, body = $3, updated_at = $4"
            " WHERE id = $5 AND status = 'draft' RETURNING *",
            _clean(title),
            _clean(question),
            _clean(body),
            self._now(),
            draft_id,
        )
        return None if row is None else quality.kb_draft(row, _utc)

    async def decide_kb_draft(
        self, draft_id: int, status: str, visibility: str | None, decided_by: str
    ) -> KbDraft | None:
        """Sent again after its connection broke, it finds its own decision (the same time, to the
        microsecond) and still reports it."""
        now = self._now()
        row = await self._db.fetchrow(
            "UPDATE kb_drafts SET status = $1, visibility = $2, decided_by = $3, decided_at = $4,"
            " updated_at = $4 WHERE id = $5"
            " AND (status = 'draft' OR (status = $1 AND decided_by = $3 AND decided_at = $4)) RETURNING *",
            status,
            visibility,
            decided_by,
            now,
            draft_id,
        )
        return None if row is None else quality.kb_draft(row, _utc)

    # Paused channels.

    async def pause_channel(self, platform: str, space_id: str, channel_id: str, paused_by: str) -> None:
        await self._db.execute(
            "INSERT INTO paused_channels (platform, space_id, channel_id, paused_by, paused_at)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (platform, space_id, channel_id) DO NOTHING",
            platform,
            space_id,
            channel_id,
            paused_by,
            self._now(),
        )

    async def resume_channel(self, platform: str, space_id: str, channel_id: str) -> bool:
        status = await self._db.execute(
            "DELETE FROM paused_channels WHERE platform = $1 AND space_id = $2 AND channel_id = $3",
            platform,
            space_id,
            channel_id,
        )
        return _rowcount(status) > 0

    async def is_paused(self, platform: str, space_id: str, channel_id: str) -> bool:
        value = await self._db.fetchval(
            "SELECT 1 FROM paused_channels WHERE platform = $1 AND space_id = $2 AND channel_id = $3",
            platform,
            space_id,
            channel_id,
        )
        return value is not None

    # Solved threads.

    async def mark_solved(self, ref: ThreadRef, solved_by: str, message_id: str) -> bool:
        status = await self._db.execute(
            "INSERT INTO solved_threads (platform, space_id, channel_id, thread_id, solved_by, message_id,"
            " solved_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (platform, space_id, channel_id, thread_id) DO NOTHING",
            *thread_params(ref),
            solved_by,
            message_id,
            aware(self._now()),
        )
        return _rowcount(status) > 0

    async def solved_since(self, since: datetime) -> list[ThreadRef]:
        rows = await self._db.fetch(
            "SELECT platform, space_id, channel_id, thread_id FROM solved_threads WHERE solved_at >= $1"
            " ORDER BY solved_at",
            aware(since),
        )
        return [ThreadRef(*row) for row in rows]

    # Pending replies.

    async def add_pending_reply(self, pending: PendingReply) -> None:
        """Record a reply in flight; adding the same ``reply_id`` again replaces the record."""
        await self._db.execute(
            "INSERT INTO pending_replies (reply_id, platform, space_id, channel_id, thread_id,"
            " message_ref, started_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (reply_id) DO UPDATE SET platform = excluded.platform,"
            " space_id = excluded.space_id, channel_id = excluded.channel_id,"
            " thread_id = excluded.thread_id, message_ref = excluded.message_ref,"
            " started_at = excluded.started_at",
            pending.reply_id,
            *thread_params(pending.ref),
            pending.message_ref,
            aware(pending.started_at),
        )

    async def settle_pending_reply(self, reply_id: str) -> None:
        """Forget the reply; settling an unknown or already settled reply is a no-op."""
        await self._db.execute(_SETTLE_PENDING, reply_id)

    async def pending_replies(self, platform: str) -> list[PendingReply]:
        """Unsettled replies of ``platform``, oldest first."""
        rows = await self._db.fetch(
            "SELECT * FROM pending_replies WHERE platform = $1 ORDER BY started_at, reply_id", platform
        )
        return [mapping.pending_reply(row, _utc) for row in rows]

    # Knowledge articles (bot.store.knowledge).

    async def replace_articles(
        self, source: str, articles: Sequence[SourceArticle], skipped: int
    ) -> ArticleDiff:
        now = self._now()

        async def work(conn: Connection) -> tuple[knowledge.Plan, int]:
            plan, seq = await _replace_source(conn, source, articles, now)
            await conn.execute(_SOURCE_SUCCESS, *knowledge.status_params(source, now, plan, skipped))
            return plan, seq

        plan, seq = await self._db.transaction(work)
        return ArticleDiff(
            tuple(item.key for item in plan.added),
            tuple(item.key for item in plan.updated),
            plan.removed,
            seq,
        )

    async def record_sync_failure(self, source: str, error: str) -> None:
        await self._db.execute(_SOURCE_FAILURE, source, self._now(), _clean(knowledge.error_text(error)))

    async def source_articles(self, source: str) -> dict[str, SourceArticle]:
        rows = await self._db.fetch(
            "SELECT * FROM kb_articles WHERE source = $1 AND NOT removed ORDER BY key", source
        )
        return {row["key"]: knowledge.article(row) for row in rows}

    async def retire_sources(self, keep: Collection[str], idle_for: timedelta) -> dict[str, int]:
        now = self._now()

        async def work(conn: Connection) -> dict[str, int]:
            # The lock first, as every sync takes it: a sync of a source goes wholly before or after.
            await conn.execute(_LOCK_SEQUENCE)
            retired = await conn.fetch(
                "DELETE FROM kb_source_status WHERE last_attempt_at < $1 AND NOT (source = ANY($2::text[]))"
                " RETURNING source",
                now - idle_for,
                sorted(keep),
            )
            return {
                row["source"]: len((await _replace_source(conn, row["source"], (), now))[0].removed)
                for row in retired
            }

        return await self._db.transaction(work)

    async def forget_removals(self, older_than: timedelta) -> int:
        cutoff = self._now() - older_than

        async def work(conn: Connection) -> int:
            await conn.execute(_LOCK_SEQUENCE)  # no sync writes a removal meanwhile
            await conn.execute(
                "UPDATE kb_sequence SET pruned_through = greatest(pruned_through, coalesce("
                " (SELECT max(seq) FROM kb_articles WHERE removed AND updated_at < $1), 0)) WHERE id = 1",
                cutoff,
            )
            return _rowcount(
                await conn.execute("DELETE FROM kb_articles WHERE removed AND updated_at < $1", cutoff)
            )

        return await self._db.transaction(work)

    async def article_changes(self, after: int, limit: int) -> ChangeBatch:
        limit = knowledge.check_limit(limit)
        rows = await self._db.fetch(
            "SELECT * FROM kb_articles WHERE seq > $1 ORDER BY seq LIMIT $2", after, limit
        )
        [sequence] = await self._db.fetch(knowledge.READ_SEQUENCE)  # after the rows
        return knowledge.change_batch(rows, after, limit, sequence)

    async def source_statuses(self) -> list[SourceStatus]:
        rows = await self._db.fetch("SELECT * FROM kb_source_status ORDER BY source")
        return [knowledge.source_status(row, _utc) for row in rows]

    # One answer's trips (Answering): one connection, one transaction each.

    async def take_turn(
        self, ref: ThreadRef, turn: Turn, load: int, tokens_since: datetime | None = None
    ) -> ThreadState:
        thread = thread_params(ref)
        turn_args, limit = turn_params(ref, turn, aware, _clean), _load_limit(load)
        since = None if tokens_since is None else aware(tokens_since)

        async def work(conn: Connection) -> ThreadState:
            await conn.execute(_APPEND_TURN, *turn_args)
            escalated = await conn.fetchval(_IS_ESCALATED, *thread) is not None
            rows = await conn.fetch(_LOAD_TURNS, *thread, limit)
            summary = await conn.fetchrow(_LOAD_SUMMARY, *thread)
            tokens = (
                None
                if since is None
                else await conn.fetchval(_SPACE_TOKENS, ref.platform, ref.space_id, since)
            )
            return ThreadState(
                escalated,
                [mapping.turn(row, _utc) for row in rows],
                None if summary is None else mapping.thread_summary(summary, _utc),
                None if tokens is None else int(tokens),
            )

        return await self._db.transaction(work)

    async def finish_reply(
        self,
        record: ReplyRecord,
        turn: Turn,
        usage: UsageRecord | None = None,
        answer: AnswerRecord | None = None,
    ) -> None:
        statements = [
            (_APPEND_TURN, turn_params(record.ref, turn, aware, _clean)),
            (_RECORD_REPLY, reply_params(record, aware)),
            *([(_RECORD_USAGE, usage_params(usage, aware))] if usage is not None else []),
            *([(_RECORD_ANSWER, quality.answer_params(answer, aware, _clean))] if answer is not None else []),
            (_SETTLE_PENDING, (record.reply_id,)),
        ]

        async def work(conn: Connection) -> None:
            for sql, args in statements:
                await conn.execute(sql, *args)

        await self._db.transaction(work)


def describe_dsn(dsn: str) -> str:
    """``user@host:port/database`` of a PostgreSQL URL, for messages: never the password or the query."""
    try:
        parts = urlsplit(dsn)
        host = parts.hostname or "local socket"
        port = f":{parts.port}" if parts.port else ""
        user = f"{parts.username}@" if parts.username else ""
    except ValueError:
        return "(unparsable URL)"
    database = parts.path.lstrip("/") or "(default database)"
    return f"{user}{host}{port}/{database}"


def scrub(message: str, dsn: str) -> str:
    """``message`` with the URL's password (if any) blanked out, in case a driver error repeats it."""
    try:
        password = urlsplit(dsn).password
    except ValueError:
        password = None
    for secret in {password, unquote(password)} if password else ():
        message = message.replace(secret, "***")
    return message


__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_EVENT_RETENTION",
    "DEFAULT_POOL_MAX_SIZE",
    "DEFAULT_POOL_MIN_SIZE",
    "PostgresStore",
    "apply_migrations",
    "aware",
    "describe_dsn",
    "scrub",
]
