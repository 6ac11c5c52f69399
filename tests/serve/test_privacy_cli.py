"""`supportbot forget`, `supportbot prune` and serve's retention, as an operator runs them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.store import ReplyRecord, Store, UsageRecord
from bot.store.open import open_store
from bot.types import ThreadRef, Turn
from tests.serve.rig import ROOT, Supportbot, run

THREAD = ThreadRef("slack", "T1", "C1", "1000.000100")
OTHER = ThreadRef("slack", "T1", "C1", "2000.000100")
NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=120)


async def seeded(tmp_path: Path) -> Store:
    """Ann long ago (a question, the answer, its reply and usage rows), and Bob today."""
    store = await open_store(f"sqlite:///{tmp_path / 'supportbot.db'}")
    await store.append_turn(THREAD, Turn("user", "ann", "where is ORD-1?", "m1", OLD, user_id="U0ANN"))
    await store.append_turn(THREAD, Turn("assistant", "bot", "shipped", "m2", OLD, answered_for="U0ANN"))
    await store.record_reply(ReplyRecord("r1", THREAD, OLD, 800.0, False, False, user_id="U0ANN"))
    await store.record_usage(UsageRecord(THREAD, "r1", "claude-sonnet-4-5", 900, 90, 0, 0, 0.01, OLD))
    await store.append_turn(OTHER, Turn("user", "bob", "returns?", "m3", NOW, user_id="U0BOB"))
    await store.link_identity("slack", "U0ANN", "C-1001")
    return store


async def test_prune_deletes_what_is_older_than_the_retention_period_and_says_what(tmp_path: Path) -> None:
    store = await seeded(tmp_path)
    try:
        status, output, _ = await run(tmp_path, "prune")
        assert status == 0, output
        assert output.strip() == (
            "pruned what is older than 90 days: deleted 2 message(s); "
            "unlinked from people: 1 answer record(s)"
        )
        assert await store.load_turns(THREAD) == []
        assert [t.text for t in await store.load_turns(OTHER)] == ["returns?"]
        assert [r.reply_id for r in await store.replies_since(OLD)] == ["r1"]  # still counted
        assert len(await store.usage_since(OLD)) == 1
        status, output, _ = await run(tmp_path, "prune")
        assert (status, output.strip()) == (
            0,
            "pruned what is older than 90 days: deleted nothing; unlinked from people: nothing",
        )
    finally:
        await store.close()


async def test_forget_deletes_one_persons_rows_and_is_audited(tmp_path: Path) -> None:
    store = await seeded(tmp_path)
    try:
        await store.mark_solved(THREAD, "U0ANN", "m2")  # Ann marked the answer as what solved it
        status, output, _ = await run(tmp_path, "forget", "slack:U0ANN", "--by", "olga")
        assert status == 0, output
        assert output.strip() == (
            "forgot slack:U0ANN: deleted 1 message(s), 1 answer(s) to them, 1 customer link; "
            "unlinked from them: 1 answer record(s), 1 solved thread(s)"
        )
        assert await store.solved_since(OLD) == [THREAD]  # still counted, without who marked it
        assert await store.load_turns(THREAD) == []
        assert await store.customer_for("slack", "U0ANN") is None
        assert [t.text for t in await store.load_turns(OTHER)] == ["returns?"]
        # Recorded for the leads: shown in every Slack workspace's /support audit.
        [action] = await store.lead_actions("slack", "T1")
        assert (action.user_id, action.action, action.argument, action.channel_id) == (
            "operator:olga",
            "forget",
            "U0ANN",
            "",
        )
        status, output, _ = await run(tmp_path, "forget", "slack:U0ANN")
        assert (status, output.strip()) == (0, "forgot slack:U0ANN: nothing was stored about them")

        status, _, errors = await run(tmp_path, "forget", "U0ANN")
        assert status == 2
        assert "forget: 'U0ANN' is not PLATFORM:USER_ID" in errors
    finally:
        await store.close()


async def test_a_retention_period_out_of_bounds_is_named(tmp_path: Path) -> None:
    config = tmp_path / "bot.toml"
    text = (ROOT / "config" / "bot.toml").read_text(encoding="utf-8")
    config.write_text(text.replace("retention_days = 90", "retention_days = 0"), encoding="utf-8")
    status, output, errors = await run(tmp_path, "prune", BOT_CONFIG_PATH=str(config))
    assert status == 2 and output == ""
    assert "privacy.retention_days" in errors and len(errors.strip().splitlines()) == 1


async def test_serve_prunes_when_it_starts(tmp_path: Path) -> None:
    store = await seeded(tmp_path)
    bot = await Supportbot.start(tmp_path)

    def pruned() -> list[str]:
        return [line["message"] for line in bot.json_lines() if line["message"].startswith("retention:")]

    try:
        await bot.wait_up()  # no front end and no model key: up, never ready
        for _ in range(300):  # the run goes on beside the start; a bounded wait, no timing asserted
            if pruned():
                break
            await asyncio.sleep(0.1)
        assert pruned() == [
            "retention: deleted 2 message(s); unlinked from people: 1 answer record(s) older than 90 days"
        ]
        assert await store.load_turns(THREAD) == []
        assert [t.text for t in await store.load_turns(OTHER)] == ["returns?"]
    finally:
        assert await bot.stop() == 0
        await store.close()
