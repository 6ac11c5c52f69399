"""Escalations on Discord: the leads' channel, the thread, and closing a forum post.

``DiscordEscalations`` is the ``LeadsDesk`` of ``bot.escalations.Handover`` for the ``discord`` platform,
and the core's ``EscalationNotifier`` there (so the ``escalate_to_human`` tool posts through it too). It
posts to ``[discord] leads_channel_id`` with a link to the thread and a "Mark resolved" button. While an
escalation is open the core steps back in the thread; once a lead resolves it (the button, or
``/support resolve``) the thread is told, and a forum post is tagged with its forum's ``solved_tag`` and
archived.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import aiohttp
import discord

from bot.config import ChannelOverride, DiscordRoles
from bot.escalations import Handover
from bot.store import Escalation, EscalationLog
from bot.streaming.notice import post_with_retries
from bot.types import Principal, ThreadRef
from integrations.discord.budgets import DiscordBudgets
from integrations.discord.inbound import DM_SPACE, web_link
from integrations.discord.markup import DISCORD_MARKUP
from integrations.discord.stream import QUIET, delivery_error, destination_for, find_channel
from integrations.discord.ui import resolve_view

log = logging.getLogger(__name__)

MAX_TAGS = 5
"""Discord's limit on the tags of a forum post."""
FAILURES = (discord.HTTPException, aiohttp.ClientError, TimeoutError)


class DiscordEscalations:
    def __init__(
        self,
        client: discord.Client,
        store: EscalationLog,
        budgets: DiscordBudgets,
        roles: DiscordRoles,
        channels: Mapping[str, ChannelOverride],
    ) -> None:
        self._client = client
        self._budgets = budgets
        self._roles = roles
        self._channels = channels
        self.handover = Handover(store, self, DISCORD_MARKUP)

    async def notify(self, escalation: Escalation, requester: Principal) -> None:
        """Post the escalation to the leads' channel (a warning in the log when there is none)."""
        await self.handover.notify(escalation, requester)

    # The LeadsDesk of the handover.

    async def post_escalation(self, escalation: Escalation, text: str) -> None:
        channel_id = self._roles.leads_channel_id
        channel = await find_channel(self._client, channel_id) if channel_id else None
        if not isinstance(channel, discord.abc.Messageable):
            log.warning(
                "escalation %s: no [discord] leads_channel_id the bot can see in bot.toml; "
                "leads see it in /support escalations",
                escalation.id,
            )
            return
        await self._post(channel, text, resolve_view(escalation.ref.key))

    async def post_in_thread(self, ref: ThreadRef, text: str) -> None:
        destination = await destination_for(self._client, ref)
        if destination is None:
            log.warning("cannot post a notice in %s: it is gone", ref.key)
            return
        await self._post(await destination.channel(), text, None)

    async def where(self, ref: ThreadRef) -> str:
        """Where the thread is, for a lead: a link to it (or to the question, when answered in a channel)."""
        if ref.space_id == DM_SPACE:
            return "in a direct message with the bot"
        channel = await find_channel(self._client, ref.thread_id)
        if isinstance(channel, discord.Thread):
            link = DISCORD_MARKUP.link(web_link(ref.space_id, ref.thread_id), "this thread")
        else:
            link = DISCORD_MARKUP.link(web_link(ref.space_id, ref.channel_id, ref.thread_id), "this message")
        return f"in {link} in {DISCORD_MARKUP.channel(ref.channel_id)}"

    async def closed(self, ref: ThreadRef, lead: Principal) -> None:
        """A resolved forum post gets its forum's solved tag and is archived; other threads stay open."""
        thread = await find_channel(self._client, ref.thread_id)
        if not isinstance(thread, discord.Thread) or not isinstance(thread.parent, discord.ForumChannel):
            return
        forum = thread.parent
        tags = list(thread.applied_tags)
        override = self._channels.get(str(forum.id))
        wanted = override.solved_tag if override is not None else None
        if wanted:
            solved = next((t for t in forum.available_tags if t.name.casefold() == wanted.casefold()), None)
            if solved is None:
                log.warning("forum %s has no tag %r (solved_tag in bot.toml)", forum.id, wanted)
            elif solved not in tags:
                tags = [*tags[: MAX_TAGS - 1], solved]
        try:
            await thread.edit(applied_tags=tags, archived=True)
        except FAILURES as exc:
            log.error("could not close the forum post %s: %s", thread.id, exc)

    async def _post(self, channel: discord.abc.Messageable, text: str, view: discord.ui.View | None) -> None:
        """A notice from the bot, within the channel's post budget; failures are logged, not raised. Its
        embeds are suppressed: a link in it (in a summary the model wrote, too) gets no preview.

        A server or network error is tried again (bounded; discord.py waits out 429s itself)."""
        channel_id = str(getattr(channel, "id", ""))

        async def send() -> discord.Message:
            try:
                if view is None:
                    return await channel.send(text, allowed_mentions=QUIET, suppress_embeds=True)
                return await channel.send(text, view=view, allowed_mentions=QUIET, suppress_embeds=True)
            except FAILURES as exc:
                raise delivery_error(exc, "post", editing=False) from exc

        await post_with_retries(
            send, self._budgets.posts(channel_id), what=f"posting a notice to {channel_id}"
        )
