"""The App Home tab (``app_home_opened`` → ``views.publish``): what the bot does and how to ask; for leads,
the open escalations and the dashboard.

Everyone sees how to ask (a DM, a mention, the agent view) with the configured suggested prompts as
examples. A lead also sees the open escalations (``/support escalations``) and, when the dashboard is on
(``DASHBOARD_SECRET`` and ``PUBLIC_URL``), a button that answers with a fresh sign-in link: a link works
once and for 10 minutes, so one published with the tab would be stale when clicked. The click publishes the
tab again for that lead alone with the link in it (a Home tab is only ever seen by the person it was
published for).
"""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import SuggestedPrompt
from bot.dashboard.auth import DashboardAccess
from bot.runtime import App
from bot.types import Principal
from integrations.slack.blocks import Block, section
from integrations.slack.commands import SlackCommands
from integrations.slack.inbound import PLATFORM, SlashCommand
from integrations.slack.mrkdwn import plain
from integrations.slack.principals import PrincipalResolver

log = logging.getLogger(__name__)

DASHBOARD_ACTION = "home_dashboard_link"
"""The action id of the Home tab's dashboard button (not ``supportbot_…``: it is on no message)."""
SECTION_CHARS = 2900
"""A section's text is cut here (Slack refuses more than 3,000 characters)."""
ABOUT = (
    "I answer questions about orders, shipping, returns and accounts from the help center, with the "
    "articles I used as sources. When I cannot help, I hand the thread over to a person on the team."
)
HOW_TO_ASK = (
    "*How to ask*\n"
    "• Write to me in the *Messages* tab, or open me from the top bar (agent view) and pick a prompt\n"
    "• In a channel I am in, mention me: `@Support where is my order ORD-10001?`\n"
    "• Follow up in the thread: I keep the conversation\n"
    "• Type `/support help` for commands"
)


class AppHome:
    """Publishes each person's Home tab through the writing client."""

    def __init__(
        self,
        core: App,
        client: AsyncWebClient,
        people: PrincipalResolver,
        commands: SlackCommands,
    ) -> None:
        self._client = client
        self._people = people
        self._commands = commands
        self._prompts: tuple[SuggestedPrompt, ...] = core.config.facts(PLATFORM).suggested_prompts
        access = DashboardAccess.from_settings(core.settings)
        self._dashboard_on = access is not None and access.public_url is not None

    async def publish(
        self, user_id: str, team_id: str, channel_id: str, *, enterprise_id: str | None, with_link: bool
    ) -> None:
        """Publish ``user_id``'s Home tab (``with_link``: a lead's, with a fresh dashboard link)."""
        person = await self._people.resolve(user_id, team_id=team_id, enterprise_id=enterprise_id)
        blocks = [section(ABOUT), section(HOW_TO_ASK)]
        if self._prompts:
            examples = "\n".join(f"• {plain(p.message.strip())}" for p in self._prompts)
            blocks.append(section(f"*For example*\n{examples}"))
        if person.is_lead:
            blocks += await self._leads_blocks(person, team_id, channel_id, enterprise_id, with_link)
        try:
            await self._client.views_publish(user_id=user_id, view={"type": "home", "blocks": blocks})
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            log.info("could not publish the Home tab of %s: %s", user_id, exc)

    async def _leads_blocks(
        self,
        lead: Principal,
        team_id: str,
        channel_id: str,
        enterprise_id: str | None,
        with_link: bool,
    ) -> list[Block]:
        async def run(text: str) -> str:
            command = SlashCommand(team_id, channel_id, lead.user_id, text, enterprise_id=enterprise_id)
            return (await self._commands.run(command))[:SECTION_CHARS]

        blocks: list[Block] = [{"type": "divider"}, section("*For leads*\n" + await run("escalations"))]
        if not self._dashboard_on:
            return blocks
        if with_link:
            blocks.append(section(await run("dashboard")))
        button = {
            "type": "button",
            "action_id": DASHBOARD_ACTION,
            "text": {"type": "plain_text", "text": "Get a dashboard link"},
        }
        blocks.append({"type": "actions", "block_id": "home_dashboard", "elements": [button]})
        return blocks
