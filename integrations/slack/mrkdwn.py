"""Claude's Markdown as Slack mrkdwn, made safe to post (pure functions).

Slack's mrkdwn is not Markdown: bold is ``*x*``, italics ``_x_``, strikethrough ``~x~``, links
``<url|text>``; it has no headings and no list syntax, and code blocks take no language. ``&``, ``<`` and
``>`` must be escaped, which also disarms every control sequence the model might write (``<!channel>``,
``<!here>``, ``<@U123>``, ``<!subteam^S1>``). Bare ``@channel``, ``@here`` and ``@everyone`` get an
invisible word joiner after the ``@``, so no client or setting turns them into a ping.

A link never shows a label in place of its target: ``[label](url)`` becomes ``label (<url>)``, with the URL
as the link's text, and a label that reads like an address (``https://…``, ``shop.example``) is left out,
so no label can pass for a different address than the one the link opens.

The text may be an answer still being written: unfinished markup is left as it is, and a code block that
is still open at the end is closed so that it renders as code.
"""

from __future__ import annotations

import re

from integrations.links import looks_like_address

WORD_JOINER = "\u2060"
RULE = "──────────"

_FENCE = re.compile(r" {0,3}(?P<marker>`{3,}|~{3,})(?P<info>[^`\n]*)$")
_HEADING = re.compile(r" {0,3}#{1,6}[ \t]+(?P<text>.*?)(?:[ \t]+#+)?[ \t]*$")
_RULE = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_QUOTE = re.compile(r" {0,3}>[ \t]?(?P<rest>.*)$")
_BULLET = re.compile(r"(?P<indent>[ \t]*)[-*+][ \t]+(?:\[(?P<task>[ xX])\][ \t]+)?(?P<rest>.*)$")
_NUMBERED = re.compile(r"(?P<indent>[ \t]*)(?P<number>\d{1,9})[.)][ \t]+(?P<rest>.*)$")

# Inline constructs that are taken out before escaping and formatting, then put back converted.
_TOKENS = re.compile(
    r"""
      (?P<code>`+)(?P<code_body>.+?)(?P=code)                              # inline code
    | (?P<image>!)?\[(?P<text>[^\]\n]*)\]\((?P<url>[^)\s]+)(?:[ \t]+"[^"\n]*")?\)  # [text](url), ![alt](url)
    | <(?P<auto>(?:https?|mailto):[^<>\s]+)>                               # <https://…> autolink
    """,
    re.VERBOSE,
)
_SLOT = "\ue000{}\ue001"
_SLOTS = re.compile("\ue000(\\d+)\ue001")

_BOLD_ITALIC = re.compile(r"\*\*\*(?=\S)(.+?)(?<=\S)\*\*\*")
_BOLD_STARS = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_BOLD_UNDERSCORES = re.compile(r"(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)")
_ITALIC_STAR = re.compile(r"(?<![*\w])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![*\w])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_BOLD = "\x02"  # stands for a converted bold marker until italics are converted
_MASS_MENTION = re.compile(r"(?<![\w@])@(channel|here|everyone)\b", re.IGNORECASE)
_LINK_SCHEMES = ("http://", "https://", "mailto:")


def escape(text: str) -> str:
    """``&``, ``<`` and ``>`` as Slack entities: the text shows as written and is never a control sequence."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def neutralise(text: str) -> str:
    """Bare ``@channel``, ``@here`` and ``@everyone`` that cannot notify anyone."""
    return _MASS_MENTION.sub(lambda m: f"@{WORD_JOINER}{m.group(1)}", text)


def plain(text: str) -> str:
    """Untrusted text (a summary, a name) shown literally: escaped, no mass mention."""
    return neutralise(escape(text))


def to_mrkdwn(markdown: str) -> str:
    """``markdown`` as Slack mrkdwn (see the module docstring)."""
    out: list[str] = []
    fence: str | None = None  # the marker of the code block we are in
    for line in markdown.split("\n"):
        if fence is None:
            opening = _FENCE.match(line)
            if opening:
                fence = opening.group("marker")
                out.append("```")
            else:
                out.append(_line(line))
        elif _closes(line, fence):
            fence = None
            out.append("```")
        else:
            out.append(escape(line))
    if fence is not None:
        out.append("```")
    return "\n".join(out)


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return (
        len(line) - len(line.lstrip(" ")) <= 3
        and stripped[:1] == fence[0]
        and set(stripped) == {fence[0]}
        and (len(stripped) >= len(fence))
    )


def _line(line: str) -> str:
    """One line outside code blocks."""
    if match := _HEADING.match(line):
        text = match.group("text").replace("**", "").replace("__", "")
        return f"*{_inline(text)}*" if text.strip() else ""
    if _RULE.match(line):
        return RULE
    if match := _QUOTE.match(line):
        return "&gt; " + _inline(match.group("rest"))
    if match := _BULLET.match(line):
        indent = match.group("indent").replace("\t", "    ")
        task = match.group("task")
        mark = "◦" if indent else "•"
        if task is not None:
            mark = "☐" if task == " " else "☑"
        return f"{indent}{mark} {_inline(match.group('rest'))}"
    if match := _NUMBERED.match(line):
        return f"{match.group('indent')}{match.group('number')}. {_inline(match.group('rest'))}"
    return _inline(line)


def _inline(text: str) -> str:
    """Inline code and links converted as they are; everything else escaped and reformatted."""
    slots: list[str] = []

    def take(match: re.Match[str]) -> str:
        slots.append(_token(match))
        return _SLOT.format(len(slots) - 1)

    text = _TOKENS.sub(take, text)
    text = neutralise(escape(text))
    text = _BOLD_ITALIC.sub(lambda m: f"{_BOLD}_{m.group(1)}_{_BOLD}", text)
    text = _BOLD_STARS.sub(lambda m: f"{_BOLD}{m.group(1)}{_BOLD}", text)
    text = _BOLD_UNDERSCORES.sub(lambda m: f"{_BOLD}{m.group(1)}{_BOLD}", text)
    text = _ITALIC_STAR.sub(lambda m: f"_{m.group(1)}_", text)
    text = _STRIKE.sub(lambda m: f"~{m.group(1)}~", text)
    text = text.replace(_BOLD, "*")
    return _SLOTS.sub(lambda m: slots[int(m.group(1))], text)


def _token(match: re.Match[str]) -> str:
    if match.group("code") is not None:
        return f"`{escape(match.group('code_body'))}`"
    if match.group("auto") is not None:
        return f"<{_link_target(match.group('auto'))}>"
    url, text = match.group("url"), match.group("text")
    label = neutralise(escape(re.sub(r"\*\*|__|`", "", text))).strip()
    if not url.lower().startswith(_LINK_SCHEMES):
        return f"{label} ({escape(url)})" if label else escape(url)
    return shown_link(url, label)


def shown_link(url: str, label: str) -> str:
    """A link to ``url`` (not yet escaped) labelled ``label`` (mrkdwn), as the reader sees it: the target
    itself is always the link's text, so a label can never pass for a different address. A label that reads
    like an address is left out; any other label is shown before the link: ``label (<url>)``."""
    target = f"<{_link_target(url)}>"
    if not label or looks_like_address(unescape(label)):
        return target
    return f"{label} ({target})"


def unescape(mrkdwn: str) -> str:
    """The text that escaped mrkdwn shows (the entities ``escape`` writes, read back)."""
    return mrkdwn.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _link_target(url: str) -> str:
    return escape(url).replace("|", "%7C")


class SlackMarkup:
    """The bot's own notices in mrkdwn (``bot.markup.Markup``)."""

    def bold(self, text: str) -> str:
        return f"*{text}*"

    def italic(self, text: str) -> str:
        return f"_{text}_"

    def code(self, text: str) -> str:
        return f"`{text}`"

    def plain(self, text: str) -> str:
        return plain(text)

    def link(self, url: str, title: str) -> str:
        """``title`` as the link's text, unless it reads like an address: then the target itself. With no
        ``url``, ``title`` alone (not ``<|title>``)."""
        if not url:
            return title
        if looks_like_address(unescape(title)):
            return f"<{_link_target(url)}>"
        return f"<{_link_target(url)}|{title}>"

    def user(self, user_id: str) -> str:
        return f"<@{user_id}>"

    def channel(self, channel_id: str) -> str:
        return f"<#{channel_id}>"

    def emoji(self, name: str) -> str:
        return f":{name}:"

    def quote(self, text: str) -> str:
        return f"&gt; {text}"


SLACK_MARKUP = SlackMarkup()
