"""A fake Slack Web API and an Events API sender, on 127.0.0.1, for end-to-end tests.

The real ``slack_sdk`` client talks to it unchanged::

    async with FakeSlack() as fake:                  # or the ``fake_slack`` pytest fixture
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
        alice = fake.add_user(name="alice")
        post = fake.post_as_user(fake.general.id, alice.id, f"{mention()} where is ORD-1?")
        sender = fake.event_sender("http://127.0.0.1:PORT/slack/events", SIGNING_SECRET)
        await sender.send_event(post.event)           # signed exactly like Slack signs it
        await fake.wait_for_calls("chat.postMessage")
        assert "ORD-1" in fake.visible_text(fake.general.id, fake.bot_messages()[-1].ts)

What it enforces (docs/architecture.md section 5; every number lives in :class:`SlackLimits`):

- ``chat.postMessage``: about one message per second per channel with a small burst (token bucket);
- ``chat.update``: a sliding-window budget shared by the whole workspace (default 50 a minute); a channel
  added with ``team_id=`` belongs to another workspace of the same (org-wide) install, which has a budget of
  its own;
- optionally ``conversations.replies`` (some app types get one request a minute);
- beyond a limit: HTTP 429, an integer ``Retry-After`` header and ``{"ok": false, "error": "ratelimited"}``;
- ``msg_too_long`` above 4,000 characters of ``text``; ``invalid_blocks`` for a section text above
  3,000 characters (and a few other Block Kit limits); ``cant_update_message`` for a message the bot did
  not post; ``message_not_found``; ``chat.update`` keeps the old blocks when ``blocks`` is left out;
- ``not_authed`` without a token, ``invalid_auth`` with a wrong one, ``unknown_method``;
- Socket Mode: ``apps.connections.open`` (app-level token only) hands out a ``ws://`` URL where the fake
  says ``hello`` and :meth:`FakeSlack.send_socket_mode` sends envelopes and returns the app's ack.

Requests are accepted the ways Slack accepts them: query string (``GET`` and ``POST ...?a=b``, which
``slack_sdk`` uses for many methods), form-encoded bodies and JSON bodies; the token as
``Authorization: Bearer`` (required for JSON bodies) or a ``token`` form/query field.

Where each part lives (import from the package, ``from fakes.slack import FakeSlack``):

- ``server``: :class:`FakeSlack` itself: the aiohttp server, auth, recorded calls, injected failures
  (:meth:`FakeSlack.fail_next`), dispatch to the method handlers; the ``fake_slack`` fixture;
- ``workspace``: building the workspace from a test (``add_user``, ``add_channel``, ``post_as_user``...)
  and reading it back (``messages``, ``thread``, ``bot_messages``, ``visible_text``);
- ``chat``, ``streams`` (``chat.*Stream``), ``conversations``, ``users``, ``assistant``, ``reactions``,
  ``views``: the Web API methods, one module per method family (a mixin of :class:`FakeSlack` each);
  ``socket_mode`` and ``response_urls``: the other two ways an app talks to Slack;
- ``files``: shared files: the file objects on messages (:meth:`FakeSlack.upload`, then
  ``post_as_user(..., files=...)``), the fake's own file host (``url_private`` on its origin, token
  checked, :meth:`FakeSlack.redirect_files`) and :class:`FileHost`, another host that records the
  ``Authorization`` headers it is sent;
- ``limits``: :class:`SlackLimits`, :class:`ManualClock` and the rate limiters;
- ``blocks``: Block Kit validation (:func:`validate_blocks`) and the text a user sees (:func:`blocks_text`);
- ``events``: the Events API side: payload builders and :class:`EventSender`, which signs like Slack;
- ``state``: ids, tokens and the records of the workspace (:class:`FakeUser`, :class:`FakeMessage`...);
- ``args``: reading a call's arguments, and :class:`_ApiError`, the error a method answers with.
"""

from .args import _ApiError
from .blocks import blocks_text, rich_text_blocks, validate_blocks
from .events import (
    Delivery,
    EventSender,
    MessageSubtype,
    SentRequest,
    app_home_opened_event,
    app_mention_event,
    app_uninstalled_event,
    assistant_thread_started_event,
    block_actions_payload,
    home_button_payload,
    message_event,
    message_event_payload,
    slack_signature,
    tokens_revoked_event,
)
from .files import FileHost, FileRequest
from .limits import ManualClock, SlackLimits
from .server import FakeSlack, fake_slack
from .state import (
    APP_ID,
    APP_TOKEN,
    BOT_ID,
    BOT_NAME,
    BOT_TOKEN,
    BOT_USER_ID,
    EXTERNAL_TEAM_ID,
    GENERAL_CHANNEL_ID,
    JSON,
    SIGNING_SECRET,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
    TS_START,
    VERIFICATION_TOKEN,
    AssistantStatus,
    ChannelKind,
    Ephemeral,
    FakeChannel,
    FakeFile,
    FakeMessage,
    FakeUser,
    RecordedCall,
    ResponseUrlPost,
    UserPost,
    mention,
)

__all__ = [
    "APP_ID",
    "APP_TOKEN",
    "BOT_ID",
    "BOT_NAME",
    "BOT_TOKEN",
    "BOT_USER_ID",
    "EXTERNAL_TEAM_ID",
    "GENERAL_CHANNEL_ID",
    "JSON",
    "SIGNING_SECRET",
    "TEAM_DOMAIN",
    "TEAM_ID",
    "TEAM_NAME",
    "TS_START",
    "VERIFICATION_TOKEN",
    "AssistantStatus",
    "ChannelKind",
    "Delivery",
    "Ephemeral",
    "EventSender",
    "FakeChannel",
    "FakeFile",
    "FakeMessage",
    "FakeSlack",
    "FakeUser",
    "FileHost",
    "FileRequest",
    "ManualClock",
    "MessageSubtype",
    "RecordedCall",
    "ResponseUrlPost",
    "SentRequest",
    "SlackLimits",
    "UserPost",
    "_ApiError",
    "app_home_opened_event",
    "app_mention_event",
    "app_uninstalled_event",
    "assistant_thread_started_event",
    "block_actions_payload",
    "blocks_text",
    "fake_slack",
    "home_button_payload",
    "mention",
    "message_event",
    "message_event_payload",
    "rich_text_blocks",
    "slack_signature",
    "tokens_revoked_event",
    "validate_blocks",
]
