"""The dashboard in a real headless Chromium, served by a real ``supportbot serve`` over a seeded store, the
link printed by ``supportbot dashboard-link``: what a lead sees, and a published KB draft found by
``supportbot kb search`` run as another process on the same store."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from bot.dashboard.auth import DashboardAccess
from bot.stats import gather_stats, seconds
from bot.store.open import open_store
from tests.dashboard.browser import chromium, require_chromium
from tests.dashboard.conftest import SECRET
from tests.dashboard.seed import Seeded, seed
from tests.serve.rig import Supportbot, run

pytestmark = pytest.mark.browser

HOW_TO = "/support dashboard"


@dataclass
class Served:
    bot: Supportbot
    tmp_path: Path
    seeded: Seeded

    async def link(self) -> str:
        status, out, err = await run(
            self.tmp_path, "dashboard-link", "--for", "ann", DASHBOARD_SECRET=SECRET, PORT=str(self.bot.port)
        )
        assert status == 0, err
        return out.strip()


@pytest_asyncio.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    require_chromium()
    store = await open_store(f"sqlite:///{tmp_path / 'supportbot.db'}")
    try:
        seeded = await seed(store)
    finally:
        await store.close()
    bot = await Supportbot.start(tmp_path, "serve", DASHBOARD_SECRET=SECRET)
    try:
        await bot.wait_ready()
        yield Served(bot, tmp_path, seeded)
    finally:
        await bot.stop()


def _text(browser: WebDriver, css: str) -> str:
    """The text of the element ``css`` selects, waiting (up to 10 s) for the page a click is loading."""
    wait = WebDriverWait(browser, 10)
    return str(wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))).text)


async def test_the_link_opens_a_session_and_the_overview_shows_the_stores_figures(served: Served) -> None:
    link = await served.link()
    assert link.startswith(f"http://localhost:{served.bot.port}/dashboard/login?t=")
    store = await open_store(f"sqlite:///{served.tmp_path / 'supportbot.db'}")
    try:
        stats = await gather_stats(store, None, 14)
    finally:
        await store.close()
    total = stats.total
    with chromium() as browser:
        browser.get(link)
        assert browser.current_url == f"http://localhost:{served.bot.port}/dashboard"
        assert _text(browser, "#who") == "operator:ann"
        figures = {
            element.get_attribute("data-figure"): element.text
            for element in browser.find_elements(By.CSS_SELECTOR, "[data-figure]")
        }
        helpful = f"{100 * total.helpful / (total.helpful + total.not_helpful):.0f}%"
        assert figures == {
            "questions": str(total.questions),
            "answers": str(total.answers),
            "fallback": str(total.fallback),
            "helpful_share": helpful,
            "escalations": str(total.escalations),
            "open_escalations": str(stats.open_escalations),
            "solved": str(stats.solved),
            "first_text": seconds(total.median_first_text_ms),
            "cost": f"${total.cost_usd:.2f}",
        }
        assert (total.questions, total.answers, total.fallback, total.escalations) == (7, 5, 1, 3)
        assert stats.solved == 1
        # The charts: a bar per active day, labelled with its value.
        bars = browser.find_elements(By.CSS_SELECTOR, "figure.chart")[0].find_elements(
            By.CSS_SELECTOR, "rect"
        )
        labels = sorted(bar.find_element(By.TAG_NAME, "title").get_attribute("textContent") for bar in bars)
        # A day with other activity but no question (after midnight, say) has a bar of 0 on both sides.
        expected = sorted(f"{day.isoformat()}: {f.questions}" for day, f in stats.per_day if f.questions)
        assert [label for label in labels if not label.endswith(": 0")] == expected
        # The session holds across pages; the style sheet comes from the bot itself.
        browser.get(f"http://localhost:{served.bot.port}/dashboard/threads")
        assert _text(browser, "h1").startswith("The 10 costliest threads")
        color = browser.find_element(By.CSS_SELECTOR, "header").value_of_css_property("background-color")
        assert color in ("rgba(255, 255, 255, 1)", "rgb(255, 255, 255)")


async def test_the_tables_list_what_was_seeded(served: Served) -> None:
    with chromium() as browser:
        browser.get(await served.link())
        browser.find_element(By.LINK_TEXT, "Open escalations").click()
        rows = browser.find_elements(By.CSS_SELECTOR, "#table-escalations tbody tr")
        summaries = [row.find_elements(By.TAG_NAME, "td")[4].text for row in rows]
        assert summaries == list(served.seeded.open_summaries)
        link = rows[1].find_element(By.CSS_SELECTOR, "td a")
        assert (
            link.get_attribute("href") == "https://discord.com/channels/900000000000000001/900000000000000003"
        )
        browser.find_element(By.LINK_TEXT, "Not helpful").click()
        [row] = browser.find_elements(By.CSS_SELECTOR, "#table-not-helpful tbody tr")
        question, answer, sources = (cell.text for cell in row.find_elements(By.TAG_NAME, "td")[2:5])
        unhelpful = served.seeded.unhelpful
        assert (question, answer) == (unhelpful.question, unhelpful.answer)
        assert unhelpful.cited[0].url in sources
        browser.find_element(By.LINK_TEXT, "Costliest threads").click()
        first = browser.find_elements(By.CSS_SELECTOR, "#table-threads tbody tr")[0]
        cells = [cell.text for cell in first.find_elements(By.TAG_NAME, "td")]
        assert cells[0].endswith(served.seeded.costliest.thread_id) and cells[-1] == "$1.00"


async def test_used_tampered_and_expired_links_are_refused(served: Served) -> None:
    base = f"http://localhost:{served.bot.port}"
    link = await served.link()
    tampered = link[:-3] + ("xyz" if not link.endswith("xyz") else "abc")
    expired = DashboardAccess(SECRET, None).link(
        "operator:ann", base_url=base, now=datetime.now(UTC) - timedelta(minutes=11)
    )
    with chromium() as browser:
        browser.get(link)
        assert _text(browser, "h1") == "Overview"
    with chromium() as browser:  # another browser, no session: the same link again
        for bad, why in (
            (link, "used already"),
            (tampered, "not a valid dashboard link"),
            (expired, "expired"),
            (f"{base}/dashboard/escalations", "not signed in"),
        ):
            browser.get(bad)
            assert _text(browser, "h1") == "Sign-in needed", bad
            assert why in _text(browser, "#message")
            assert HOW_TO in _text(browser, "#how")
        assert browser.get_cookies() == []


async def test_a_draft_is_published_and_then_found_by_kb_search(served: Served) -> None:
    draft = served.seeded.draft
    with chromium() as browser:
        browser.get(await served.link())
        browser.find_element(By.LINK_TEXT, "KB drafts").click()
        [article] = browser.find_elements(By.CSS_SELECTOR, "article.draft")
        assert article.get_attribute("id") == f"draft-{draft.id}"
        assert _text(browser, "article.draft h2") == f"#{draft.id} {draft.title}"
        title = article.find_element(By.NAME, "title")
        title.clear()
        title.send_keys("Returning a gift without its receipt")
        body = article.find_element(By.NAME, "body")
        body.clear()
        body.send_keys(
            "Give us the gift giver's order number; the refund goes out as zephyrine store credit."
        )
        Select(article.find_element(By.NAME, "visibility")).select_by_value("public")
        article.find_element(By.CSS_SELECTOR, "button[value=publish]").click()
        assert f"Draft #{draft.id} published, public," in _text(browser, "#done")
        assert browser.find_elements(By.CSS_SELECTOR, "article.draft") == []
    status, out, err = await run(
        served.tmp_path, "kb", "search", "--json", "zephyrine store credit gift", PORT=str(served.bot.port)
    )
    assert status == 0, err
    hits = json.loads(out)
    assert hits and (hits[0]["source"], hits[0]["title"], hits[0]["visibility"]) == (
        "drafts",
        "Returning a gift without its receipt",
        "public",
    )


async def test_the_gaps_page_lists_the_seeded_gaps(served: Served) -> None:
    with chromium() as browser:
        browser.get(await served.link())
        browser.find_element(By.LINK_TEXT, "Coverage gaps").click()
        [row] = browser.find_elements(By.CSS_SELECTOR, "#table-gaps tbody tr")
        cells = row.find_elements(By.TAG_NAME, "td")
        assert [cell.text for cell in cells[1:4]] == [
            "1",
            "1 not helpful, 1 escalated",
            served.seeded.unhelpful.question,
        ]
        link = cells[4].find_element(By.TAG_NAME, "a").get_attribute("href")
        assert link == "https://app.slack.com/client/T0FAKE/C0GENERAL/thread/C0GENERAL-1700000000.000100"
