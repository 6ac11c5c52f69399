"""Hard stops on one answer (docs/architecture.md §6: every loop has a hard stop): a model, or a gateway in
front of
it, that keeps asking for tools although told to answer without them, that keeps pausing, or that writes
for longer than an answer may take. The answer ends with what it wrote and a short notice, the reply is
recorded as failed, and the thread answers its next message."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fakes.anthropic import FakeAnthropic, RecordedRequest, Reply

from bot.agent.loop import STEPS_NOTICE, TIMEOUT_NOTICE
from bot.config import load_bot_config
from bot.errors import ConfigError
from bot.runtime import App
from bot.types import ThreadRef
from tests.e2e.rig import CONFIG, MakeApp, ask, who
from tests.slack.rig import toml_text

C1001 = who("customer:C-1001")
GIVE_UP_AFTER = 60
"""The fake model stops misbehaving after this many requests, so that a test without the hard stop ends."""


def bot_toml(tmp_path: Path, **agent: object) -> Path:
    """The repository's bot.toml with ``agent`` set in its ``[agent]`` table."""
    data = tomllib.loads((CONFIG / "bot.toml").read_text(encoding="utf-8"))
    data["agent"] = {**data["agent"], **agent}
    path = tmp_path / "bot.toml"
    path.write_text(toml_text(data), encoding="utf-8")
    return path


async def answered_next(app: App, fake: FakeAnthropic, thread: ThreadRef) -> None:
    """The thread is free: its next message gets the model's answer."""
    fake.responder = None
    fake.script(Reply.text("Here is the next answer."))
    seen = await ask(app, C1001, "and now?", ref=thread)
    assert seen.text == "Here is the next answer."


async def test_a_model_that_asks_for_tools_when_told_not_to_is_stopped(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    def stubborn(request: RecordedRequest) -> Reply:
        if len(fake_anthropic.message_requests) > GIVE_UP_AFTER:
            return Reply.text("I give up.")
        return Reply.tool_use(("search_kb", {"query": "returns"}), text="Searching again.")

    fake_anthropic.responder = stubborn
    rounds = app.config.agent.max_tool_rounds
    since = datetime.now(UTC)

    seen = await ask(app, C1001, "Search forever.", ref=thread)

    assert seen.text.endswith(f"Searching again.\n\n_{STEPS_NOTICE}_"), seen.text
    assert seen.handled.outcome is not None and seen.handled.outcome.failed
    requests = fake_anthropic.message_requests
    assert len(requests) == rounds + 1
    assert requests[-1].body["tool_choice"] == {"type": "none"}
    assert len(await app.store.tool_calls()) == rounds  # the tools it asked for last did not run
    [record] = await app.store.replies_since(since)
    assert record.failed
    await answered_next(app, fake_anthropic, thread)


async def test_a_model_that_keeps_pausing_is_stopped_at_the_model_call_limit(
    app: App, fake_anthropic: FakeAnthropic, thread: ThreadRef
) -> None:
    def pausing(request: RecordedRequest) -> Reply:
        if len(fake_anthropic.message_requests) > GIVE_UP_AFTER:
            return Reply.text("Done at last.")
        return Reply.text("More.", stop_reason="pause_turn")

    fake_anthropic.responder = pausing
    calls = app.config.agent.max_model_calls_per_answer

    seen = await ask(app, C1001, "Tell me everything.", ref=thread)

    assert len(fake_anthropic.message_requests) == calls
    assert seen.text.startswith("More.") and seen.text.endswith(f"\n\n_{STEPS_NOTICE}_"), seen.text
    assert "Done at last." not in seen.text
    await answered_next(app, fake_anthropic, thread)


async def test_an_answer_that_takes_too_long_keeps_what_it_wrote_and_ends_with_a_notice(
    make_app: MakeApp, fake_anthropic: FakeAnthropic, thread: ThreadRef, tmp_path: Path
) -> None:
    app = await make_app(
        anthropic_base_url=fake_anthropic.base_url,
        bot_config_path=bot_toml(tmp_path, answer_timeout_seconds=1),
    )
    start = "Here is the start of a very long answer."
    # About 60 s of text: far longer than the answer may take.
    fake_anthropic.script(Reply.text(start + " more" * 600, chunk=5, delay=0.1))

    seen = await ask(app, C1001, "Tell me everything, slowly.", ref=thread)

    assert seen.text.startswith(start) and seen.text.endswith(f"\n\n_{TIMEOUT_NOTICE}_"), seen.text
    assert seen.handled.outcome is not None and seen.handled.outcome.failed
    assert " more" * 500 not in seen.text
    await answered_next(app, fake_anthropic, thread)


@pytest.mark.parametrize(
    ("agent", "named"),
    [
        ({"max_model_calls_per_answer": 6}, "agent: max_model_calls_per_answer must be larger"),
        ({"max_model_calls_per_answer": 101}, "agent.max_model_calls_per_answer:"),
        ({"answer_timeout_seconds": 0}, "agent.answer_timeout_seconds:"),
        ({"answer_timeout_seconds": 100_000}, "agent.answer_timeout_seconds:"),
    ],
)
def test_the_hard_stops_are_validated(tmp_path: Path, agent: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_bot_config(bot_toml(tmp_path, **agent))
    assert named in str(caught.value) and "\n" not in str(caught.value)


def test_the_shipped_bot_toml_sets_the_hard_stops() -> None:
    config = load_bot_config(CONFIG / "bot.toml")
    assert config.agent.max_model_calls_per_answer > config.agent.max_tool_rounds
    assert 1 <= config.agent.answer_timeout_seconds <= 900
