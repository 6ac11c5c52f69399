"""The conversation the bot answers (docs/architecture.md §4 step 5), read from Discord: the thread is the
record.

The core calls :meth:`ThreadHistory.load` with the thread's lock held, once the message is stored, so an
answer finished while the message waited its turn is part of it.

- a thread (opened on a mention, a forum post, any thread): its messages, oldest first, after its starter
  message (the first message of a forum post; for a thread opened on a message, that message in the
  channel), and before the starter the messages it replies to;
- a mention in a text channel (the thread is new): the messages it replies to, then the mention;
- a direct message: the DM's last messages.

The bot's messages become assistant turns (the core puts back their tool rounds from the store), everyone
else's user turns with their display names (guild nicknames where the client saw the message come in);
the bot's mention is stripped; system messages are left out; consecutive turns of one role are merged.
Each file attached to a message is named in its text by the line Slack's files get too
(``bot.attachments.file_line``) and read as Slack reads them (``bot.attachments.FileReading``: the first
``LIMITS.files`` of a message, within its limits, the message answered first): it is downloaded from
Discord's CDN through the client's proxy (at most the limit, so a file that lied about its size
costs at most the limit and one more chunk), then an image whose first bytes show one goes to the model
as an image block and a PDF as a document block, a text file's content follows its line (fenced, masked),
and a file not read has a note after its line saying why (too big, past the fifth, a failed download, a
type the model does not take, content that is not what its type says). The bytes downloaded are kept for
an hour, at most :data:`MAX_CACHED_FILE_BYTES` together, for the thread's next answers. Messages that came
after the one being answered are left for their own answer, so the history ends with it. If Discord cannot
be read, the store's record of the thread is the history.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aiohttp
import discord

from bot.attachments import (
    CHUNK_BYTES,
    Block,
    DownloadError,
    FileReading,
    file_line,
    read_within,
    size_text,
)
from bot.cache import TTLCache
from bot.store import Conversations
from bot.turns import merge_turns
from bot.types import Turn
from integrations.discord.inbound import SPOKEN_TYPES, DiscordMessage, Trigger, spoken_text

log = logging.getLogger(__name__)

MAX_CHAIN = 10
"""At most this many messages are followed up a reply chain."""
ATTACHMENT_TTL = 3600.0
MAX_CACHED_ATTACHMENTS = 500
MAX_CACHED_FILE_BYTES = 32 * 1024 * 1024
"""The bytes of downloaded attachments kept together (the oldest go first)."""


@dataclass(frozen=True)
class _File:
    """An attachment as ``bot.attachments.FileReading`` reads it."""

    attachment: discord.Attachment

    @property
    def name(self) -> str:
        return self.attachment.filename

    @property
    def mimetype(self) -> str | None:
        return self.attachment.content_type

    @property
    def size(self) -> int:
        return self.attachment.size


class ThreadHistory:
    def __init__(self, client: discord.Client, bot_id: int, store: Conversations, *, limit: int) -> None:
        """``limit``: messages read from a thread or DM (at most 100, one request)."""
        self._client = client
        self._bot_id = bot_id
        self._store = store
        self._limit = max(1, min(100, limit))
        self._files: TTLCache[int, bytes] = TTLCache(
            ATTACHMENT_TTL, MAX_CACHED_ATTACHMENTS, weigh=len, max_weight=MAX_CACHED_FILE_BYTES
        )

    async def load(self, message: DiscordMessage) -> list[Turn]:
        """The history of ``message``'s conversation, ending with it (see the module docstring)."""
        source = message.source
        try:
            if message.trigger is Trigger.MENTION:
                messages = [*await self._chain(source), source]
            elif isinstance(source.channel, discord.Thread):
                messages = await self._thread(source.channel)
            else:
                messages = await self._recent(source.channel)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("could not read the history of %s (%s); using the store's", message.ref.key, exc)
            return merge_turns(await self._store.load_turns(message.ref, self._limit))
        # Messages read over REST come without their authors' guild profiles; the gateway's have them.
        names = {m.id: m.author.display_name for m in self._client.cached_messages}
        reading = FileReading(self._download)
        # Newest first, so that the files of the message answered are read before the older ones.
        turns = [await self._turn(m, names, reading) for m in _up_to(messages, source, self._bot_id)[::-1]]
        return merge_turns([turn for turn in turns[::-1] if turn is not None])

    async def _thread(self, thread: discord.Thread) -> list[discord.Message]:
        messages = await self._recent(thread)
        if any(m.id == thread.id for m in messages):
            starter: discord.Message | None = next(m for m in messages if m.id == thread.id)
            messages = [m for m in messages if m.id != thread.id]
        else:
            starter = await self._starter(thread)
        if starter is None:
            return messages
        return [*await self._chain(starter), starter, *messages]

    async def _recent(self, channel: discord.abc.Messageable) -> list[discord.Message]:
        return [m async for m in channel.history(limit=self._limit, oldest_first=False)][::-1]

    async def _starter(self, thread: discord.Thread) -> discord.Message | None:
        """The message the thread was opened on (a forum post's first message, or one in the channel)."""
        if thread.starter_message is not None:
            return thread.starter_message
        parent = thread.parent
        where: discord.abc.Messageable = (
            parent if isinstance(parent, discord.TextChannel) else thread
        )  # a forum post's starter is in the post itself
        try:
            return await where.fetch_message(thread.id)
        except discord.NotFound:
            return None  # a thread opened without a message, or its starter was deleted

    async def _chain(self, message: discord.Message) -> list[discord.Message]:
        """The messages ``message`` replies to, oldest first (in the same channel, up to ``MAX_CHAIN``)."""
        chain: list[discord.Message] = []
        current = message
        while len(chain) < MAX_CHAIN:
            reference = current.reference
            if (
                reference is None
                or reference.message_id is None
                or reference.channel_id != current.channel.id
                or reference.type == discord.MessageReferenceType.forward
            ):
                break
            resolved = reference.resolved or reference.cached_message
            if not isinstance(resolved, discord.Message):
                try:
                    resolved = await current.channel.fetch_message(reference.message_id)
                except discord.NotFound:
                    break
            chain.append(resolved)
            current = resolved
        return chain[::-1]

    async def _turn(
        self, message: discord.Message, names: Mapping[int, str], reading: FileReading[_File]
    ) -> Turn | None:
        """A message as a turn; None for a system message or one with nothing to read. Each attachment's
        line is followed by a text file's content or a note why it was not read; images and PDFs go with
        the turn as blocks."""
        if message.type not in SPOKEN_TYPES:
            return None
        sent_at, message_id = message.created_at, str(message.id)
        if message.author.id == self._bot_id:
            return Turn("assistant", "bot", message.content, message_id, sent_at) if message.content else None
        parts = [spoken_text(message, self._bot_id)]
        blocks: list[Block] = []
        files = [_File(attachment) for attachment in message.attachments]
        for file, block in zip(files, await reading.blocks(files), strict=True):
            parts.append(file_line(file.name, file.mimetype, file.size))
            if block["type"] == "text":
                parts.append(block["text"])
            else:
                blocks.append(block)
        author = names.get(message.id) or message.author.display_name
        return Turn("user", author, "\n".join(parts), message_id, sent_at, (), tuple(blocks))

    async def _download(self, file: _File, limit: int, seconds: float) -> bytes:
        """The attachment's bytes (at most ``limit``), kept for the thread's next answers."""
        data = self._files.get(file.attachment.id)
        if data is None:
            data = await self._fetch(file.attachment.url, limit, seconds)
            self._files.put(file.attachment.id, data)
        if len(data) > limit:  # kept from an answer that had more room
            raise DownloadError(f"larger than {size_text(limit)}")
        return data

    async def _fetch(self, url: str, limit: int, seconds: float) -> bytes:
        """The bytes at ``url`` on Discord's CDN, at most ``limit`` of them, through the client's proxy.

        Not ``discord.Attachment.read``: it reads the whole file, whatever its size. A session of its own
        per download (a few per answer at most) rather than discord.py's, which it keeps private."""
        http = self._client.http
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=seconds)) as session,
                session.get(url, proxy=http.proxy, proxy_auth=http.proxy_auth) as response,
            ):
                if response.status != 200:
                    raise DownloadError(f"HTTP {response.status}")
                return await read_within(response.content.iter_chunked(CHUNK_BYTES), limit)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DownloadError(type(exc).__name__) from None


def _up_to(
    messages: Sequence[discord.Message], current: discord.Message, bot_id: int
) -> list[discord.Message]:
    """``messages`` without repeats or people's messages that came after ``current``, which ends the list.

    The bot's answers that were posted after it (to messages before it) stay before it."""
    seen: set[int] = set()
    kept: list[discord.Message] = []
    for message in messages:
        if message.id in seen or message.id == current.id:
            continue
        seen.add(message.id)
        if message.id < current.id or message.author.id == bot_id:
            kept.append(message)
    return [*kept, current]
