"""KB drafts from resolved threads (bot/quality/drafts.py): drafted with the summary model through the real
anthropic SDK against the fake API, or from the template without one; no personal data; published into a
real index and found by search at once, public for everyone, internal for staff only."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest_asyncio
from fakes.anthropic import FakeAnthropic, Reply

from bot.agent.llm import AnthropicLLM
from bot.config import load_bot_config
from bot.kb.follow import KnowledgeFollower
from bot.kb.index import KnowledgeBase
from bot.quality.drafts import DRAFT_SYSTEM, SOURCE, TEMPLATE, TOOL, TRANSCRIPT_CHARS, KbDrafting, scrub
from bot.store import Store
from bot.store.open import open_store
from bot.types import ThreadRef, Turn

ROOT = Path(__file__).resolve().parents[2]
THREAD = ThreadRef("slack", "T0FAKE", "C0GENERAL", "1700000000.000100")
START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
CONVERSATION = (
    ("user", "Ann Lee", "My parcel for ORD-10001 arrived crushed, can I get a replacement? ann@example.com"),
    ("assistant", "bot", "I've asked a support lead to help here."),
    ("user", "Lena", "Hi Ann, send a photo of the box and we ship a replacement within 2 days, free."),
    ("user", "Ann Lee", "Done, thanks! Call me on +44 20 7946 0958 if needed."),
)
PERSONAL = ("Ann", "Lee", "Lena", "ORD-10001", "ann@example.com", "7946")


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(f"sqlite:///{tmp_path / 'supportbot.db'}")
    for i, (role, author, text) in enumerate(CONVERSATION):
        turn = Turn(role, author, text, f"m{i}", START + timedelta(minutes=i))  # type: ignore[arg-type]
        await opened.append_turn(THREAD, turn)
    yield opened
    await opened.close()


@pytest_asyncio.fixture
async def kb(tmp_path: Path) -> AsyncIterator[KnowledgeBase]:
    index = KnowledgeBase(tmp_path / "kb.sqlite3")
    yield index
    index.close()


def _shows_nothing_personal(*texts: str) -> None:
    for text in texts:
        for word in PERSONAL:
            assert word not in text, (word, text)


async def test_without_a_model_the_template_drafts_from_the_thread_without_personal_data(
    store: Store,
) -> None:
    draft = await KbDrafting(store).draft_from_thread(THREAD, "U0LEAD")
    assert draft is not None
    assert (draft.made_with, draft.status, draft.drafted_by, draft.ref) == (
        TEMPLATE,
        "draft",
        "U0LEAD",
        THREAD,
    )
    assert draft.question.startswith("My parcel for [id] arrived crushed, can I get a replacement? [email]")
    assert "send a photo of the box and we ship a replacement within 2 days" in draft.body
    assert "[phone]" in draft.body
    _shows_nothing_personal(draft.title, draft.question, draft.body)
    # Drafting again replaces the thread's waiting draft.
    again = await KbDrafting(store).draft_from_thread(THREAD, "U0LEAD2")
    assert again is not None and again.id == draft.id and again.drafted_by == "U0LEAD2"
    assert [d.id for d in await store.kb_drafts("draft", 10)] == [draft.id]


async def test_a_thread_with_nothing_stored_gets_no_draft(store: Store) -> None:
    assert (
        await KbDrafting(store).draft_from_thread(dataclasses.replace(THREAD, thread_id="1.2"), "U0LEAD")
        is None
    )


async def test_the_summary_model_drafts_through_one_forced_tool_call_on_a_bounded_transcript(
    store: Store, fake_anthropic: FakeAnthropic
) -> None:
    for i in range(60):  # a long thread: only its newest part goes to the model
        turn = Turn("user", "Ann Lee", f"Still waiting, message {i}. " + "x" * 400, f"n{i}", START)
        await store.append_turn(THREAD, turn)
    article = {
        "title": "Replacing a parcel that arrived damaged",
        "question": "My parcel arrived crushed, can I get a replacement? Ann Lee, ann@example.com",
        "answer": "1. Send us a photo of the box.\n2. We ship a replacement within 2 days, free.",
    }
    fake_anthropic.script(Reply.tool_use((TOOL, article)))
    llm = AnthropicLLM.from_key("test-key", base_url=fake_anthropic.base_url, max_retries=0)
    config = load_bot_config(ROOT / "config" / "bot.toml")
    try:
        drafting = KbDrafting(store, llm=llm, model="claude-haiku-5-5", config=config)
        draft = await drafting.draft_from_thread(THREAD, "U0LEAD")
    finally:
        await llm.close()
    assert draft is not None
    assert draft.made_with != TEMPLATE
    assert draft.title == article["title"]
    assert draft.question == "My parcel arrived crushed, can I get a replacement? [name], [email]"
    assert draft.body == article["answer"]
    [request] = fake_anthropic.message_requests
    body = request.body
    assert body["model"] == "claude-haiku-5-5"
    assert body["system"][0]["text"] == DRAFT_SYSTEM
    assert body["tool_choice"] == {"type": "tool", "name": TOOL}
    sent = body["messages"][0]["content"][0]["text"]
    assert len(sent) < TRANSCRIPT_CHARS + 200
    assert "message 59" in sent and "message 0." not in sent
    [usage] = await store.usage_since(START - timedelta(days=1))
    assert usage.ref == THREAD and usage.model == "claude-haiku-5-5"


async def test_a_published_draft_is_found_at_once_public_for_everyone_internal_for_staff(
    store: Store, kb: KnowledgeBase
) -> None:
    drafting = KbDrafting(store, follower=KnowledgeFollower(kb, store))
    draft = await drafting.draft_from_thread(THREAD, "U0LEAD")
    assert draft is not None
    edited = await drafting.edit(
        draft.id,
        "Crushed parcel replacement",
        "My parcel arrived crushed, what now?",
        "Send a photo of the crushed box; a replacement ships within two days, free of charge.",
    )
    assert edited is not None and edited.title == "Crushed parcel replacement"
    assert await kb.asearch("crushed parcel replacement", include_internal=False) == []

    published = await drafting.publish(draft.id, "public", "slack:U0LEAD")
    assert published is not None and (published.status, published.visibility) == ("published", "public")
    [hit] = await kb.asearch("crushed parcel replacement photo", include_internal=False, limit=1)
    assert (hit.source, hit.slug, hit.title, hit.visibility) == (
        SOURCE,
        f"draft-{draft.id}",
        edited.title,
        "public",
    )
    assert await drafting.publish(draft.id, "internal", "slack:U0LEAD") is None  # decided once
    assert await drafting.discard(draft.id, "slack:U0LEAD") is None

    other = dataclasses.replace(THREAD, thread_id="1700000200.000300")
    await store.append_turn(
        other, Turn("user", "Bob", "Can staff override the warehouse cutoff?", "o1", START)
    )
    internal = await drafting.draft_from_thread(other, "U0LEAD")
    assert internal is not None
    await drafting.publish(internal.id, "internal", "slack:U0LEAD")
    assert [h.slug for h in await kb.asearch("warehouse cutoff override", include_internal=False)] == []
    staff = await kb.asearch("warehouse cutoff override", include_internal=True, limit=1)
    assert [(h.slug, h.visibility) for h in staff] == [(f"draft-{internal.id}", "internal")]
    # Both are the source's articles, by stable keys; the first is still found.
    assert sorted(await store.source_articles(SOURCE)) == sorted(
        [f"draft-{draft.id}", f"draft-{internal.id}"]
    )
    assert [h.slug for h in await kb.asearch("crushed parcel replacement photo", include_internal=False)][
        :1
    ] == [f"draft-{draft.id}"]


async def test_a_discarded_draft_is_never_published(store: Store, kb: KnowledgeBase) -> None:
    drafting = KbDrafting(store, follower=KnowledgeFollower(kb, store))
    draft = await drafting.draft_from_thread(THREAD, "U0LEAD")
    assert draft is not None
    discarded = await drafting.discard(draft.id, "slack:U0LEAD")
    assert discarded is not None and discarded.status == "discarded"
    assert await drafting.publish(draft.id, "public", "slack:U0LEAD") is None
    assert await drafting.waiting() == []
    assert await store.source_articles(SOURCE) == {}


def test_scrub_removes_what_a_pattern_can_find() -> None:
    text = (
        "Ann wrote from ann.lee+x@mail.example.org about C-1001 and ORD-20002, call 555-123-4567, <@U0ANN>."
    )
    assert scrub(text, ["Ann Lee", "Ann"]) == (
        "[name] wrote from [email] about [id] and [id], call [phone], [name]."
    )
