"""The Events API side: event and interaction payloads as Slack sends them, signed by :class:`EventSender`."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, TypeAlias
from urllib.parse import urlencode

import aiohttp

from .blocks import rich_text_blocks
from .state import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    JSON,
    SIGNING_SECRET,
    TEAM_DOMAIN,
    TEAM_ID,
    VERIFICATION_TOKEN,
    ChannelKind,
)

# --------------------------------------------------------------------------------------------------
# Events API payloads with Slack's shapes


def _wall_ts() -> str:
    micros = round(time.time() * 1_000_000)
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def app_mention_event(
    *,
    user: str,
    text: str,
    channel: str,
    ts: str,
    thread_ts: str | None = None,
    team: str = TEAM_ID,
) -> JSON:
    """An ``app_mention`` event; put ``mention()`` (``<@U0BOT>``) in ``text`` yourself."""
    event: JSON = {
        "type": "app_mention",
        "user": user,
        "ts": ts,
        "client_msg_id": str(uuid.uuid4()),
        "text": text,
        "team": team,
        "blocks": rich_text_blocks(text),
        "channel": channel,
        "event_ts": ts,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event


def message_event_payload(
    *,
    channel: str,
    user: str,
    text: str,
    ts: str,
    channel_type: ChannelKind,
    thread_ts: str | None,
    parent_user_id: str | None,
    team: str,
    blocks: list[JSON] | None,
) -> JSON:
    event: JSON = {
        "type": "message",
        "user": user,
        "ts": ts,
        "client_msg_id": str(uuid.uuid4()),
        "text": text,
        "team": team,
        "blocks": copy.deepcopy(blocks) if blocks is not None else rich_text_blocks(text),
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
        if parent_user_id is not None:
            event["parent_user_id"] = parent_user_id
    return event


MessageSubtype: TypeAlias = Literal["bot_message", "message_changed", "message_deleted", "channel_join"]


def message_event(
    *,
    channel: str,
    ts: str | None = None,
    text: str = "",
    user: str | None = None,
    channel_type: ChannelKind = "channel",
    thread_ts: str | None = None,
    parent_user_id: str | None = None,
    subtype: MessageSubtype | None = None,
    bot_id: str | None = None,
    previous_text: str | None = None,
    event_ts: str | None = None,
    team: str = TEAM_ID,
) -> JSON:
    """A ``message`` event as the Events API delivers it.

    - no subtype: a person's message (``user`` required); with ``bot_id`` (and ``user=BOT_USER_ID``) the
      echo of a message an app posted, which carries no subtype but a ``bot_id``;
    - ``bot_message``: a legacy bot/integration post (``bot_id``, no ``user``);
    - ``message_changed``: ``ts`` is the edited message, ``text`` its new text, ``previous_text`` the old;
    - ``message_deleted``: ``ts`` is the deleted message;
    - ``channel_join``: ``user`` joined ``channel``.

    ``event_ts`` defaults to ``ts`` for new messages and to the current time for changes and deletions.
    """
    ts = ts or _wall_ts()
    if subtype == "message_changed" or subtype == "message_deleted":
        when = event_ts or _wall_ts()
        previous: JSON = {"type": "message", "text": previous_text or "", "ts": ts}
        if user is not None:
            previous["user"] = user
        if bot_id is not None:
            previous["bot_id"] = bot_id
        if thread_ts is not None:
            previous["thread_ts"] = thread_ts
        event: JSON = {
            "type": "message",
            "subtype": subtype,
            "hidden": True,
            "channel": channel,
            "ts": when,
            "event_ts": when,
            "channel_type": channel_type,
            "previous_message": previous,
        }
        if subtype == "message_changed":
            changed = dict(previous, text=text, edited={"user": user or "", "ts": when})
            if bot_id is None:
                changed["blocks"] = rich_text_blocks(text)
            event["message"] = changed
        else:
            event["deleted_ts"] = ts
        return event
    event = {"type": "message"}
    if subtype == "bot_message":
        event.update(subtype="bot_message", bot_id=bot_id or "B0OTHERBOT", username="other bot")
    elif subtype == "channel_join":
        if user is None:
            raise ValueError("channel_join needs user=")
        event.update(subtype="channel_join", user=user)
        text = text or f"<@{user}> has joined the channel"
    else:
        if user is None:
            raise ValueError("a message event without a subtype needs user=")
        event["user"] = user
        if bot_id is not None:
            event.update(bot_id=bot_id, app_id=APP_ID if bot_id == BOT_ID else "A0OTHERAPP")
        else:
            event.update(client_msg_id=str(uuid.uuid4()), blocks=rich_text_blocks(text))
    event.update(text=text, ts=ts, team=team, channel=channel, event_ts=event_ts or ts)
    event["channel_type"] = channel_type
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
        if parent_user_id is not None:
            event["parent_user_id"] = parent_user_id
    return event


def block_actions_payload(
    *,
    user_id: str,
    channel_id: str,
    message_ts: str,
    action_id: str,
    value: str | None = None,
    block_id: str = "actions",
    action_type: str = "button",
    label: str | None = None,
    response_url: str | None = None,
    thread_ts: str | None = None,
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    message: JSON | None = None,
) -> JSON:
    """A ``block_actions`` interaction payload for a click on a message: a ``button``, or one of the two
    buttons of a ``feedback_buttons`` element (``action_type``), whose ``value`` and ``label`` are those of
    the button clicked."""
    container: JSON = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel_id,
        "is_ephemeral": False,
    }
    if thread_ts is not None:
        container["thread_ts"] = thread_ts
    action: JSON = {
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": label or action_id, "emoji": True},
        "type": action_type,
        "action_ts": _wall_ts(),
    }
    if value is not None:
        action["value"] = value
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": f"{next(_trigger_ids)}.{team_id}.fake",
        "team": {"id": team_id, "domain": team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_id.lower()},
        "message": message or {"type": "message", "ts": message_ts, "text": ""},
        "state": {"values": {}},
        "response_url": response_url or f"https://hooks.slack.com/actions/{team_id}/1/fake",
        "actions": [action],
    }


def home_button_payload(*, user_id: str, action_id: str, team_id: str = TEAM_ID) -> JSON:
    """A ``block_actions`` payload for a click on a button in ``user_id``'s Home tab: its container is the
    view, and it has no channel, message or ``response_url``."""
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {"type": "view", "view_id": "V0HOME"},
        "trigger_id": f"{next(_trigger_ids)}.{team_id}.fake",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": {"id": "V0HOME", "type": "home", "team_id": team_id, "blocks": []},
        "actions": [
            {
                "action_id": action_id,
                "block_id": "home",
                "text": {"type": "plain_text", "text": action_id, "emoji": True},
                "type": "button",
                "action_ts": _wall_ts(),
            }
        ],
    }


def assistant_thread_started_event(
    *, user: str, channel: str, thread_ts: str, context_channel: str | None = None, team: str = TEAM_ID
) -> JSON:
    """``assistant_thread_started``: ``user`` opened the bot's agent view (a new thread in their DM
    ``channel``); ``context`` names the channel they were looking at, if any."""
    context: JSON = {"team_id": team, "enterprise_id": None}
    if context_channel is not None:
        context["channel_id"] = context_channel
    return {
        "type": "assistant_thread_started",
        "assistant_thread": {
            "user_id": user,
            "context": context,
            "channel_id": channel,
            "thread_ts": thread_ts,
        },
        "event_ts": _wall_ts(),
    }


def app_home_opened_event(*, user: str, channel: str, tab: str = "home") -> JSON:
    """``app_home_opened``: ``user`` opened the app's ``tab`` (``home`` or ``messages``)."""
    return {"type": "app_home_opened", "user": user, "channel": channel, "tab": tab, "event_ts": _wall_ts()}


def app_uninstalled_event() -> JSON:
    """``app_uninstalled``: the workspace removed the app (its tokens are revoked too)."""
    return {"type": "app_uninstalled", "event_ts": _wall_ts()}


def tokens_revoked_event(*, bot: list[str] | None = None, oauth: list[str] | None = None) -> JSON:
    """``tokens_revoked``: the tokens of these users (``oauth``) and bot users (``bot``) were revoked."""
    tokens: JSON = {}
    if oauth:
        tokens["oauth"] = oauth
    if bot:
        tokens["bot"] = bot
    return {"type": "tokens_revoked", "tokens": tokens, "event_ts": _wall_ts()}


# --------------------------------------------------------------------------------------------------
# delivering signed requests to an app, as Slack does


_event_ids = itertools.count(1)
_trigger_ids = itertools.count(1_000_000)


def slack_signature(signing_secret: str, timestamp: int | str, body: bytes | str) -> str:
    """Slack's request signature: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    raw = body.encode() if isinstance(body, str) else body
    base = f"v0:{timestamp}:".encode() + raw
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


class Delivery(NamedTuple):
    """The app's answer to one delivered request."""

    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def reply_text(self) -> str:
        """The message in an acknowledgement: Slack takes a JSON ``{"text": ...}`` or a plain-text body."""
        if self.body.lstrip().startswith("{"):
            data = json.loads(self.body)
            return str(data.get("text", "")) if isinstance(data, dict) else ""
        return self.body


@dataclass
class SentRequest:
    kind: Literal["event", "url_verification", "slash_command", "interaction"]
    body: bytes
    headers: dict[str, str]
    status: int
    response: str


class EventSender:
    """Sends Events API callbacks, slash commands and interactions to an app, signed like Slack."""

    def __init__(
        self,
        url: str,
        signing_secret: str = SIGNING_SECRET,
        *,
        team_id: str = TEAM_ID,
        team_domain: str = TEAM_DOMAIN,
        api_app_id: str = APP_ID,
        bot_user_id: str = BOT_USER_ID,
        verification_token: str = VERIFICATION_TOKEN,
        response_url_factory: Callable[..., str] | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.team_domain = team_domain
        self.api_app_id = api_app_id
        self.bot_user_id = bot_user_id
        self.verification_token = verification_token
        self.response_url_factory = response_url_factory
        self.timeout = timeout
        self.sent: list[SentRequest] = []
        self.last_response_url: str | None = None

    def sign(self, body: bytes | str, timestamp: int | str) -> str:
        return slack_signature(self.signing_secret, timestamp, body)

    def envelope(
        self,
        event: JSON,
        *,
        event_id: str | None = None,
        event_time: int | None = None,
        host_team_id: str | None = None,
        host_enterprise_id: str | None = None,
        enterprise_id: str | None = None,
        authorizations: bool = True,
    ) -> JSON:
        """The ``event_callback`` envelope around ``event``; reuse it to redeliver the same event.

        For a Slack Connect channel that another organisation created, ``host_team_id`` (and
        ``host_enterprise_id``) are that organisation's: Slack puts them in the envelope's ``team_id`` and
        ``enterprise_id``, while ``authorizations`` and ``context_team_id`` name this installation
        (``enterprise_id``: its Grid organisation). ``authorizations=False`` leaves the list out, as the
        envelopes that carry only the ``context_*`` fields do.
        """
        shared = host_team_id is not None and host_team_id != self.team_id
        envelope: JSON = {
            "token": self.verification_token,
            "team_id": host_team_id or self.team_id,
            "enterprise_id": host_enterprise_id if shared else enterprise_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": enterprise_id,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_event_ids):010d}",
            "event_time": event_time if event_time is not None else int(time.time()),
            "is_ext_shared_channel": shared,
            "event_context": "4-" + base64.b64encode(uuid.uuid4().bytes).decode().rstrip("="),
        }
        if authorizations:
            envelope["authorizations"] = [
                {
                    "enterprise_id": enterprise_id,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ]
        return envelope

    async def post_signed(
        self,
        kind: Literal["event", "url_verification", "slash_command", "interaction"],
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Delivery:
        """POST ``body`` with Slack's headers; ``timestamp``/``signature`` override the real ones."""
        stamp = timestamp if timestamp is not None else int(time.time())
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": signature if signature is not None else self.sign(body, stamp),
            **(extra_headers or {}),
        }
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(self.url, data=body, headers=headers) as response,
        ):
            text = await response.text()
            status = response.status
        self.sent.append(SentRequest(kind, body, headers, status, text))
        return Delivery(status, text)

    async def send_envelope(
        self,
        envelope: JSON,
        *,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> Delivery:
        extra: dict[str, str] = {}
        if retry_num is not None:
            extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        body = json.dumps(envelope, separators=(",", ":")).encode()
        return await self.post_signed(
            "event",
            body,
            "application/json",
            timestamp=timestamp,
            signature=signature,
            extra_headers=extra,
        )

    async def send_event(
        self,
        event: JSON,
        *,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        timestamp: int | None = None,
        signature: str | None = None,
        event_id: str | None = None,
    ) -> Delivery:
        """Deliver ``event`` in an ``event_callback`` envelope (pass the same ``event_id`` to redeliver)."""
        return await self.send_envelope(
            self.envelope(event, event_id=event_id),
            retry_num=retry_num,
            retry_reason=retry_reason,
            timestamp=timestamp,
            signature=signature,
        )

    async def send_url_verification(
        self, challenge: str | None = None, *, timestamp: int | None = None, signature: str | None = None
    ) -> Delivery:
        body = {
            "token": self.verification_token,
            "challenge": challenge or uuid.uuid4().hex,
            "type": "url_verification",
        }
        return await self.post_signed(
            "url_verification",
            json.dumps(body, separators=(",", ":")).encode(),
            "application/json",
            timestamp=timestamp,
            signature=signature,
        )

    async def send_slash_command(
        self,
        command: str = "/support",
        text: str = "",
        *,
        user_id: str,
        channel_id: str,
        user_name: str | None = None,
        channel_name: str | None = None,
        response_url: str | None = None,
        trigger_id: str | None = None,
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> Delivery:
        """A slash command, form-encoded like Slack's; ``last_response_url`` is where replies may go."""
        if response_url is None:
            if self.response_url_factory is not None:
                response_url = self.response_url_factory(channel_id=channel_id, user_id=user_id)
            else:
                response_url = f"https://hooks.slack.com/commands/{self.team_id}/1/fake"
        self.last_response_url = response_url
        form = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name or channel_id.lower(),
            "user_id": user_id,
            "user_name": user_name or user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id or f"{next(_trigger_ids)}.{self.team_id}.fake",
        }
        return await self.post_signed(
            "slash_command",
            urlencode(form).encode(),
            "application/x-www-form-urlencoded",
            timestamp=timestamp,
            signature=signature,
        )

    async def send_interaction(
        self, payload: JSON, *, timestamp: int | None = None, signature: str | None = None
    ) -> Delivery:
        """An interaction (``block_actions`` and the like): form-encoded ``payload=<json>``."""
        if isinstance(payload.get("response_url"), str):
            self.last_response_url = payload["response_url"]
        body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()
        return await self.post_signed(
            "interaction",
            body,
            "application/x-www-form-urlencoded",
            timestamp=timestamp,
            signature=signature,
        )
