"""What the bot's messages carry besides text: the sources embed and the buttons (under an answer: helpful,
not helpful, talk to a human, mark solved).

The buttons are ``DynamicItem``\\s: their custom ids (``supportbot:<action>:<value>``) carry all they need
(the reply id, or the thread of an escalation), and the classes are registered with the client at start,
so a click on a message posted by an earlier run of the bot is handled too. A view made of them only is
"fully dynamic": discord.py keeps nothing per message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import discord

from bot.types import Source
from integrations.discord.inbound import CUSTOM_ID_PREFIX, PLATFORM, custom_id
from integrations.links import looks_like_address

HELPFUL = "helpful"
NOT_HELPFUL = "not_helpful"
ESCALATE = "escalate"
RESOLVE = "resolve"
DRAFT_KB = "draft_kb"
SOLVE = "solve"
MAX_SOURCES = 5

_LOOK: dict[str, tuple[str, str, discord.ButtonStyle]] = {
    HELPFUL: ("Helpful", "👍", discord.ButtonStyle.secondary),
    NOT_HELPFUL: ("Not helpful", "👎", discord.ButtonStyle.secondary),
    ESCALATE: ("Talk to a human", "🙋", discord.ButtonStyle.primary),
    SOLVE: ("Mark solved", "✅", discord.ButtonStyle.success),
    RESOLVE: ("Mark resolved", "✅", discord.ButtonStyle.success),
    DRAFT_KB: ("Draft KB article", "📝", discord.ButtonStyle.secondary),
}


@runtime_checkable
class ButtonHandler(Protocol):
    """The client the buttons report their clicks to."""

    async def on_support_button(self, interaction: discord.Interaction) -> None: ...


async def _report(interaction: discord.Interaction) -> None:
    if isinstance(interaction.client, ButtonHandler):
        await interaction.client.on_support_button(interaction)


def _button(action: str, value: str) -> discord.ui.Button[discord.ui.View]:
    label, emoji, style = _LOOK[action]
    return discord.ui.Button(label=label, emoji=emoji, style=style, custom_id=custom_id(action, value))


class ReplyButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=re.compile(
        rf"{CUSTOM_ID_PREFIX}:(?P<action>{HELPFUL}|{NOT_HELPFUL}|{ESCALATE}|{SOLVE}):(?P<reply_id>[0-9a-f]{{32}})"
    ),
):
    """Helpful, not helpful, talk to a human, mark solved: under a finished answer."""

    def __init__(self, action: str, reply_id: str) -> None:
        super().__init__(_button(action, reply_id))

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[discord.ui.View],
        match: re.Match[str],
    ) -> ReplyButton:
        return cls(match["action"], match["reply_id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _report(interaction)


class ResolveButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=re.compile(
        rf"{CUSTOM_ID_PREFIX}:(?P<action>{RESOLVE}|{DRAFT_KB}):(?P<key>{PLATFORM}:[^:\s]+:\d+:\d+)"
    ),
):
    """On an escalation's notice in the leads' channel: mark resolved, then, once resolved, draft a KB
    article from the thread (``bot.quality.drafts``)."""

    def __init__(self, thread_key: str, action: str = RESOLVE) -> None:
        super().__init__(_button(action, thread_key))

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[discord.ui.View],
        match: re.Match[str],
    ) -> ResolveButton:
        return cls(match["key"], match["action"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _report(interaction)


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]]], ...] = (
    ReplyButton,
    ResolveButton,
)
"""Registered with the client (``add_dynamic_items``) at start."""


def feedback_view(reply_id: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action in (HELPFUL, NOT_HELPFUL, ESCALATE, SOLVE):
        view.add_item(ReplyButton(action, reply_id))
    return view


def resolve_view(thread_key: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ResolveButton(thread_key))
    return view


def draft_view(thread_key: str) -> discord.ui.View:
    """What a resolved escalation's notice offers instead of "Mark resolved"."""
    view = discord.ui.View(timeout=None)
    view.add_item(ResolveButton(thread_key, DRAFT_KB))
    return view


def sources_embed(sources: Sequence[Source]) -> discord.Embed:
    """The answer's sources as one line of links (a title that reads like an address is not shown: the
    link shows its target instead, so it cannot pass for a different one); a source with no address is its
    title alone."""
    links = " · ".join(_source_link(source) for source in sources[:MAX_SOURCES])
    return discord.Embed(description=f"Sources: {links}")


def _source_link(source: Source) -> str:
    if not source.url:
        return discord.utils.escape_markdown(source.title)
    url = source.url.replace(")", "%29")
    if looks_like_address(source.title):
        return f"<{url.replace('>', '%3E')}>"
    return f"[{discord.utils.escape_markdown(source.title)}]({url})"
