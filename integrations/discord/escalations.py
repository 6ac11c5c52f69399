"""Escalations on Discord: the leads' channel, the thread, and closing a forum post.

``DiscordEscalations`` is the ``LeadsDesk`` of ``bot.escalations.Handover`` for the ``discord`` platform,
and the core's ``EscalationNotifier`` there (so the ``escalate_to_human`` tool posts through it too). It
posts to ``[discord] leads_channel_id`` with a link to the thread and a "Mark resolved" button. While an
escalation is open the core steps back in the thread; once a lead resolves it (the button, or
``/support resolve``) the thread is told, the leads' notice says who resolved it and offers "Draft KB
article" (``bot.quality.drafts``) instead of "Mark resolved" (the notice is found among the leads'
channel's latest ``NOTICES_READ`` messages), and a forum post is tagged with its forum's ``solved_tag`` and
archived.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import aiohttp
import discord

from bot.config import ChannelOverride, DiscordRoles
from bot.escalations import Handover, resolver_text
from bot.store import Escalation, EscalationLog
from bot.streaming.notice import post_with_retries
from bot.types import Principal, ThreadRef
from integrations.discord.budgets import DiscordBudgets
from integrations.discord.inbound import DM_SPACE, custom_id, web_link
from integrations.discord.markup import DISCORD_MARKUP
from integrations.discord.stream import QUIET, delivery_error, destination_for, find_channel
from integrations.discord.ui import RESOLVE, draft_view, resolve_view

log = logging.getLogger(__name__)

MAX_TAGS = 5
"""Discord's limit on the tags of a forum post."""
NOTICES_READ = 100
"""The leads' channel's latest messages searched for a resolved thread's notices (one page)."""
MAX_CHARS = 2000
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
        found = await self._link(ref)
        if found is None:
            return "in a direct message with the bot"
        return f"in {DISCORD_MARKUP.link(*found)} in {DISCORD_MARKUP.channel(ref.channel_id)}"

    async def link(self, ref: ThreadRef) -> str | None:
        """The thread's link (or the question's, when answered in a channel); None in a direct message."""
        found = await self._link(ref)
        return found[0] if found else None

    async def _link(self, ref: ThreadRef) -> tuple[str, str] | None:
        """The link and its title; None in a direct message."""
        if ref.space_id == DM_SPACE:
            return None
        if isinstance(await find_channel(self._client, ref.thread_id), discord.Thread):
            return web_link(ref.space_id, ref.thread_id), "this thread"
        return web_link(ref.space_id, ref.channel_id, ref.thread_id), "this message"

    async def closed(self, ref: ThreadRef, lead: Principal) -> None:
        """The leads' notices of the thread say who resolved it and offer a KB draft; a resolved forum post
        gets its forum's solved tag and is archived; other threads stay open."""
        await self._mark_notices(ref, lead)
        await self.close_post(ref)

    async def close_post(self, ref: ThreadRef) -> None:
        """A forum post gets its forum's solved tag and is archived (resolved, or marked solved by its
        asker: ``integrations.discord.solved``); any other thread is left as it is."""
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

    async def _mark_notices(self, ref: ThreadRef, lead: Principal) -> None:
        channel_id = self._roles.leads_channel_id
        channel = await find_channel(self._client, channel_id) if channel_id else None
        me = self._client.user
        if not isinstance(channel, discord.abc.Messageable) or me is None:
            return
        resolve = custom_id(RESOLVE, ref.key)
        done = (
            f"\n{DISCORD_MARKUP.emoji('white_check_mark')} Resolved by {resolver_text(DISCORD_MARKUP, lead)}"
        )
        try:
            notices = [
                message
                async for message in channel.history(limit=NOTICES_READ)
                if message.author.id == me.id and resolve in _custom_ids(message)
            ]
        except FAILURES as exc:
            log.warning("could not read the leads' channel for the notices of %s: %s", ref.key, exc)
            return
        for notice in notices:
            text = notice.content[: MAX_CHARS - len(done)] + done

            async def update(notice: discord.Message = notice, text: str = text) -> discord.Message:
                try:
                    return await notice.edit(content=text, view=draft_view(ref.key), allowed_mentions=QUIET)
                except FAILURES as exc:
                    raise delivery_error(exc, "edit", editing=True) from exc

            await post_with_retries(
                update, self._budgets.edits(str(channel_id)), what=f"marking the notice {notice.id} resolved"
            )

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


def _custom_ids(message: discord.Message) -> set[str]:
    return {
        str(getattr(child, "custom_id", ""))
        for row in message.components
        for child in getattr(row, "children", ())
    }
