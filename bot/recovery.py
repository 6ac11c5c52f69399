"""Settling the replies a previous run left unfinished (docs/architecture.md §5: no placeholder left behind).

The core records a reply as pending once its first message is posted, naming its newest message (a long
answer continues in new messages; those before it are finished), and forgets it when the reply is
settled. Whatever is still pending on start was cut off by a crash or a restart: that message keeps the
text it shows, without the in-progress marker, plus a notice (a bare placeholder or tool status is
replaced by the notice). A front end supplies how to read a message's text and how to rewrite it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from bot.store import PendingReplies, PendingReply
from bot.streaming.reply import (
    DEFAULT_MARKER,
    DEFAULT_PLACEHOLDER,
    INTERRUPTED_NOTICE,
    default_tool_status,
)

log = logging.getLogger(__name__)


def _same(text: str) -> str:
    return text


def settled_text(shown: str, render: Callable[[str], str] = _same) -> str:
    """``shown`` (as the platform shows it) without the in-progress marker, with the notice (the one a
    reply cancelled at shutdown ends with) as its last paragraph.

    ``render`` turns the core's Markdown into the platform's format (Slack mrkdwn), so the marker, the
    placeholder and the tool status are recognised as they were sent.
    """
    status = re.compile(
        "[^\n]*".join(re.escape(render(part)) for part in default_tool_status("\0").split("\0"))
    )
    head, found, tail = shown.rpartition(render(DEFAULT_MARKER))
    text = (head + tail if found else shown).rstrip()
    notice = render(INTERRUPTED_NOTICE)
    if not text or text == render(DEFAULT_PLACEHOLDER) or status.fullmatch(text):
        return notice
    return f"{text}\n\n{notice}"


async def settle_interrupted(
    store: PendingReplies,
    platform: str,
    *,
    shown: Callable[[PendingReply], Awaitable[str]],
    rewrite: Callable[[PendingReply, str], Awaitable[None]],
    errors: tuple[type[BaseException], ...],
    render: Callable[[str], str] = _same,
) -> int:
    """Settle every pending reply of ``platform``; returns how many there were.

    ``shown`` reads the text the reply's first message shows now ("" when it is gone), ``rewrite``
    replaces it. ``errors`` from either are logged; the reply is forgotten either way, so a message that
    cannot be settled is not tried again on every start.
    """
    pending = await store.pending_replies(platform)
    for reply in pending:
        try:
            await rewrite(reply, settled_text(await shown(reply), render))
        except errors as exc:
            log.warning("could not settle interrupted reply %s: %s", reply.reply_id, exc)
        finally:
            await store.settle_pending_reply(reply.reply_id)
    if pending:
        log.info("settled %d %s reply(ies) interrupted by the last shutdown", len(pending), platform)
    return len(pending)
