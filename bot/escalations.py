"""Telling the leads that a thread needs a human, on whichever platform the thread lives, and resolving.

``EscalationNotifiers`` dispatches the ``escalate_to_human`` tool's notices to the thread's platform;
``Handover`` is the flow every front end shares (notice texts, opening, resolving), over a platform's
``LeadsDesk``. With a helpdesk configured (``bot.handoff``), registering a platform's notifier connects its
``Handover`` to it: an escalation is also kept for the helpdesk, a ticket's link is posted in the thread,
and the helpdesk can resolve the escalation.
"""

from __future__ import annotations

import logging
from typing import Protocol

from bot.markup import Markup
from bot.store import Escalation, EscalationLog
from bot.types import Principal, ThreadRef

log = logging.getLogger(__name__)


class EscalationNotifier(Protocol):
    async def notify(self, escalation: Escalation, requester: Principal) -> None: ...


class PlatformEscalations(EscalationNotifier, Protocol):
    """A platform's notifier, and the ``Handover`` behind it."""

    @property
    def handover(self) -> Handover: ...


class HelpdeskQueue(Protocol):
    """Where escalations go besides the leads' channel (``bot.handoff.Helpdesk``)."""

    async def enqueue(self, escalation: Escalation, requester: Principal, link: str | None) -> None:
        """Keep ``escalation`` for the helpdesk; failures are logged, not raised."""
        ...

    def attach(self, platform: str, desk: Handover) -> None:
        """``desk`` posts ticket links and resolves escalations in ``platform``'s threads."""
        ...


class EscalationNotifiers:
    """Dispatches a notification to the notifier of the thread's platform; logs when there is none."""

    def __init__(self, helpdesk: HelpdeskQueue | None = None) -> None:
        self._by_platform: dict[str, PlatformEscalations] = {}
        self._helpdesk = helpdesk

    def register(self, platform: str, notifier: PlatformEscalations) -> None:
        self._by_platform[platform] = notifier
        if self._helpdesk is not None:
            notifier.handover.hand_off_to(self._helpdesk)
            self._helpdesk.attach(platform, notifier.handover)

    async def notify(self, escalation: Escalation, requester: Principal) -> None:
        notifier = self._by_platform.get(escalation.ref.platform)
        if notifier is None:
            log.warning(
                "escalation %s in %s has no notifier for platform %s; leads see it in /support escalations",
                escalation.id,
                escalation.ref.key,
                escalation.ref.platform,
            )
            return
        await notifier.notify(escalation, requester)


SUMMARY_CHARS = 500
HELPDESK_USER = "helpdesk"
"""The user id of the "lead" when a helpdesk resolved an escalation (``bot.handoff.inbound``)."""


class LeadsDesk(Protocol):
    """What a platform does for an escalation: the posts, and where a thread is."""

    async def post_escalation(self, escalation: Escalation, text: str) -> None:
        """Post ``text`` where the leads see it, with a way to resolve ``escalation``; failures are logged."""
        ...

    async def post_in_thread(self, ref: ThreadRef, text: str) -> None:
        """A notice from the bot in the thread; failures are logged."""
        ...

    async def where(self, ref: ThreadRef) -> str:
        """Where the thread is, for a lead: a link to it where there is one."""
        ...

    async def link(self, ref: ThreadRef) -> str | None:
        """The thread's web link; None where there is none (a direct message, or it cannot be read)."""
        ...

    async def closed(self, ref: ThreadRef, lead: Principal) -> None:
        """``lead`` resolved the thread's escalations (Slack's leads' post says so; a Discord forum post is
        tagged solved and closed); failures are logged."""
        ...


def handed_over_text(markup: Markup) -> str:
    return (
        f"{markup.emoji('raising_hand')} I've asked a support lead to help here. I'll stay quiet in this "
        "thread until they mark it resolved."
    )


def resolved_text(markup: Markup) -> str:
    return (
        f"{markup.emoji('white_check_mark')} A support lead marked this resolved. Mention me or ask here if "
        "you need more help."
    )


def resolver_text(markup: Markup, lead: Principal) -> str:
    """Who resolved an escalation, as the leads read it: a mention, or the helpdesk agent's name."""
    if lead.user_id == HELPDESK_USER:
        return markup.plain(f"{lead.display_name} (helpdesk)")
    return markup.user(lead.user_id)


def ticket_text(markup: Markup, url: str) -> str:
    return f"{markup.emoji('ticket')} The support team is tracking this in {markup.link(url, 'a ticket')}."


def escalation_text(markup: Markup, escalation: Escalation, requester: Principal, where: str) -> str:
    """The leads' notice of ``escalation``; the summary (the model may have written it) shown literally."""
    summary = markup.plain(" ".join(escalation.summary.split())[:SUMMARY_CHARS])
    title = markup.bold(f"Escalation #{escalation.id}")
    return (
        f"{markup.emoji('rotating_light')} {title}: {markup.plain(requester.display_name)} "
        f"({requester.describe()}) needs a human {where}.\n{markup.quote(summary)}"
    )


class Handover:
    """Escalations on one platform: the notifier of the ``escalate_to_human`` tool, the "talk to a human"
    button, and resolving. While an escalation is open in a thread the core steps back there."""

    def __init__(self, store: EscalationLog, desk: LeadsDesk, markup: Markup) -> None:
        self._store = store
        self._desk = desk
        self._markup = markup
        self._helpdesk: HelpdeskQueue | None = None

    def hand_off_to(self, helpdesk: HelpdeskQueue) -> None:
        """Escalations opened from now on are kept for ``helpdesk`` too."""
        self._helpdesk = helpdesk

    async def notify(self, escalation: Escalation, requester: Principal) -> None:
        where = await self._desk.where(escalation.ref)
        await self._desk.post_escalation(
            escalation, escalation_text(self._markup, escalation, requester, where)
        )
        if self._helpdesk is not None:
            await self._helpdesk.enqueue(escalation, requester, await self._desk.link(escalation.ref))

    async def ticket_opened(self, ref: ThreadRef, url: str) -> None:
        """The helpdesk opened a ticket for the thread's escalation: the thread gets its link."""
        await self._desk.post_in_thread(ref, ticket_text(self._markup, url))

    async def request_human(self, ref: ThreadRef, requester: Principal, summary: str) -> Escalation | None:
        """Open an escalation in the thread unless one is open; None when one already was."""
        escalation = await self._store.open_escalation(ref, requester.user_id, summary)
        if escalation is None:
            return None
        await self.notify(escalation, requester)
        await self._desk.post_in_thread(ref, handed_over_text(self._markup))
        return escalation

    async def resolve(self, ref: ThreadRef, lead: Principal) -> int:
        """Resolve the thread's open escalations; the thread is told when there were any."""
        resolved = await self._store.resolve_escalations(ref, lead.user_id)
        if resolved:
            await self._desk.post_in_thread(ref, resolved_text(self._markup))
            await self._desk.closed(ref, lead)
        return resolved

    async def where(self, ref: ThreadRef) -> str:
        return await self._desk.where(ref)
