"""The Slack front end under test (see ``conftest.slack_rig``) and helpers to read what a user sees."""

from __future__ import annotations

import tomllib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakes.anthropic import FakeAnthropic
from fakes.slack import (
    SIGNING_SECRET,
    EventSender,
    FakeMessage,
    FakeSlack,
    FakeUser,
    UserPost,
    block_actions_payload,
    mention,
)

from bot.run.app import build_app
from bot.runtime import App
from bot.settings import Settings
from integrations.slack.app import SlackFrontEnd
from integrations.slack.blocks import HELPFUL, NOT_HELPFUL, parse_vote
from integrations.slack.server import SlackHttpServer

ROOT = Path(__file__).resolve().parents[2]
FAST_FACTS = {
    "max_message_chars": 2900,
    "edit_interval_seconds": 0.05,
    "edits_per_minute": 60000,
    "edit_reserve": 10,
    "posts_per_second": 1000,
}


def toml_text(data: Mapping[str, Any], prefix: str = "") -> str:
    """A TOML document of nested tables of scalars and lists (enough for bot.toml)."""
    scalars = {k: v for k, v in data.items() if not isinstance(v, Mapping)}
    tables = {k: v for k, v in data.items() if isinstance(v, Mapping)}
    lines = [f"[{prefix}]"] if prefix and scalars else []
    lines += [f"{key} = {_toml_value(value)}" for key, value in scalars.items()]
    text = "\n".join(lines) + ("\n\n" if lines else "")
    for key, table in tables.items():
        name = f'"{key}"' if not key.replace("_", "").replace("-", "").isalnum() or key[0].isupper() else key
        text += toml_text(table, f"{prefix}.{name}" if prefix else name)
    return text


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, Mapping):  # an inline table (e.g. an array of tables' item)
        return "{ " + ", ".join(f"{key} = {_toml_value(item)}" for key, item in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def bot_toml(
    path: Path,
    *,
    fast: bool,
    slack: Mapping[str, Any] | None = None,
    channels: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """The repository's bot.toml with the given ``[slack]`` and ``[channels]`` tables (and fast facts)."""
    data = tomllib.loads((ROOT / "config" / "bot.toml").read_text(encoding="utf-8"))
    data["slack"] = dict(slack or {})
    data["channels"] = {key: dict(value) for key, value in (channels or {}).items()}
    if fast:
        data["platforms"]["slack"] = dict(FAST_FACTS)
    path.write_text(toml_text(data), encoding="utf-8")
    return path


def rig_settings(
    tmp_path: Path, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic, config: Path
) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        anthropic_api_key="test-key",
        anthropic_base_url=fake_anthropic.base_url,
        model_max_retries=0,
        database_url=f"sqlite:///{tmp_path / 'supportbot.db'}",
        kb_path=ROOT / "config" / "kb",
        kb_index_path=tmp_path / "kb.sqlite3",
        bot_config_path=config,
        system_prompt_path=ROOT / "config" / "prompts" / "system.md",
        demo_orders_path=ROOT / "config" / "demo" / "orders.json",
        orders_db_path=tmp_path / "orders.sqlite3",
        slack_bot_token=fake_slack.bot_token,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url,
    )


@dataclass
class SlackRig:
    fake: FakeSlack
    model: FakeAnthropic
    core: App
    front: SlackFrontEnd
    server: SlackHttpServer
    sender: EventSender

    async def settle(self) -> None:
        """Wait until the app has finished everything the requests so far started."""
        await self.front.tasks.wait_idle()

    async def stop(self) -> None:
        """Stop serving, let the answers in progress finish, close the app."""
        await self.server.stop()
        await self.front.close(grace=10.0)
        await self.core.close()

    def user(self, name: str, **kwargs: Any) -> FakeUser:
        return self.fake.add_user(name=name, **kwargs)

    async def mention(
        self, user: FakeUser, text: str, *, channel: str | None = None, thread_ts: str | None = None
    ) -> UserPost:
        """``user`` writes ``@Support text``; Slack delivers the app_mention and the message event."""
        post = self.fake.post_as_user(
            channel or self.fake.general.id, user.id, f"{mention()} {text}", thread_ts
        )
        await self.deliver(post)
        return post

    async def say(
        self, user: FakeUser, text: str, *, channel: str | None = None, thread_ts: str | None = None
    ) -> UserPost:
        """``user`` writes ``text`` (no mention); Slack delivers the message event."""
        post = self.fake.post_as_user(channel or self.fake.general.id, user.id, text, thread_ts)
        await self.deliver(post)
        return post

    async def deliver(self, post: UserPost) -> None:
        """Deliver the events Slack sends for ``post``, each acknowledged with 200."""
        events = [post.message_event] + ([post.app_mention_event] if post.app_mention_event else [])
        for event in events:
            delivery = await self.sender.send_event(event)
            assert delivery.status == 200, delivery

    async def command(self, user: FakeUser, text: str, *, channel: str | None = None) -> str | None:
        """``user`` runs ``/support text``; the reply only they see (None if there was none)."""
        channel_id = channel or self.fake.general.id
        url = self.fake.new_response_url(channel_id=channel_id, user_id=user.id)
        delivery = await self.sender.send_slash_command(
            "/support", text, user_id=user.id, channel_id=channel_id, response_url=url
        )
        assert (delivery.status, delivery.body) == (200, ""), delivery  # acknowledged at once, empty
        await self.settle()
        return _only_reply(self.fake.response_posts(url))

    async def click(self, user: FakeUser, message: FakeMessage, choice: str) -> str | None:
        """``user`` clicks ``choice`` on ``message`` (a button's action id, or HELPFUL / NOT_HELPFUL for the
        feedback buttons); the reply only they see, if any."""
        url = self.fake.new_response_url(channel_id=message.channel, user_id=user.id, message_ts=message.ts)
        payload = click_payload(self.fake, message, choice, user.id, url)
        delivery = await self.sender.send_interaction(payload)
        assert delivery.status == 200, delivery
        await self.settle()
        return _only_reply(self.fake.response_posts(url))

    def bot_messages(self, channel: str, thread_ts: str | None = None) -> list[FakeMessage]:
        """The bot's messages in the thread (at the top level of ``channel`` when ``thread_ts`` is None)."""
        return [m for m in self.fake.bot_messages(channel) if m.thread_ts == thread_ts]


async def start_slack_rig(
    fake: FakeSlack,
    model: FakeAnthropic,
    settings: Settings,
    *,
    signing_secret: str = SIGNING_SECRET,
) -> SlackRig:
    """The app built from ``settings``, its Slack front end served over HTTP on 127.0.0.1, and an event
    sender signing like Slack; stop it with :meth:`SlackRig.stop`."""
    core = await build_app(settings)
    front = await SlackFrontEnd.start(core, bot_token=fake.bot_token, signing_secret=signing_secret)
    server = SlackHttpServer(front, "127.0.0.1", 0)
    url = await server.start()
    return SlackRig(
        fake, model, core, front, server, fake.event_sender(f"{url}/slack/events", signing_secret)
    )


def _only_reply(posts: list[dict[str, Any]]) -> str | None:
    assert len(posts) <= 1, posts
    if not posts:
        return None
    assert posts[0]["response_type"] == "ephemeral" and posts[0]["replace_original"] is False, posts[0]
    assert posts[0].get("unfurl_links") is False and posts[0].get("unfurl_media") is False, posts[0]
    return str(posts[0]["text"])


def section_text(message: FakeMessage) -> str:
    """The text a person reads in the message body (its sections; not the sources line)."""
    return "\n".join(
        block["text"]["text"] for block in message.blocks or () if block.get("type") == "section"
    )


def reply_text(messages: list[FakeMessage]) -> str:
    return "\n".join(section_text(m) for m in messages)


@dataclass(frozen=True)
class Control:
    """Something to click on a message: a button, or one of the two feedback buttons."""

    choice: str  # the button's action id, or the vote of a feedback button (HELPFUL / NOT_HELPFUL)
    value: str  # what it is about: the reply's id, the thread's key
    action: dict[str, Any]  # the action of the block_actions payload a click on it sends


def controls(message: FakeMessage) -> list[Control]:
    """What can be clicked on ``message``, in order, as Slack shows it."""
    found: list[Control] = []
    for block in message.blocks or ():
        for element in (
            block.get("elements", ()) if block.get("type") in ("actions", "context_actions") else ()
        ):
            if element.get("type") == "button":
                action = {"action_id": element["action_id"], "value": element.get("value", "")}
                found.append(Control(element["action_id"], element.get("value", ""), action))
            elif element.get("type") == "feedback_buttons":
                for side in ("positive_button", "negative_button"):
                    button = element[side]
                    vote = parse_vote(button["value"])
                    assert vote is not None, button
                    action = {
                        "action_id": element["action_id"],
                        "value": button["value"],
                        "action_type": "feedback_buttons",
                        "label": button["text"]["text"],
                    }
                    found.append(Control(HELPFUL if vote[0] else NOT_HELPFUL, vote[1], action))
    return found


def buttons(message: FakeMessage) -> list[tuple[str, str]]:
    """(choice, value) of everything clickable on ``message``."""
    return [(control.choice, control.value) for control in controls(message)]


def click_payload(
    fake: FakeSlack, message: FakeMessage, choice: str, user_id: str, response_url: str
) -> dict[str, Any]:
    """The ``block_actions`` payload Slack sends when ``user_id`` clicks ``choice`` on ``message``."""
    [control] = [control for control in controls(message) if control.choice == choice]
    return block_actions_payload(
        user_id=user_id,
        channel_id=message.channel,
        message_ts=message.ts,
        thread_ts=message.thread_ts,
        response_url=response_url,
        message=fake.message_json(message),
        **control.action,
    )


def sources_line(message: FakeMessage) -> str | None:
    for block in message.blocks or ():
        if block.get("type") == "context":
            return str(block["elements"][0]["text"])
    return None


RigFactory = Callable[..., Awaitable[SlackRig]]
