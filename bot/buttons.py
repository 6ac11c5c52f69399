"""The buttons every front end shows, handled the same way: under an answer (helpful, not helpful, talk to
a human) and on an escalation's notice to the leads (resolve, then "Draft KB article" once resolved).

Feedback is recorded against the reply id the button carries; a new vote of the same person replaces the
old one. "Talk to a human" opens an escalation in the answer's thread, tells the leads and the thread, and
the bot steps back there until a lead resolves it; only someone the bot answered in the thread, or staff,
may do that (a bystander's click would mute the thread and ping the leads for someone else). A front end
reads the click (which button, its value, who, which thread) and shows the returned text only to the person
who clicked.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from bot.escalations import Handover
from bot.markup import Markup
from bot.quality.drafts import LEADS_ONLY as DRAFT_LEADS_ONLY
from bot.quality.drafts import KbDrafting, drafted_reply
from bot.store import ButtonsStore, LeadAction
from bot.types import Principal, ThreadRef

log = logging.getLogger(__name__)

THANKS = "Thanks for the feedback!"
ASKED = "A support lead has been asked to help in this thread."
ALREADY_ASKED = "A support lead has already been asked to help in this thread."
LEADS_ONLY = "Sorry, only support leads can resolve escalations."
NOT_YOURS = (
    "Sorry, only the person who asked or support staff can ask for a human in this thread. "
    "Ask your own question and you'll get the button under its answer."
)
_REPLY_ID = re.compile(r"[0-9a-f]{32}")


def is_reply_id(value: str) -> bool:
    """``value`` has the shape of a reply id (what the feedback buttons carry)."""
    return _REPLY_ID.fullmatch(value) is not None


class Buttons:
    """``drafts``, ``markup`` and ``drafts_page`` serve the "Draft KB article" button (``bot.quality.drafts``;
    ``drafts_page`` None: the dashboard is off)."""

    def __init__(
        self,
        store: ButtonsStore,
        handover: Handover,
        drafts: KbDrafting,
        markup: Markup,
        drafts_page: str | None,
    ) -> None:
        self._store = store
        self._handover = handover
        self._drafts = drafts
        self._markup = markup
        self._drafts_page = drafts_page

    async def vote(self, reply_id: str, user_id: str, *, helpful: bool) -> str | None:
        """Record a helpful / not helpful vote; None (and a log line) for a malformed reply id."""
        if not is_reply_id(reply_id):
            log.warning("feedback button with a malformed reply id %r ignored", reply_id[:80])
            return None
        await self._store.record_feedback(reply_id, user_id, helpful)
        return THANKS

    async def talk_to_human(self, ref: ThreadRef, person: Principal) -> str:
        """Escalate ``ref`` for ``person``: staff, or someone the bot answered in the thread."""
        if not person.is_staff and not await self._answered(ref, person):
            log.info("%s: talk-to-a-human click by a bystander (%s) refused", ref.key, person.describe())
            return NOT_YOURS
        summary = f"{person.display_name} asked for a human with the button under the bot's answer."
        escalation = await self._handover.request_human(ref, person, summary)
        return ASKED if escalation is not None else ALREADY_ASKED

    async def _answered(self, ref: ThreadRef, person: Principal) -> bool:
        """The bot answered ``person`` in the thread (its turns name whom they answered)."""
        turns = await self._store.load_turns(ref)
        return any(t.role == "assistant" and t.answered_for == person.user_id for t in turns)

    async def resolve(self, ref: ThreadRef | None, person: Principal) -> str | None:
        """A lead resolves the escalations of ``ref`` (None: the button's value was malformed)."""
        if not person.is_lead:
            return LEADS_ONLY
        if ref is None:
            log.warning("resolve button with a malformed thread key ignored")
            return None
        resolved = await self._handover.resolve(ref, person)
        if resolved:
            # Recorded like ``/support resolve`` (see ``bot.support_commands``), in the resolved thread.
            await self._store.record_lead_action(
                LeadAction(
                    datetime.now(UTC),
                    ref.platform,
                    ref.space_id,
                    ref.channel_id,
                    person.user_id,
                    "resolve",
                    f"{ref.key} (button)",
                )
            )
        return f"Resolved {resolved} escalation(s)." if resolved else "That escalation was already resolved."

    async def draft_article(self, ref: ThreadRef | None, person: Principal) -> str | None:
        """A lead drafts a KB article from the resolved thread ``ref`` (None: a malformed value)."""
        if not person.is_lead:
            return DRAFT_LEADS_ONLY
        if ref is None:
            log.warning("draft button with a malformed thread key ignored")
            return None
        draft = await self._drafts.draft_from_thread(ref, person.user_id)
        if draft is not None:
            await self._store.record_lead_action(
                LeadAction(
                    datetime.now(UTC),
                    ref.platform,
                    ref.space_id,
                    ref.channel_id,
                    person.user_id,
                    "kb save",
                    f"#{draft.id} {ref.key} (button)",
                )
            )
        return drafted_reply(draft, self._markup, self._drafts_page)
