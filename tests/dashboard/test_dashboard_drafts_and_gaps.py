"""The dashboard's coverage gaps and KB drafts pages over HTTP: the gaps of the seeded answers with links,
the waiting draft edited, published and discarded through CSRF-protected forms, and their CSV exports."""

from __future__ import annotations

import csv
import io
import re

import aiohttp

from tests.dashboard.conftest import Served
from tests.dashboard.seed import DRAFT_BODY, DRAFT_TITLE, SLACK_THREAD, UNHELPFUL_QUESTION


async def _csrf(client: aiohttp.ClientSession, url: str) -> str:
    async with client.get(url + "/dashboard/kb-drafts") as response:
        assert response.status == 200
        match = re.search(r'name="csrf" value="([^"]+)"', await response.text())
    assert match
    return match.group(1)


async def test_the_gaps_page_lists_the_seeded_gaps_with_links_and_as_csv(
    dashboard: Served, client: aiohttp.ClientSession
) -> None:
    await client.get(dashboard.link())
    async with client.get(dashboard.url + "/dashboard/gaps") as response:
        assert response.status == 200
        page = await response.text()
    assert "Coverage gaps of the last 14 day(s): 1 question(s) in 1 topic(s)" in page
    assert UNHELPFUL_QUESTION in page and "1 not helpful, 1 escalated" in page
    async with client.get(dashboard.url + "/dashboard/gaps.csv") as response:
        [row] = list(csv.DictReader(io.StringIO(await response.text())))
    assert (row["example question"], row["questions"]) == (UNHELPFUL_QUESTION, "1")
    assert row["thread link"].endswith(SLACK_THREAD.thread_id)


async def test_a_lead_edits_and_publishes_a_draft_and_it_leaves_the_list(
    dashboard: Served, client: aiohttp.ClientSession
) -> None:
    await client.get(dashboard.link())
    draft = dashboard.seeded.draft
    async with client.get(dashboard.url + "/dashboard/kb-drafts.csv") as response:
        [row] = list(csv.DictReader(io.StringIO(await response.text())))
    assert (row["draft"], row["title"], row["article"]) == (f"#{draft.id}", DRAFT_TITLE, DRAFT_BODY)

    action = f"{dashboard.url}/dashboard/kb-drafts/{draft.id}"
    form = {
        "title": "Returning a gift",
        "question": "A gift without receipt?",
        "body": "Use the order number.",
    }
    async with client.post(action, data={**form, "action": "publish", "visibility": "internal"}) as response:
        assert response.status == 403  # no CSRF token
    csrf = await _csrf(client, dashboard.url)
    async with client.post(
        action, data={**form, "csrf": csrf, "action": "publish", "visibility": "internal"}
    ) as response:
        assert response.status == 200
        page = await response.text()
    assert f"Draft #{draft.id} published, internal, as an article of the drafts source" in page
    published = await dashboard.store.kb_draft(draft.id)
    assert published is not None
    assert (published.status, published.visibility, published.decided_by) == (
        "published",
        "internal",
        "slack:U0LEAD",
    )
    assert (published.title, published.body) == ("Returning a gift", "Use the order number.")
    [article] = (await dashboard.store.source_articles("drafts")).values()
    assert (article.key, article.visibility, article.title) == (
        f"draft-{draft.id}",
        "internal",
        "Returning a gift",
    )
    assert "No KB drafts are waiting" in page
    async with client.post(action, data={**form, "csrf": csrf, "action": "discard"}) as response:
        assert "is no longer waiting" in await response.text()
