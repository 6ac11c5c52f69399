"""What only PostgreSQL has: migration bookkeeping under an advisory lock, the pool, the URL and its errors.

The Store contract itself runs against PostgreSQL in ``test_store_contract.py`` (``BACKENDS``). Every test
here gets a fresh schema (``pg_schema_url``); without a server they fail in CI and skip elsewhere.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from local_services import with_query

from bot.store.migrations import Migration, MigrationError
from bot.store.migrations.postgres import MIGRATIONS
from bot.store.migrations.sqlite import MIGRATIONS as SQLITE_MIGRATIONS
from bot.store.open import StoreUnavailable, open_store
from bot.store.postgres import PostgresStore, apply_migrations, describe_dsn, scrub
from bot.types import ThreadRef, Turn

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
THREAD = ThreadRef("slack", "T1", "C1", "1714564800.000100")
NEXT = MIGRATIONS[-1].version + 1
EXTRA = Migration(NEXT, "extra", ("CREATE TABLE extra (x INTEGER NOT NULL)",))


async def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    conn = await asyncpg.connect(url)
    try:
        return [tuple(row) for row in await conn.fetch(sql)]
    finally:
        await conn.close()


def test_both_backends_have_the_same_migration_versions_and_names() -> None:
    """Version n means the same logical schema everywhere: a migration added to one list needs the other."""
    assert [(m.version, m.name) for m in MIGRATIONS] == [(m.version, m.name) for m in SQLITE_MIGRATIONS]


async def test_open_records_every_migration_once_and_reopen_runs_none(pg_schema_url: str) -> None:
    store = await open_store(pg_schema_url)
    await store.append_turn(THREAD, Turn("user", "U1", "hi", "m1", T0))
    await store.close()
    recorded = await rows(pg_schema_url, "SELECT version, name, applied_at FROM schema_migrations ORDER BY 1")
    assert [(v, n) for v, n, _ in recorded] == [(m.version, m.name) for m in MIGRATIONS]

    store = await open_store(pg_schema_url)
    assert [t.text for t in await store.load_turns(THREAD)] == ["hi"]
    await store.close()
    assert await rows(
        pg_schema_url, "SELECT version, name, applied_at FROM schema_migrations ORDER BY 1"
    ) == (recorded)


async def test_instances_starting_together_migrate_once(pg_schema_url: str) -> None:
    stores = await asyncio.gather(*(open_store(pg_schema_url) for _ in range(4)))
    for store in stores:
        await store.close()
    assert await rows(pg_schema_url, "SELECT version FROM schema_migrations ORDER BY 1") == [
        (m.version,) for m in MIGRATIONS
    ]


async def test_migrations_wait_for_the_advisory_lock(pg_schema_url: str) -> None:
    """Another instance migrating (holding the lock) makes an opening instance wait, not race it."""
    holder = await asyncpg.connect(pg_schema_url)
    try:
        key = await holder.fetchval(
            "SELECT hashtextextended('supportbot.schema_migrations:' || current_schema(), 0)"
        )
        await holder.execute("SELECT pg_advisory_lock($1)", key)
        opening = asyncio.create_task(open_store(pg_schema_url))
        await asyncio.sleep(0.3)
        assert not opening.done()
        await holder.execute("SELECT pg_advisory_unlock($1)", key)
        store = await asyncio.wait_for(opening, 10)
        await store.close()
    finally:
        await holder.close()


async def test_a_new_migration_is_applied_once(pg_schema_url: str) -> None:
    await (await PostgresStore.open(pg_schema_url)).close()
    conn = await asyncpg.connect(pg_schema_url)
    try:
        assert await apply_migrations(conn, (*MIGRATIONS, EXTRA)) == [NEXT]
        assert await apply_migrations(conn, (*MIGRATIONS, EXTRA)) == []  # no IF NOT EXISTS: would fail
    finally:
        await conn.close()
    assert (await rows(pg_schema_url, "SELECT max(version) FROM schema_migrations")) == [(NEXT,)]


async def test_a_failed_migration_is_rolled_back_and_retried(pg_schema_url: str) -> None:
    broken = Migration(NEXT, "broken", ("CREATE TABLE half (x INTEGER)", "THIS IS NOT SQL"))
    with pytest.raises(asyncpg.PostgresSyntaxError):
        await PostgresStore.open(pg_schema_url, migrations=(*MIGRATIONS, broken))
    tables = {name for (name,) in await rows(pg_schema_url, "SELECT tablename FROM pg_tables")}
    assert "half" not in tables and "turns" in tables
    assert await rows(pg_schema_url, "SELECT max(version) FROM schema_migrations") == [
        (MIGRATIONS[-1].version,)
    ]
    await (await PostgresStore.open(pg_schema_url, migrations=(*MIGRATIONS, EXTRA))).close()


async def test_a_database_from_a_newer_build_is_refused(pg_schema_url: str) -> None:
    await (await PostgresStore.open(pg_schema_url, migrations=(*MIGRATIONS, EXTRA))).close()
    with pytest.raises(StoreUnavailable, match=rf"schema version {NEXT} \(extra\).*newer") as info:
        await open_store(pg_schema_url)
    assert isinstance(info.value.__cause__, MigrationError)
    with pytest.raises(MigrationError, match=r"'extra'.*'renamed'"):
        await PostgresStore.open(
            pg_schema_url, migrations=(*MIGRATIONS, Migration(NEXT, "renamed", ("SELECT 1",)))
        )


async def test_a_missing_schema_is_a_clear_error(postgres_url: str) -> None:
    with pytest.raises(StoreUnavailable, match=r"no schema on the search_path.*CREATE SCHEMA"):
        await open_store(with_query(postgres_url, search_path="t_no_such_schema"))


async def test_an_unknown_database_is_a_clear_error_without_the_password(postgres_url: str) -> None:
    base, _, query = postgres_url.partition("?")
    server, _, _ = base.rpartition("/")
    url = f"{server}/supportbot_no_such_database" + (f"?{query}" if query else "")
    with pytest.raises(StoreUnavailable, match='database "supportbot_no_such_database" does not exist'):
        await open_store(url)


def test_messages_never_show_the_password() -> None:
    dsn = "postgresql://bot:s%40cret@db.internal:6432/support?sslmode=require"
    assert describe_dsn(dsn) == "bot@db.internal:6432/support"
    assert scrub("auth failed for s@cret and s%40cret", dsn) == "auth failed for *** and ***"
    assert describe_dsn("postgresql:///support?host=/var/run/postgresql") == "local socket/support"


async def test_pool_sizes_come_from_the_arguments(pg_schema_url: str) -> None:
    store = await open_store(pg_schema_url, pool_min_size=2, pool_max_size=3)
    try:
        assert isinstance(store, PostgresStore)
        pool = store._pool
        assert (pool.get_min_size(), pool.get_max_size()) == (2, 3)
        # More concurrent calls than connections simply queue for one.
        assert sum(await asyncio.gather(*(store.claim_event(f"Ev{i % 5}") for i in range(40)))) == 5
    finally:
        await store.close()
    with pytest.raises(ValueError, match="pool sizes"):
        await PostgresStore.open(pg_schema_url, min_size=4, max_size=2)


async def test_columns_are_timestamptz_and_nul_characters_do_not_fail_a_turn(pg_schema_url: str) -> None:
    store = await open_store(pg_schema_url)
    try:
        await store.append_turn(THREAD, Turn("user", "U\x001", "a\x00b", "m1", T0))
        [loaded] = await store.load_turns(THREAD)
        assert (loaded.author, loaded.text) == ("U\ufffd1", "a\ufffdb")
    finally:
        await store.close()
    types = dict(
        await rows(
            pg_schema_url,
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = 'turns'",
        )
    )
    assert types["sent_at"] == "timestamp with time zone"


async def test_old_event_ids_are_pruned(pg_schema_url: str) -> None:
    now = [T0]
    store = await PostgresStore.open(pg_schema_url, clock=lambda: now[0], event_retention=timedelta(days=7))
    try:
        assert await store.claim_event("old") is True
        now[0] = T0 + timedelta(days=6)
        assert await store.claim_event("old") is False
        now[0] = T0 + timedelta(days=8)
        assert await store.claim_event("trigger") is True  # prunes ids claimed before day 1
        assert await rows(pg_schema_url, "SELECT event_id FROM processed_events ORDER BY 1") == [("trigger",)]
        assert await store.claim_event("old") is True  # forgotten: a very late redelivery counts as new
    finally:
        await store.close()


async def test_a_claim_sent_again_after_its_connection_broke_is_still_its_own(pg_schema_url: str) -> None:
    """A claim whose connection broke after the commit is sent again at the same instant: it must not
    find itself a duplicate (the delivery would go unanswered); a claim at any other time is one."""
    now = T0
    store = await PostgresStore.open(pg_schema_url, clock=lambda: now)
    try:
        assert await store.claim_event("Ev1") is True
        assert await store.claim_event("Ev1") is True  # the same statement, sent again
        now = T0 + timedelta(microseconds=1)
        assert await store.claim_event("Ev1") is False  # a redelivery
    finally:
        await store.close()


async def test_a_statement_whose_connection_the_server_dropped_is_sent_again(pg_schema_url: str) -> None:
    """The server drops the store's connection while a write waits on it (what a restart does to a running
    statement): the write is sent again on a fresh connection and lands once."""
    name = "supportbot-dropped"
    store = await PostgresStore.open(with_query(pg_schema_url, application_name=name))
    admin = await asyncpg.connect(pg_schema_url)
    try:
        async with admin.transaction():
            await admin.execute("LOCK TABLE turns IN ACCESS EXCLUSIVE MODE")  # the write waits here
            write = asyncio.create_task(store.append_turn(THREAD, Turn("user", "ann", "hello", "m1", T0)))
            for _ in range(500):
                waiting = await admin.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1"
                    " AND wait_event_type = 'Lock'",
                    name,
                )
                if waiting:
                    break
                await asyncio.sleep(0.01)
            assert waiting == 1
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", name
            )
        await write
        assert [t.text for t in await store.load_turns(THREAD)] == ["hello"]
    finally:
        await admin.close()
        await store.close()
