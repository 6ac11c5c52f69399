"""The bot's own notices in Discord's Markdown (``bot.markup.Markup``).

Every message the bot sends goes out with ``allowed_mentions`` that notify nobody; ``plain`` also makes
untrusted text (a name, a summary the model wrote, a query) show as written: no formatting, and no
``@everyone`` or user mention that even looks like one.
"""

from __future__ import annotations

import discord

_EMOJI = {
    "raising_hand": "🙋",
    "white_check_mark": "✅",
    "rotating_light": "🚨",
}


class DiscordMarkup:
    def bold(self, text: str) -> str:
        return f"**{text}**"

    def italic(self, text: str) -> str:
        return f"_{text}_"

    def code(self, text: str) -> str:
        return f"`` {text} ``" if "`" in text else f"`{text}`"

    def plain(self, text: str) -> str:
        return discord.utils.escape_mentions(discord.utils.escape_markdown(text))

    def link(self, url: str, title: str) -> str:
        return f"[{title}](<{url.replace('>', '%3E')}>)"  # <…>: no preview card under the notice

    def user(self, user_id: str) -> str:
        return f"<@{user_id}>"

    def channel(self, channel_id: str) -> str:
        return f"<#{channel_id}>"

    def emoji(self, name: str) -> str:
        return _EMOJI.get(name, f":{name}:")

    def quote(self, text: str) -> str:
        return f"> {text}"


DISCORD_MARKUP = DiscordMarkup()
