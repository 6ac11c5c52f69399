"""End to end through slack-bolt against the fake Slack: the agent view (suggested prompts, thread titles),
native streaming, the Home tab, and a workspace that uninstalls the app.

Payload shapes are Slack's: ``assistant_thread_started`` (assistant_thread: user_id, context, channel_id,
thread_ts), ``app_home_opened`` (user, channel, tab), ``app_uninstalled``, ``tokens_revoked`` (tokens: oauth,
bot), and a Home tab ``block_actions`` (container of type ``view``, no channel or message).
"""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

import pytest
from fakes.anthropic import Reply
from fakes.slack import (
    BOT_USER_ID,
    FakeSlack,
    app_home_opened_event,
    app_uninstalled_event,
    assistant_thread_started_event,
    blocks_text,
    home_button_payload,
    tokens_revoked_event,
)
from pydantic import SecretStr

from bot.config import load_bot_config
from bot.errors import ConfigError
from bot.streaming.protocol import Footer, ReplyLimits
from bot.types import ThreadRef
from integrations.slack.agent_view import thread_title
from integrations.slack.home import DASHBOARD_ACTION
from integrations.slack.native_stream import NativeSlackReplyStream, Recipient, settled_text
from tests.slack import rig as rig_module
from tests.slack.rig import ROOT, RigFactory, SlackRig, toml_text

PROMPTS = [
    {"title": "Where is my order?", "message": "Where is my order?"},
    {"title": "Returns", "message": "How do I return something?"},
]
ANSWER = "Your order **ORD-10001** shipped on Monday and arrives on Thursday. Track it in your account."


@pytest.fixture
def slack_facts(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """The ``[platforms.slack]`` table the next rig starts with (fast facts; add settings to it)."""
    facts: dict[str, object] = dict(rig_module.FAST_FACTS)
    monkeypatch.setattr(rig_module, "FAST_FACTS", facts)
    return facts


def home_text(rig: SlackRig, user_id: str) -> str:
    return blocks_text(rig.fake.home_views[user_id]["blocks"])


# ------------------------------------------------------------------ settings


def write_config(tmp_path: Path, slack: dict[str, object]) -> Path:
    data = tomllib.loads((ROOT / "config" / "bot.toml").read_text(encoding="utf-8"))
    data["platforms"]["slack"].update(slack)
    path = tmp_path / "bot.toml"
    path.write_text(toml_text(data), encoding="utf-8")
    return path


def test_the_shipped_config_suggests_prompts_and_streams_by_editing() -> None:
    facts = load_bot_config(ROOT / "config" / "bot.toml").facts("slack")
    assert facts.streaming == "edit"
    assert 1 <= len(facts.suggested_prompts) <= 4


@pytest.mark.parametrize(
    ("slack", "named"),
    [
        ({"suggested_prompts": PROMPTS * 3}, "platforms.slack.suggested_prompts"),
        ({"suggested_prompts": [{"title": "", "message": "x"}]}, "platforms.slack.suggested_prompts.0.title"),
        ({"suggested_prompts": [{"title": "x"}]}, "platforms.slack.suggested_prompts.0.message"),
        ({"streaming": "chunks"}, "platforms.slack.streaming"),
    ],
)
def test_bad_agent_settings_name_their_key(tmp_path: Path, slack: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_bot_config(write_config(tmp_path, slack))


def test_only_slack_takes_the_agent_settings(tmp_path: Path) -> None:
    data = tomllib.loads((ROOT / "config" / "bot.toml").read_text(encoding="utf-8"))
    data["platforms"]["discord"]["streaming"] = "native"
    path = tmp_path / "bot.toml"
    path.write_text(toml_text(data), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"settings of platforms\.slack only"):
        load_bot_config(path)


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("Where is my order?", "Where is my order?"),
        ("  where   is\tmy order?\n\nIt was due Monday.", "where is my order?"),
        (
            "My parcel from the spring sale has not arrived although the tracking page says delivered",
            "My parcel from the spring sale has not arrived although the…",
        ),
        ("x" * 100, "x" * 59 + "…"),
    ],
)
def test_a_thread_title_is_the_questions_first_line_cut_at_a_word(question: str, title: str) -> None:
    assert thread_title(question) == title
    assert len(thread_title(question)) <= 60


def test_only_whole_words_of_an_interim_text_are_streamed() -> None:
    assert settled_text("Hello wor ▍") == ("Hello ", False)
    assert settled_text("Ping @chan ▍") == ("Ping ", False)  # may yet become @channel
    assert settled_text("Ping @channel now") == ("Ping @\u2060channel now", True)
    assert settled_text("Run:\n```\nls -la\n```\n▍") == ("Run:\n```\nls ", False)  # not the closing fence


# ------------------------------------------------------------------ the agent view


async def test_an_assistant_thread_offers_the_prompts_and_is_titled_by_its_first_question(
    slack_rig: RigFactory, slack_facts: dict[str, object]
) -> None:
    slack_facts["suggested_prompts"] = PROMPTS
    rig = await slack_rig()
    ann = rig.user("ann")
    dm = rig.fake.add_dm(ann.id)
    # The thread Slack starts when the agent view opens (its root stands in the DM; no event for it).
    root = rig.fake.post_as_user(dm.id, ann.id, "New chat").ts
    started = assistant_thread_started_event(
        user=ann.id, channel=dm.id, thread_ts=root, context_channel=rig.fake.general.id
    )
    assert (await rig.sender.send_event(started)).status == 200
    await rig.settle()
    assert rig.fake.suggested_prompts[(dm.id, root)] == PROMPTS

    rig.model.script(Reply.text(ANSWER), Reply.text("Anything else?"))
    question = "Where is my order ORD-10001? It was due on Monday and the tracking page has not changed"
    await rig.say(ann, question, channel=dm.id, thread_ts=root)
    await rig.settle()
    await rig.say(ann, "And can I change the address?", channel=dm.id, thread_ts=root)
    await rig.settle()

    assert (
        rig.fake.assistant_titles[(dm.id, root)]
        == "Where is my order ORD-10001? It was due on Monday and the…"
    )
    assert len(rig.fake.calls("assistant.threads.setTitle")) == 1  # the later question kept the title
    replies = [m.visible_text for m in rig.bot_messages(dm.id, root)]
    assert [ANSWER.replace("**", "*") in replies[0], replies[1].startswith("Anything else?")] == [True, True]


async def test_no_prompts_configured_means_no_call(
    slack_rig: RigFactory, caplog: pytest.LogCaptureFixture
) -> None:
    rig = await slack_rig()
    ann = rig.user("ann")
    dm = rig.fake.add_dm(ann.id)
    event = assistant_thread_started_event(user=ann.id, channel=dm.id, thread_ts=rig.fake.next_ts())
    assert (await rig.sender.send_event(event)).status == 200
    # The person looks at another channel beside the pane: acknowledged, nothing to do.
    changed = {**event, "type": "assistant_thread_context_changed"}
    assert (await rig.sender.send_event(changed)).status == 200
    await rig.settle()
    assert rig.fake.calls("assistant.threads.setSuggestedPrompts") == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


# ------------------------------------------------------------------ native streaming


async def test_native_streaming_grows_one_message_and_ends_with_its_sources_and_buttons(
    slack_rig: RigFactory, slack_facts: dict[str, object]
) -> None:
    slack_facts["streaming"] = "native"
    rig = await slack_rig()
    rig.model.script(
        Reply.tool_use(("search_kb", {"query": "return policy"})),
        Reply.text(ANSWER, tokens_per_second=60, chunk=4),
    )
    ann = rig.user("ann")
    post = await rig.mention(ann, "where is my order?")
    await rig.settle()

    [start] = rig.fake.calls("chat.startStream")
    # In a channel, the stream names the person it is for.
    assert (start.args["recipient_user_id"], start.args["recipient_team_id"]) == (ann.id, rig.fake.team_id)
    appends = rig.fake.calls("chat.appendStream")
    assert len(appends) >= 2 and all(call.ok for call in appends)
    [stop] = rig.fake.calls("chat.stopStream")
    assert stop.ok and rig.fake.calls("chat.update") == []
    [reply] = rig.bot_messages(rig.fake.general.id, post.ts)
    assert reply.text == ANSWER  # Markdown, as the model wrote it
    assert "Sources:" in reply.visible_text and "▍" not in reply.visible_text
    assert any(block["type"] == "actions" for block in reply.blocks or [])  # the feedback buttons
    assert not rig.fake.streaming


async def test_a_person_who_stops_the_stream_ends_the_answer_quietly(
    slack_rig: RigFactory, slack_facts: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    slack_facts["streaming"] = "native"
    rig = await slack_rig()
    long_answer = " ".join(f"word{i}" for i in range(400))
    rig.model.script(Reply.text(long_answer, tokens_per_second=100, chunk=2))
    ann = rig.user("ann")
    caplog.set_level(logging.INFO)
    post = await rig.mention(ann, "tell me everything")
    await rig.fake.wait_for_calls("chat.appendStream", 2)
    [reply] = rig.bot_messages(rig.fake.general.id, post.ts)
    rig.fake.stop_stream_as_user(reply.channel, reply.ts)
    shown = reply.text
    await rig.settle()

    refused = [c for c in rig.fake.calls("chat.appendStream") if not c.ok]
    assert len(refused) <= 1  # the append that learned of the stop; nothing after it
    assert rig.fake.calls("chat.stopStream") == [] and rig.fake.calls("chat.update") == []
    assert shown.startswith(reply.text[: len(shown)]) and len(reply.text) < len(long_answer)
    assert len(rig.bot_messages(rig.fake.general.id, post.ts)) == 1
    assert [r.message for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert sum("stopped by the person" in r.getMessage() for r in caplog.records) == 1
    # The answer itself was ended (cancelled), not left to run on unseen.
    assert not [r for r in caplog.records if r.name == "integrations.slack.answering"]
    assert not [r for r in caplog.records if r.getMessage() == "answer"]


# ------------------------------------------------------------------ the Home tab


async def test_the_home_tab_says_how_to_ask(slack_rig: RigFactory, slack_facts: dict[str, object]) -> None:
    slack_facts["suggested_prompts"] = PROMPTS
    rig = await slack_rig(dashboard_secret=SecretStr("s" * 32), public_url="https://support.example.com")
    ann = rig.user("ann")
    dm = rig.fake.add_dm(ann.id)
    event = app_home_opened_event(user=ann.id, channel=dm.id)
    assert (await rig.sender.send_event(event)).status == 200
    await rig.settle()
    text = home_text(rig, ann.id)
    assert "How to ask" in text and "mention me" in text and "How do I return something?" in text
    assert "For leads" not in text and "dashboard" not in text.lower()


async def test_a_lead_sees_the_open_escalations_and_gets_a_fresh_dashboard_link(
    slack_rig: RigFactory, wall_clock_slack: FakeSlack
) -> None:
    lead = wall_clock_slack.add_user(name="lea")
    rig = await slack_rig(
        slack={"lead_user_ids": [lead.id]},
        dashboard_secret=SecretStr("s" * 32),
        public_url="https://support.example.com",
    )
    ann = rig.user("ann")
    thread = ThreadRef("slack", rig.fake.team_id, rig.fake.general.id, rig.fake.next_ts())
    await rig.core.store.open_escalation(thread, ann.id, "Parcel lost, wants a refund")
    dm = rig.fake.add_dm(lead.id)
    assert (await rig.sender.send_event(app_home_opened_event(user=lead.id, channel=dm.id))).status == 200
    await rig.settle()
    text = home_text(rig, lead.id)
    assert "For leads" in text and "1 open escalation" in text and "Parcel lost" in text
    assert "/dashboard/login" not in text  # a link is made when asked for, not with the tab

    delivery = await rig.sender.send_interaction(
        home_button_payload(user_id=lead.id, action_id=DASHBOARD_ACTION)
    )
    assert delivery.status == 200
    await rig.settle()
    assert "https://support.example.com/dashboard/login?t=" in home_text(rig, lead.id)
    assert len(rig.fake.calls("views.publish")) == 2


# ------------------------------------------------------------------ uninstalling


async def test_an_uninstalled_workspace_gets_no_more_calls(
    slack_rig: RigFactory, caplog: pytest.LogCaptureFixture
) -> None:
    rig = await slack_rig()
    rig.model.script(Reply.text(" ".join(f"word{i}" for i in range(400)), tokens_per_second=100, chunk=2))
    ann = rig.user("ann")
    caplog.set_level(logging.INFO)
    await rig.mention(ann, "tell me everything")
    await rig.fake.wait_for_calls("chat.update", 1)
    rig.fake.revoke(rig.fake.bot_token)  # what uninstalling does to the token
    assert (await rig.sender.send_event(app_uninstalled_event())).status == 200
    assert (await rig.sender.send_event(tokens_revoked_event(bot=[BOT_USER_ID]))).status == 200
    await rig.settle()
    calls = len(rig.fake.calls())
    await rig.mention(ann, "are you there?")
    await rig.settle()

    writes = [c for c in rig.fake.calls()[calls:] if c.method.startswith(("chat.", "assistant."))]
    assert writes == []
    assert [c.method for c in rig.fake.calls() if c.error == "token_revoked"] == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    stops = [r.getMessage() for r in caplog.records if "no more calls for it" in r.getMessage()]
    assert len(stops) == 1 and "uninstalled" in stops[0] and "1 answer(s) in progress" in stops[0]


async def test_revoked_user_tokens_alone_do_not_stop_the_bot(slack_rig: RigFactory) -> None:
    rig = await slack_rig()
    assert (await rig.sender.send_event(tokens_revoked_event(oauth=["U0SOMEONE"]))).status == 200
    rig.model.script(Reply.text(ANSWER))
    post = await rig.mention(rig.user("ann"), "where is my order?")
    await rig.settle()
    assert rig.bot_messages(rig.fake.general.id, post.ts)


async def test_a_final_text_that_does_not_continue_the_stream_replaces_it(fake_slack: FakeSlack) -> None:
    """The stream alone, through slack_sdk against the fake: interim texts grow the message; a last text
    that is not their continuation (the model's completed text differs) stops the stream and edits it."""
    ann = fake_slack.add_user(name="ann")
    root = fake_slack.post_as_user(fake_slack.general.id, ann.id, "hello?").ts
    stream = NativeSlackReplyStream(
        fake_slack.client(),
        channel_id=fake_slack.general.id,
        thread_ts=root,
        recipient=Recipient(ann.id, fake_slack.team_id),
        limits=ReplyLimits(max_chars=2900),
        on_stopped=lambda: None,
    )
    ref = await stream.post("Your order is on its wa ▍")
    await stream.edit(ref, "Your order is on its way to you ▍")
    assert fake_slack.message(fake_slack.general.id, ref).text == "Your order is on its way to "
    await stream.edit(ref, "Your order arrives on Thursday.", Footer("r1", buttons=False))
    message = fake_slack.message(fake_slack.general.id, ref)
    assert message.visible_text == "Your order arrives on Thursday."
    assert [c.method for c in fake_slack.calls() if c.method.startswith("chat.")] == [
        "chat.startStream",
        "chat.appendStream",
        "chat.stopStream",
        "chat.update",
    ]
