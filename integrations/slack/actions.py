"""The Slack buttons (``bot.buttons`` handles them): under an answer (Slack's feedback buttons, and talk to
a human) and on an escalation post (resolve, then "Draft KB article" once resolved)."""

from __future__ import annotations

import logging

from bot.buttons import ALREADY_ASKED, ASKED, LEADS_ONLY, THANKS, Buttons
from bot.quality.drafts import drafts_page
from bot.runtime import App
from integrations.slack.blocks import DRAFT_KB, ESCALATE, FEEDBACK, RESOLVE, parse_vote
from integrations.slack.escalations import SlackEscalations
from integrations.slack.inbound import ButtonClick, parse_thread_key
from integrations.slack.mrkdwn import SLACK_MARKUP
from integrations.slack.principals import PrincipalResolver

__all__ = ["ALREADY_ASKED", "ASKED", "LEADS_ONLY", "THANKS", "ButtonActions"]

log = logging.getLogger(__name__)


class ButtonActions:
    def __init__(self, core: App, people: PrincipalResolver, escalations: SlackEscalations) -> None:
        self._people = people
        self._buttons = Buttons(
            core.store, escalations.handover, core.drafts, SLACK_MARKUP, drafts_page(core.settings)
        )

    async def run(self, click: ButtonClick) -> str | None:
        """Act on ``click``; the reply for the person who clicked, if any."""
        if click.action_id == FEEDBACK:
            vote = parse_vote(click.value)
            if vote is None:
                log.info("feedback with an unknown value ignored")
                return None
            helpful, reply_id = vote
            return await self._buttons.vote(reply_id, click.user_id, helpful=helpful)
        if click.action_id not in (ESCALATE, RESOLVE, DRAFT_KB):
            log.info("unknown button %s ignored", click.action_id)
            return None
        person = await self._people.resolve(
            click.user_id, team_id=click.team_id, enterprise_id=click.enterprise_id
        )
        if click.action_id == ESCALATE:
            return await self._buttons.talk_to_human(click.ref, person)
        if click.action_id == DRAFT_KB:
            return await self._buttons.draft_article(parse_thread_key(click.value), person)
        return await self._buttons.resolve(parse_thread_key(click.value), person)
