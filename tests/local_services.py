"""The real PostgreSQL and Redis servers the scale-out tests use (docs/architecture.md §9), as pytest
fixtures.

Where they are: ``SUPPORTBOT_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``)
and ``SUPPORTBOT_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``); ``.ci/run`` starts both. A
server that cannot be reached fails the tests that need it when ``CI`` is set (CI must run them) and
skips them, saying why, otherwise.

Every test gets its own room and leaves nothing behind:

- ``pg_schema_url``: the URL of a fresh, empty schema (``?search_path=t_…``), dropped after the test;
- ``redis_prefix``: a unique key prefix; every key under it is deleted after the test.
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import urlsplit

import pytest

POSTGRES_URL = os.environ.get("SUPPORTBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SUPPORTBOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _probe(check: Callable[[], Awaitable[None]]) -> str | None:
    """Run ``check`` on a loop of its own (in a thread, whatever loop the caller runs); the error, if any."""
    problem: list[str] = []

    def run() -> None:
        try:
            asyncio.run(asyncio.wait_for(check(), 5))
        except Exception as exc:  # any failure means: not usable here
            problem.append(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return problem[0] if problem else None


def _without_password(url: str) -> str:
    try:
        password = urlsplit(url).password
    except ValueError:
        return "(unparsable URL)"
    return url.replace(f":{password}@", ":***@") if password else url


def _unavailable(what: str, url: str, problem: str) -> None:
    reason = f"{what} is not reachable at {_without_password(url)} ({problem})"
    if in_ci():
        pytest.fail(f"{reason}; CI runs these tests: .ci/run starts the server", pytrace=False)
    pytest.skip(f"{reason}; start it, or set CI=true to make this a failure")


async def _check_postgres() -> None:
    """Connect; on a fresh server without the test database, create it first."""
    import asyncpg

    try:
        conn = await asyncpg.connect(POSTGRES_URL)
    except asyncpg.InvalidCatalogNameError:
        parts = urlsplit(POSTGRES_URL)
        admin = await asyncpg.connect(parts._replace(path="/postgres").geturl())
        try:
            name = parts.path.lstrip("/").replace('"', '""')
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        conn = await asyncpg.connect(POSTGRES_URL)
    await conn.close()


async def _check_redis() -> None:
    import redis.asyncio as redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The server's URL, once it answered; fails (CI) or skips the test otherwise."""
    problem = _probe(_check_postgres)
    if problem is not None:
        _unavailable("PostgreSQL", POSTGRES_URL, problem)
    return POSTGRES_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    problem = _probe(_check_redis)
    if problem is not None:
        _unavailable("Redis", REDIS_URL, problem)
    return REDIS_URL


def with_query(url: str, **params: str) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"{url}{'&' if '?' in url else '?'}{query}"


async def create_schema(base_url: str) -> str:
    """A fresh schema; its URL (``?search_path=``)."""
    import asyncpg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(base_url)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
    finally:
        await conn.close()
    return with_query(base_url, search_path=schema)


async def drop_schema(schema_url: str) -> None:
    import asyncpg

    base_url, _, query = schema_url.partition("?")
    params = dict(part.split("=", 1) for part in query.split("&"))
    schema = params.pop("search_path")
    if params:
        base_url = with_query(base_url, **params)
    conn = await asyncpg.connect(base_url)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        await conn.close()


@pytest.fixture
async def pg_schema_url(postgres_url: str) -> AsyncIterator[str]:
    """The URL of a fresh, empty schema of the test database, dropped after the test."""
    url = await create_schema(postgres_url)
    try:
        yield url
    finally:
        await drop_schema(url)


async def delete_prefix(url: str, prefix: str) -> None:
    import redis.asyncio as redis

    client = redis.Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
async def redis_prefix(redis_url: str) -> AsyncIterator[str]:
    """A key prefix no other test uses; its keys are deleted after the test."""
    prefix = f"supportbot-test:{uuid.uuid4().hex[:12]}:"
    try:
        yield prefix
    finally:
        await delete_prefix(redis_url, prefix)
