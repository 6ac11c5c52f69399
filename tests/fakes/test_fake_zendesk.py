"""The fake Help Center answers in the shapes Zendesk documents."""

from __future__ import annotations

import base64

import aiohttp

from fakes.zendesk import FakeZendesk


async def test_cursor_and_offset_pages_and_what_anonymous_visitors_see() -> None:
    async with FakeZendesk() as fake, aiohttp.ClientSession() as http:
        async with http.get(
            f"{fake.base_url}/api/v2/help_center/en-us/articles.json?page[size]=20"
        ) as response:
            first = await response.json()
        assert len(first["articles"]) == 20
        assert first["meta"]["has_more"] is True
        async with http.get(first["links"]["next"]) as response:
            second = await response.json()
        assert second["meta"]["has_more"] is False and second["links"]["next"] is None
        ids = {article["id"] for article in first["articles"] + second["articles"]}
        assert len(ids) == 33 and not {1004, 1005, 1006} & ids  # no draft, nothing restricted

        async with http.get(f"{fake.base_url}/api/v2/help_center/articles.json") as response:
            offset = await response.json()
        assert (offset["count"], offset["page_count"], len(offset["articles"])) == (33, 2, 30)
        assert offset["next_page"].endswith("/api/v2/help_center/articles.json?page=2&per_page=30")

        async with http.get(f"{fake.base_url}/api/v2/help_center/fr/sections.json") as response:
            assert response.status == 404
            assert await response.json() == {"error": "RecordNotFound", "description": "Not found"}


async def test_an_agent_sees_drafts_and_restricted_articles() -> None:
    async with FakeZendesk(email="a@b.example", token="t0k") as fake, aiohttp.ClientSession() as http:
        agent = "Basic " + base64.b64encode(b"a@b.example/token:t0k").decode()
        url = f"{fake.base_url}/api/v2/help_center/articles.json?per_page=100"
        async with http.get(url, headers={"Authorization": agent}) as response:
            articles = {article["id"]: article for article in (await response.json())["articles"]}
        assert articles[1004]["draft"] is True and articles[1005]["user_segment_id"] == 360_001
        assert (articles[1006]["user_segment_id"], articles[1006]["user_segment_ids"]) == (
            None,
            [360_002, 360_003],
        )
        wrong = "Basic " + base64.b64encode(b"a@b.example/token:nope").decode()
        async with http.get(url, headers={"Authorization": wrong}) as response:
            assert response.status == 401
            assert await response.json() == {"error": "Couldn't authenticate you"}
