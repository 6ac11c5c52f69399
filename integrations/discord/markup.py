"""The bot's own notices in Discord's Markdown (``bot.markup.Markup``), and the model's Markdown made safe.

Every message the bot sends goes out with ``allowed_mentions`` that notify nobody; ``plain`` also makes
untrusted text (a name, a summary the model wrote, a query) show as written: no formatting, and no
``@everyone`` or user mention that even looks like one.

``to_discord`` readies the model's Markdown, which Discord reads as it is, but for links: a masked link
``[label](url)`` shows the real target, ``label (<url>)``, and a label that reads like an address is left
out, so no label can pass for a different address than the one the link opens. Every URL is written
``<url>``, which Discord shows as a link but fetches no preview for (the messages also go out with their
embeds suppressed, but the last message of an answer carries the sources embed, so it cannot be).

No masked link is left at all: Discord's parser (simple-markdown's link rule) closes a link's label only
at a literal ``](``, and none is left in what ``to_discord`` writes. Each one gets a zero-width space,
``]\u200b(``, which reads the same (discord.py breaks mentions the same way); in a URL its ``]`` is
written ``%5D`` instead. The break does not depend on what Discord takes for code: a code span cannot
hold a backslash escape, and Discord may not see a span where this module does (an emphasis, a quote or
a line break can cut it), so the break goes into code too. Code holding ``](`` is the one thing changed
there, and only by that invisible character.
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
    | \[(?P<label>(?:[^\[\]\n]|\](?=[^\[\n]*\])){0,512}?)                  # [label](url): a "]" in the
      \]\(\s*<?(?P<target>https?://(?:\([^\s()<>]*\)|[^\s()<>])*)>?          # label as Discord reads one;
      (?:\s+(?:"[^"\n]*"|'[^'\n]*'))?\s*\)                                 # [label](<url>), (url "title")
    | (?P<autolink><[a-z][a-z0-9+.-]*:[^\s<>]+>)                       # <https://…>
    | (?P<url>https?://[^\s<]+[^\s<.,:;"')\]])                         # a bare URL, as Discord finds one
    """,
    re.VERBOSE | re.IGNORECASE,
)
MAX_CONTENT = 2000
"""Discord's limit on a message's content."""
_BROKEN = "]\u200b("
"""``](`` as ``to_discord`` writes it: Discord shows it the same, but no masked link can close there."""


def to_discord(markdown: str, *, bracket_urls: bool = True) -> str:
    """The model's ``markdown`` as the bot posts it on Discord (see the module docstring).

    Code is left as it is but for a ``](`` in it. A ``[label](url)`` whose url is no web address is no link
    on Discord, and one with a label too long to be taken for one here is none either: its text is read on
    as text. With ``bracket_urls`` off, bare URLs stay bare (for a message sent with its embeds
    suppressed, when the brackets would make it too long).
    """
    out: list[str] = []
    last = 0
    for match in _TOKENS.finditer(markdown):
        out.append(markdown[last : match.start()])
        last = match.end()
        if match.group("label") is not None:
            out.append(_masked_link(match.group("label"), match.group("target")))
        elif match.group("url") is not None:
            url = _address(match.group("url"))
            out.append(f"<{url}>" if bracket_urls else url)
        elif match.group("autolink") is not None:
            out.append(_address(match.group(0)))
        else:
            out.append(match.group(0))
    out.append(markdown[last:])
    return "".join(out).replace("](", _BROKEN)


def _masked_link(label: str, target: str) -> str:
    shown = f"<{_address(target)}>"
    label = label.strip()
    if not label or looks_like_address(label):
        return shown
    return f"{to_discord(label)} ({shown})"


def _address(url: str) -> str:
    """``url`` with no ``](`` in it (its ``]`` percent-encoded), so that no zero-width space goes into it."""
    return url.replace("](", "%5D(")
