"""The bot's own notices in Discord's Markdown (``bot.markup.Markup``), and the model's Markdown made safe.

Every message the bot sends goes out with ``allowed_mentions`` that notify nobody; ``plain`` also makes
untrusted text (a name, a summary the model wrote, a query) show as written: no formatting, and no
``@everyone`` or user mention that even looks like one.

``to_discord`` readies the model's Markdown, which Discord reads as it is, but for links: a masked link
``[label](url)`` shows the real target, ``label (<url>)``, and a label that reads like an address is left
out, so no label can pass for a different address than the one the link opens. Every URL is written
``<url>``, which Discord shows as a link but fetches no preview for (the messages also go out with their
embeds suppressed, but the last message of an answer carries the sources embed, so it cannot be).
"""

from __future__ import annotations

import re

import discord

from integrations.links import looks_like_address

_EMOJI = {
    "raising_hand": "🙋",
    "white_check_mark": "✅",
    "rotating_light": "🚨",
    "ticket": "🎫",
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
        """``title`` as the link's text, unless it reads like an address: then the target itself. With no
        ``url``, ``title`` alone (not ``[title]()``)."""
        if not url:
            return title
        target = f"<{url.replace('>', '%3E')}>"  # <…>: no preview card under the notice
        return target if looks_like_address(title) else f"[{title}]({target})"

    def user(self, user_id: str) -> str:
        return f"<@{user_id}>"

    def channel(self, channel_id: str) -> str:
        return f"<#{channel_id}>"

    def emoji(self, name: str) -> str:
        return _EMOJI.get(name, f":{name}:")

    def quote(self, text: str) -> str:
        return f"> {text}"


DISCORD_MARKUP = DiscordMarkup()


_TOKENS = re.compile(
    r"""
      (?P<escape>\\[^\s\w])                                          # \[ \` \*: shown as written
    | (?P<fence>```(?:(?!```)[\s\S])*```)                             # a code block
    | (?P<ticks>`+)(?:(?!(?P=ticks))[^\n])+?(?<!`)(?P=ticks)(?!`)     # inline code on one line
    | \[(?P<label>[^\n]{0,512}?)\]\(\s*<?                              # [label](url), [label](<url>),
      (?P<target>(?:\([^\s()<>]*\)|[^\s()<>])*)>?                      # [label](url "title")
      (?:\s+(?:"[^"\n]*"|'[^'\n]*'))?\s*\)
    | (?P<autolink><[a-z][a-z0-9+.-]*:[^\s<>]+>)                       # <https://…>
    | (?P<url>https?://[^\s<]+[^\s<.,:;"')\]])                         # a bare URL, as Discord finds one
    """,
    re.VERBOSE | re.IGNORECASE,
)
_WEB = re.compile(r"https?://", re.IGNORECASE)
MAX_CONTENT = 2000
"""Discord's limit on a message's content."""


def to_discord(markdown: str, *, bracket_urls: bool = True) -> str:
    """The model's ``markdown`` as the bot posts it on Discord (see the module docstring).

    Code is left as it is. Whatever else could still read as a masked link (a label too long to be taken
    for one here, brackets nested in ways Discord might read differently) loses its ``](``: the bracket is
    escaped, so Discord shows the text as written and links nothing. With ``bracket_urls`` off, bare URLs
    stay bare (for a message sent with its embeds suppressed, when the brackets would make it too long).
    """
    out: list[str] = []
    last = 0

    def text(piece: str) -> None:
        out.append(piece.replace("](", "\\]("))

    for match in _TOKENS.finditer(markdown):
        text(markdown[last : match.start()])
        last = match.end()
        if match.group("label") is not None:
            text(_masked_link(match.group("label"), match.group("target"), match.group(0)))
        elif match.group("url") is not None and bracket_urls:
            out.append(f"<{match.group('url')}>")
        else:
            out.append(match.group(0))
    text(markdown[last:])
    return "".join(out)


def _masked_link(label: str, target: str, written: str) -> str:
    if not _WEB.match(target):
        return written  # not a link on Discord; its "](" is escaped all the same
    shown = f"<{target}>"
    label = label.strip()
    if not label or looks_like_address(label):
        return shown
    return f"{to_discord(label)} ({shown})"
