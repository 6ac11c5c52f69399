"""The dashboard over HTTP without a browser: sign-in links, the 401 page, cookie flags, CSRF, CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.dashboard.auth import DashboardAccess
from bot.dashboard.server import COOKIE, Dashboard
from bot.store.open import open_store
from tests.dashboard.conftest import SECRET, Served
from tests.dashboard.seed import RETURNS, UNHELPFUL_ANSWER, UNHELPFUL_QUESTION

HOW_TO = "/support dashboard"


async def test_a_link_opens_a_session_once(dashboard: Served, client: aiohttp.ClientSession) -> None:
    link = dashboard.link()
    async with client.get(link, allow_redirects=False) as response:
        assert response.status == 303
        assert response.headers["Location"] == "/dashboard"
        cookie = response.cookies[COOKIE]
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Strict"
        assert not cookie["secure"]  # plain HTTP, no proxy saying otherwise
        assert cookie["max-age"] == str(8 * 3600)
    async with client.get(dashboard.url + "/dashboard") as response:
        assert response.status == 200
        assert "signed in as" in await response.text()
    async with aiohttp.ClientSession() as other, other.get(link) as response:
        assert response.status == 401
        page = await response.text()
        assert "used already" in page and HOW_TO in page


async def test_behind_https_the_cookie_is_secure(dashboard: Served, client: aiohttp.ClientSession) -> None:
    headers = {"X-Forwarded-Proto": "https"}
    async with client.get(dashboard.link(), headers=headers, allow_redirects=False) as response:
        assert response.status == 303
        assert response.cookies[COOKIE]["secure"] is True


async def test_without_a_session_every_url_is_refused_with_how_to_get_a_link(
    dashboard: Served, client: aiohttp.ClientSession
) -> None:
    for path in ("/dashboard", "/dashboard/escalations", "/dashboard/threads.csv", "/dashboard/nowhere"):
        async with client.get(dashboard.url + path) as response:
            assert response.status == 401, path
            assert HOW_TO in await response.text()
    forged = f"{dashboard.url}/dashboard"
    async with client.get(forged, cookies={COOKIE: "e30.AAAA"}) as response:
        assert response.status == 401


async def test_tampered_and_expired_links_are_refused(
    dashboard: Served, client: aiohttp.ClientSession
) -> None:
    link = dashboard.link()
    token = link.split("t=")[1]
    payload = token.split(".")[0]
    tampered = link.replace(payload, payload[:-2] + ("AA" if not payload.endswith("AA") else "BB"))
    expired = dashboard.access.link(
        "slack:U0LEAD", base_url=dashboard.url, now=datetime.now(UTC) - timedelta(minutes=11)
    )
    other_secret = DashboardAccess("another-secret-of-at-least-32-characters!", None).link(
        "x", base_url=dashboard.url
    )
    for bad, why in ((tampered, "not a valid"), (expired, "expired"), (other_secret, "not a valid")):
        async with client.get(bad, allow_redirects=False) as response:
            assert response.status == 401
            assert why in await response.text()
            assert COOKIE not in response.cookies


async def test_csv_exports_list_the_rows_of_each_table(
    dashboard: Served, client: aiohttp.ClientSession
) -> None:
    await client.get(dashboard.link())
    async with client.get(dashboard.url + "/dashboard/escalations.csv") as response:
        assert response.status == 200
        assert response.content_type == "text/csv"
        rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [row["summary"] for row in rows] == list(dashboard.seeded.open_summaries)
    assert rows[0]["thread link"].startswith("https://app.slack.com/client/T0FAKE/C0GENERAL/thread/")
    async with client.get(dashboard.url + "/dashboard/threads.csv") as response:
        threads = list(csv.DictReader(io.StringIO(await response.text())))
    assert threads[0]["thread"].endswith(dashboard.seeded.costliest.thread_id)
    assert threads[0]["cost"] == "$1.00"
    async with client.get(dashboard.url + "/dashboard/not-helpful.csv") as response:
        [unhelpful] = list(csv.DictReader(io.StringIO(await response.text())))
    assert (unhelpful["question"], unhelpful["answer"]) == (UNHELPFUL_QUESTION, UNHELPFUL_ANSWER)
    assert unhelpful["sources"] == f"{RETURNS.title} ({RETURNS.url})"
    async with client.get(dashboard.url + "/dashboard/overview.csv") as response:
        days = list(csv.DictReader(io.StringIO(await response.text())))
    assert sum(int(day["questions"]) for day in days) == 7


async def test_pages_escape_what_people_wrote(dashboard: Served, client: aiohttp.ClientSession) -> None:
    await client.get(dashboard.link())
    async with client.get(dashboard.url + "/dashboard/escalations") as response:
        page = await response.text()
        assert "script-src" not in response.headers["Content-Security-Policy"]
        assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "&lt;b&gt;needs&lt;/b&gt;" in page and "<b>needs" not in page


async def test_a_post_without_the_sessions_token_is_refused(
    dashboard: Served, client: aiohttp.ClientSession
) -> None:
    await client.get(dashboard.link())
    async with client.post(dashboard.url + "/dashboard/escalations", data={"csrf": "forged"}) as response:
        assert response.status == 403


async def test_without_a_secret_the_dashboard_is_off_and_says_so(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'off.db'}")
    app = web.Application()
    app.router.add_routes(Dashboard(store, None).routes())
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        link = DashboardAccess(SECRET, None).link("x", base_url=str(server.make_url("")).rstrip("/"))
        async with aiohttp.ClientSession() as client:
            for url in (str(server.make_url("/dashboard")), link):
                async with client.get(url) as response:
                    assert response.status == 404
                    assert re.search(r"dashboard is off.*DASHBOARD_SECRET", await response.text())
    finally:
        await server.close()
        await store.close()
