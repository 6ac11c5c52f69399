"""A fake Discord REST API and gateway on 127.0.0.1 for end-to-end tests of the real discord.py client.

Import everything from the package (``from fakes.discord import FakeDiscord``). Where each part lives:

- ``server``: :class:`FakeDiscord` itself: the aiohttp server, recorded calls, injected failures
  (``fail_next``), waiting, REST dispatch; the ``fake_discord`` fixture and :func:`discord_client_against`;
- ``world`` (guilds, roles, members, channels) and ``builders`` (what users do: messages, DMs, forum posts,
  slash commands, button clicks);
- REST routes by family, one mixin of :class:`FakeDiscord` each: ``messages``, ``channels`` (and threads),
  ``interactions`` (callbacks and webhooks), ``guilds`` (and members, users), ``commands`` (the
  application); ``routes`` is the route table; ``json_views`` renders the world as Discord's JSON;
- ``gateway``: :class:`FakeGateway`: sessions, IDENTIFY/READY/RESUME, heartbeats, dispatch, intents;
- ``limits``: :class:`DiscordLimits`, :class:`ManualClock` and the :class:`RateLimiter`;
- ``validation``: the checks on a message body and Discord's error shapes (:class:`ApiError`);
- ``state``: ids, constants (:class:`Perm`, :class:`ChannelType`, :class:`MessageFlag`) and the records
  (:class:`FakeUser`, :class:`FakeGuild`, :class:`FakeChannel`, :class:`FakeMessage`...).

Pointing discord.py at it (discord.py 2.7 has no official setting for either URL)::

    async def test_answer(fake_discord: FakeDiscord) -> None:
        client = MyBot(intents=intents, guild_ready_timeout=0.05)
        async with discord_client_against(fake_discord, client):     # patches, logs in, waits for READY
            await fake_discord.post_as_user(fake_discord.support, fake_discord.alice, "where is ORD-1?")
            await fake_discord.wait_for(lambda: fake_discord.bot_messages(fake_discord.support))

``discord_client_against`` (or ``fake.patch_discord_py()`` on its own) sets two class attributes and
restores them afterwards:

- ``discord.http.Route.BASE`` -> ``fake.api_base`` (``http://127.0.0.1:PORT/api/v10``).  Every REST URL
  is built from it when a ``Route`` is made, the webhook and interaction-callback routes included;
- ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` -> ``fake.gateway_url``.  A plain ``Client``
  (and an ``AutoShardedClient`` given ``shard_count``) never calls ``GET /gateway/bot``: it connects
  to ``DEFAULT_GATEWAY`` directly, so answering ``/gateway/bot`` alone is not enough.  An
  ``AutoShardedClient`` without ``shard_count`` calls it and takes ``url`` and ``shards`` from here.
  After READY discord.py resumes at ``resume_gateway_url`` (``ws://127.0.0.1:PORT/resume``).

Build clients with ``guild_ready_timeout=0.05`` or so: discord.py fires ``on_ready`` only once
``guild_ready_timeout`` (default 2 s) has passed without another GUILD_CREATE.

The world (``default_world=True``): ``fake.bot_user`` (the application's bot), ``fake.guild`` with
``@everyone``, the bot's managed role (MENTION_EVERYONE included), ``fake.admin_role``
(ADMINISTRATOR) and ``fake.lead_role``; members ``fake.alice``, ``fake.admin`` (also the owner) and
``fake.lead``; text channels ``fake.general`` and ``fake.support``; the forum ``fake.forum`` with
tags question/bug/resolved.  ``add_user``/``add_guild``/``add_role``/``add_member``/
``add_text_channel``/``add_forum``/``add_thread``/``dm_channel`` build more.

Builders (the user side): ``user_message`` (stored, returns the MESSAGE_CREATE payload for
``await fake.dispatch(...)``), ``post_as_user``, ``edit_as_user``, ``dm``, ``forum_post``,
``slash_command``, ``button_click``; ``attachment`` (a file a user attaches, served at its ``url``).
Assertions: ``messages`` (with ``versions``), ``message``, ``bot_messages``, ``threads``, ``typing``,
``calls``, ``rate_limit_hits``/``rate_limited_count``, ``interaction_responses``, ``commands``,
``pinged``, ``events``, ``identifies``, ``heartbeats``, ``wait_for``/``wait_for_calls``.  Gateway control:
``reconnect_clients``, ``drop_connections``, ``invalidate_sessions``.  Failure injection: ``fail_next``.

What it does like Discord (numbers in :class:`DiscordLimits`; a test may change them):

- REST: the routes a support bot uses (``routes._ROUTES``), JSON and multipart bodies, ``Bot``
  token auth (401 otherwise), Discord's error bodies (``{"message", "code", "errors"}``): content over
  2,000 characters and an embed description over 4,096 -> 400/50035 with an ``errors`` tree, an empty
  message -> 50006, editing another user's message -> 403/50005, an unknown message -> 404/10008, a
  second thread on one message -> 160004, a closed DM -> 50007, ...
- rate limits: a fixed window per bucket (route x major parameter: channel, guild or webhook) with the
  ``X-RateLimit-Limit/-Remaining/-Reset/-Reset-After/-Bucket`` headers on every answer; messages
  created and edited per channel: 5 per 5 s each by default; a global 50 requests per second
  (interaction routes exempt); beyond a limit 429 with ``{"message", "retry_after", "global"}``,
  ``Retry-After``, ``X-RateLimit-Scope`` and ``Via`` (discord.py treats a 429 without ``Via`` as a
  Cloudflare ban and raises instead of retrying).
- gateway: HELLO, IDENTIFY (token, intents and shard checked; privileged intents not enabled ->
  close 4014), READY with unavailable guilds then one GUILD_CREATE per guild (channels, threads,
  members, roles), HEARTBEAT/ACK, RESUME/RESUMED with replay of missed events, INVALID_SESSION,
  RECONNECT, REQUEST_GUILD_MEMBERS; ``zlib-stream`` transport compression when asked for (discord.py
  asks for it unless ``zstandard`` is installed; a ``zstd-stream`` request gets plain text frames,
  which discord.py accepts); intents filtering (no MESSAGE_CREATE without GUILD_MESSAGES, empty
  content without MESSAGE_CONTENT unless the bot is mentioned, it is a DM or the bot's own message).
- the bot's REST actions show up on the gateway as on Discord: MESSAGE_CREATE, MESSAGE_UPDATE,
  MESSAGE_DELETE, THREAD_CREATE, THREAD_UPDATE, CHANNEL_UPDATE.
- interactions: callbacks 4/5/6/7 (8/9 recorded) within ``interaction_deadline`` (3 s) or 404/10062,
  a second callback -> 400/40060, ``@original`` and follow-ups through ``/webhooks/{app}/{token}``;
  the first follow-up after a type-5 defer replaces the "thinking" message, as Discord does.
- mentions: ``allowed_mentions`` applied as Discord applies it (``fake.pinged(message)``); an edit
  without ``allowed_mentions`` is parsed with the default allowances (everything), as Discord
  documents, so set ``allowed_mentions`` on the client or on every edit.
"""

from .gateway import FakeGateway, GatewayConnection, GatewaySession, GatewayWorld, Intent, Op, SentEvent
from .limits import DiscordLimits, ManualClock, RateLimiter, RateLimitHit
from .server import FakeDiscord, discord_client_against, fake_discord
from .state import (
    API_VERSION,
    APP_FLAGS_LIMITED_INTENTS,
    DISCORD_EPOCH_MS,
    JSON,
    ChannelType,
    FakeChannel,
    FakeGuild,
    FakeInteraction,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
    ForumPost,
    InteractionResponse,
    MessageFlag,
    Perm,
    Pings,
    RecordedCall,
    SnowflakeGenerator,
    snowflake_time,
)
from .validation import (
    ApiError,
    is_empty_message,
    validate_allowed_mentions,
    validate_components,
    validate_embeds,
    validate_message_body,
)

__all__ = [
    "API_VERSION",
    "APP_FLAGS_LIMITED_INTENTS",
    "DISCORD_EPOCH_MS",
    "JSON",
    "ApiError",
    "ChannelType",
    "DiscordLimits",
    "FakeChannel",
    "FakeDiscord",
    "FakeGateway",
    "FakeGuild",
    "FakeInteraction",
    "FakeMember",
    "FakeMessage",
    "FakeRole",
    "FakeUser",
    "ForumPost",
    "GatewayConnection",
    "GatewaySession",
    "GatewayWorld",
    "Intent",
    "InteractionResponse",
    "ManualClock",
    "MessageFlag",
    "Op",
    "Perm",
    "Pings",
    "RateLimitHit",
    "RateLimiter",
    "RecordedCall",
    "SentEvent",
    "SnowflakeGenerator",
    "discord_client_against",
    "fake_discord",
    "is_empty_message",
    "snowflake_time",
    "validate_allowed_mentions",
    "validate_components",
    "validate_embeds",
    "validate_message_body",
]
