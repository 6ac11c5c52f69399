"""The conversation the bot answers (docs/architecture.md §4 step 5), from the Slack thread and the store.

The history is loaded by the core while it holds the thread's lock, after it stored the new message, so a
reply that finished meanwhile is part of it.

- A thread: the store keeps every message of the threads the bot answers in (the messages it answered,
  those it saw when it first read the thread, and its own replies with their tool blocks). When the store
  has the thread from its first message on, it is the history and no API call is made. Otherwise the
  thread is read with ``conversations.replies`` (every page, the parent de-duplicated by ``ts``) and the
  other people's messages are stored, so the next message in the thread needs no API call.
- The top level of a direct message: the exchange of the last ``dm_window``, at most ``dm_turns`` turns,
  from the store; read once with ``conversations.history`` when the store has never seen the DM.

The bot's messages become assistant turns, everyone else's user turns with their display names, the bot's
mention is stripped, and consecutive turns of one role are merged. A shared file is a line naming it in
its message's text; the files of the message answered are read for the model (``integrations.slack.files``)
with this answer only, never stored (``bot.attachments``). If Slack cannot be read, the store's
record is the history.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.store import Conversations
from bot.turns import merge_turns
from bot.types import ThreadRef, Turn
from integrations.slack.files import SlackFiles
from integrations.slack.inbound import (
    SPOKEN_SUBTYPES,
    BotIdentity,
    SlackMessage,
    files_of,
    mentioned_users,
    said_text,
    ts_time,
)
from integrations.slack.principals import PrincipalResolver

log = logging.getLogger(__name__)

MAX_PAGES = 50
"""At most this many pages of a thread are read (``page_size`` messages each)."""
SlackAPIMessage = Mapping[str, Any]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ThreadHistory:
    def __init__(
        self,
        client: AsyncWebClient,
        store: Conversations,
        people: PrincipalResolver,
        *,
        dm_window: timedelta,
        dm_turns: int,
        files: SlackFiles | None = None,
        page_size: int = 200,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        """``files`` reads the files shared with the message answered (None: they are only named)."""
        self._client = client
        self._files = files
        self._store = store
        self._people = people
        self._dm_window = dm_window
        self._dm_turns = dm_turns
        self._page_size = page_size
        self._clock = clock

    async def load(self, message: SlackMessage, bot: BotIdentity) -> list[Turn]:
        """The history of ``message``'s conversation, the message included (see the module docstring),
        with the files it shares read for the model (``integrations.slack.files``)."""
        turns = await self._turns(message, bot)
        if message.files and self._files is not None:
            blocks = tuple(await self._files.blocks(message.files))
            turns = [
                replace(turn, attachments=blocks)
                if turn.role == "user" and turn.message_id == message.ts
                else turn
                for turn in turns
            ]
        return merge_turns(turns)

    async def _turns(self, message: SlackMessage, bot: BotIdentity) -> list[Turn]:
        if message.in_dm_exchange:
            return await self._dm(message, bot)
        ref = message.ref
        stored = await self._store.load_turns(ref)
        if any(turn.message_id == ref.thread_id for turn in stored):
            return stored
        try:
            fetched = await self._replies(message.channel_id, ref.thread_id)
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("conversations.replies failed for %s (%s); answering from the store", ref.key, exc)
            return stored
        return await self._remember(ref, fetched, bot)

    async def _dm(self, message: SlackMessage, bot: BotIdentity) -> list[Turn]:
        ref = message.ref
        since = self._clock() - self._dm_window
        stored = await self._store.load_turns(ref, self._dm_turns)
        if len(stored) > 1:
            return [turn for turn in stored if turn.sent_at >= since]
        try:  # only the new message: the store has never seen this DM
            response = await self._client.conversations_history(
                channel=message.channel_id, oldest=f"{since.timestamp():.6f}", limit=self._dm_turns
            )
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("conversations.history failed for %s (%s); answering from the store", ref.key, exc)
            return stored
        top_level = [m for m in response.get("messages") or () if not _is_reply(m)]
        turns = await self._remember(ref, sorted(top_level, key=_ts_key), bot)
        if not any(turn.message_id == message.ts for turn in turns):
            turns += stored
        return turns

    async def _replies(self, channel_id: str, thread_ts: str) -> list[SlackAPIMessage]:
        """Every message of the thread, oldest first, each once (a page may repeat the parent)."""
        by_ts: dict[str, SlackAPIMessage] = {}
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page = await self._client.conversations_replies(
                channel=channel_id, ts=thread_ts, limit=self._page_size, cursor=cursor
            )
            for item in page.get("messages") or ():
                if isinstance(item, Mapping) and isinstance(item.get("ts"), str):
                    by_ts.setdefault(item["ts"], item)
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None:
                break
        else:
            log.warning(
                "thread %s/%s has more than %d pages; the rest is left out", channel_id, thread_ts, MAX_PAGES
            )
        return sorted(by_ts.values(), key=_ts_key)

    async def _remember(
        self, ref: ThreadRef, messages: Sequence[SlackAPIMessage], bot: BotIdentity
    ) -> list[Turn]:
        """``messages`` as turns; the other people's are stored, so the store has the whole thread."""
        authors = [m["user"] for m in messages if isinstance(m.get("user"), str)]
        mentions = [user for m in messages for user in mentioned_users(str(m.get("text") or ""))]
        names = await self._people.names(user for user in [*authors, *mentions] if user != bot.user_id)
        turns = [turn for turn in (api_turn(m, bot, names) for m in messages) if turn is not None]
        for turn in turns:
            if turn.role == "user":
                await self._store.append_turn(ref, turn)
        return turns


def api_turn(message: SlackAPIMessage, bot: BotIdentity, names: Mapping[str, str]) -> Turn | None:
    """A message of ``conversations.replies``/``history`` as a turn; None for what nobody said."""
    if message.get("subtype") not in SPOKEN_SUBTYPES or not isinstance(message.get("ts"), str):
        return None
    ts, text = message["ts"], str(message.get("text") or "")
    user, bot_id = message.get("user"), message.get("bot_id")
    if user == bot.user_id or (bot_id is not None and bot_id == bot.bot_id):
        return Turn("assistant", "bot", text, ts, ts_time(ts))
    if isinstance(user, str) and user:
        author = names.get(user, user)
    else:
        profile = message.get("bot_profile") or {}
        author = str(profile.get("name") or message.get("username") or bot_id or "someone")
    said = said_text(text, files_of(message), bot_user_id=bot.user_id, names=names)
    return Turn("user", author, said, ts, ts_time(ts))


def _is_reply(message: SlackAPIMessage) -> bool:
    thread_ts = message.get("thread_ts")
    return thread_ts is not None and thread_ts != message.get("ts")


def _ts_key(message: SlackAPIMessage) -> tuple[int, int]:
    seconds, _, micros = str(message["ts"]).partition(".")
    return int(seconds), int(micros.ljust(6, "0")[:6])
