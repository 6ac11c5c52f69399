"""Settling the Discord replies a previous run left unfinished (``bot.recovery`` does the settling).

A pending reply's newest message is read back (in its thread, DM or channel) and edited: the text it
shows, without the in-progress marker, plus a notice.
"""

from __future__ import annotations

import aiohttp
import discord

from bot import recovery
from bot.store import PendingReplies, PendingReply
from integrations.discord.inbound import PLATFORM
from integrations.discord.stream import EDITABLE, destination_for, edit_message


async def settle_interrupted(store: PendingReplies, client: discord.Client) -> int:
    """Settle every pending Discord reply; returns how many there were."""

    async def message(reply: PendingReply) -> discord.PartialMessage:
        destination = await destination_for(client, reply.ref)
        channel = None if destination is None else await destination.channel()
        if not isinstance(channel, EDITABLE):
            raise LookupError(f"the conversation {reply.ref.key} is gone")
        return channel.get_partial_message(int(reply.message_ref))

    async def shown(reply: PendingReply) -> str:
        return (await (await message(reply)).fetch()).content

    async def rewrite(reply: PendingReply, text: str) -> None:
        await edit_message(await message(reply), text, embeds=[], view=None)

    return await recovery.settle_interrupted(
        store,
        PLATFORM,
        shown=shown,
        rewrite=rewrite,
        errors=(discord.HTTPException, aiohttp.ClientError, TimeoutError, LookupError),
    )
