"""How a platform writes the bot's own notices: bold, links, mentions, emoji (Slack mrkdwn, Discord Markdown).

The texts the front ends share (``/support`` replies, escalation notices) are written once in the core
against this protocol; each front end supplies its ``Markup``. ``plain`` makes untrusted text (a name, a
summary written by the model, a search query) show literally: no formatting, no link, no mass mention.
"""

from __future__ import annotations

from typing import Protocol


class Markup(Protocol):
    def bold(self, text: str) -> str: ...

    def italic(self, text: str) -> str: ...

    def code(self, text: str) -> str:
        """Inline code; ``text`` is shown as written."""
        ...

    def plain(self, text: str) -> str:
        """Untrusted text shown literally."""
        ...

    def link(self, url: str, title: str) -> str:
        """A link titled ``title`` (already plain) to ``url``; with no ``url`` (an article with no address),
        ``title`` alone."""
        ...

    def user(self, user_id: str) -> str:
        """A mention of a user (shown as their name; the notices are sent without pings)."""
        ...

    def channel(self, channel_id: str) -> str: ...

    def emoji(self, name: str) -> str:
        """The emoji called ``name`` (its Slack short code: ``rotating_light``, ``white_check_mark``, …)."""
        ...

    def quote(self, text: str) -> str:
        """``text`` (already plain, one line) as a quoted line."""
        ...
