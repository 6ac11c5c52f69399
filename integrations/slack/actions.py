"""The buttons: under an answer (helpful, not helpful, talk to a human) and on an escalation post (resolve).

Feedback is recorded against the reply id the button carries; a new vote of the same person replaces the
old one. "Talk to a human" opens an escalation in the answer's thread, tells the leads and the thread, and
the bot steps back there until a lead resolves it.
"""

from __future__ import annotations

import logging
import re

from bot.store import Store
from integrations.slack.blocks import ESCALATE, HELPFUL, NOT_HELPFUL, RESOLVE
from integrations.slack.escalations import SlackEscalations
from integrations.slack.events import ButtonClick, parse_thread_key
from integrations.slack.principals import PrincipalResolver

log = logging.getLogger(__name__)

THANKS = "Thanks for the feedback!"
ASKED = "A support lead has been asked to help in this thread."
ALREADY_ASKED = "A support lead has already been asked to help in this thread."
LEADS_ONLY = "Sorry, only support leads can resolve escalations."
_REPLY_ID = re.compile(r"[0-9a-f]{32}")


class ButtonActions:
    def __init__(self, store: Store, people: PrincipalResolver, escalations: SlackEscalations) -> None:
        self._store = store
        self._people = people
        self._escalations = escalations

    async def run(self, click: ButtonClick) -> str | None:
        """Act on ``click``; the reply for the person who clicked, if any."""
        if click.action_id in (HELPFUL, NOT_HELPFUL):
            if not _REPLY_ID.fullmatch(click.value):
                log.warning("feedback button with a malformed reply id %r ignored", click.value[:80])
                return None
            await self._store.record_feedback(click.value, click.user_id, click.action_id == HELPFUL)
            return THANKS
        person = await self._people.resolve(
            click.user_id, team_id=click.team_id, enterprise_id=click.enterprise_id
        )
        if click.action_id == ESCALATE:
            summary = f"{person.display_name} asked for a human with the button under the bot's answer."
            escalation = await self._escalations.request_human(click.ref, person, summary)
            return ASKED if escalation is not None else ALREADY_ASKED
        if click.action_id == RESOLVE:
            if not person.is_lead:
                return LEADS_ONLY
            ref = parse_thread_key(click.value)
            if ref is None:
                log.warning("resolve button with a malformed thread key %r ignored", click.value[:80])
                return None
            resolved = await self._escalations.resolve(ref, person)
            return (
                f"Resolved {resolved} escalation(s)." if resolved else "That escalation was already resolved."
            )
        log.info("unknown button %s ignored", click.action_id)
        return None
