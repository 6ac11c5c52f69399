"""Who is asking on Slack (docs/architecture.md §4 step 3), from ``users.info``, ``config/bot.toml`` and the
store.

- full members of the installing workspace, or of its Enterprise Grid organisation, are employees (the
  workspace is always the installing one: see ``events.installation``);
- leads are the members listed in ``[slack] lead_user_ids`` or in the user group ``lead_usergroup_id``
  (its members are fetched with ``usergroups.users.list`` and kept for a minute);
- Slack Connect users from another organisation, guests (restricted accounts) and bots are customers,
  with the customer id the store links to their Slack user id, if any.

When Slack cannot tell who someone is, they are treated as an unlinked customer: the least privilege.
``users.info`` answers are kept for a few minutes and "no such user" for a minute; a message naming
thousands of users costs at most ``MAX_NAME_LOOKUPS`` calls.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.cache import TTLCache
from bot.config import SlackRoles
from bot.store import IdentityLinks
from bot.types import Principal, Role
from integrations.slack.inbound import PLATFORM

log = logging.getLogger(__name__)

USER_TTL = 300.0
UNKNOWN_TTL = 60.0
"""How long Slack's "no such user" is remembered (no second call, no second warning); a passing failure
(a 5xx, a timeout) is not remembered, so a lead is not taken for a customer for long."""
NOT_FOUND = frozenset({"user_not_found", "users_not_found", "user_not_visible"})
GROUP_TTL = 60.0
MAX_CACHED_USERS = 10_000
MAX_NAME_LOOKUPS = 25
"""``users.info`` calls one message (or one thread's history) may cost for display names; the mentions
beyond it keep their ids."""


@dataclass(frozen=True)
class SlackUser:
    """What the bot needs of a ``users.info`` answer."""

    id: str
    name: str
    team_id: str | None
    enterprise_id: str | None
    is_bot: bool
    is_guest: bool
    is_stranger: bool

    @classmethod
    def from_api(cls, user: dict[str, Any]) -> SlackUser:
        profile = user.get("profile") or {}
        enterprise = user.get("enterprise_user") or {}
        name = (
            profile.get("display_name")
            or profile.get("real_name")
            or user.get("real_name")
            or user.get("name")
        )
        return cls(
            id=str(user["id"]),
            name=str(name or user["id"]),
            team_id=user.get("team_id"),
            enterprise_id=enterprise.get("enterprise_id"),
            is_bot=bool(user.get("is_bot")),
            is_guest=bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
            is_stranger=bool(user.get("is_stranger")),
        )

    def is_member_of(self, team_id: str, enterprise_id: str | None) -> bool:
        """A full member of the workspace (or of its Enterprise Grid organisation)."""
        if self.is_stranger or self.is_guest or self.is_bot:
            return False
        if enterprise_id is not None and self.enterprise_id == enterprise_id:
            return True
        return self.team_id == team_id


class PrincipalResolver:
    def __init__(
        self,
        client: AsyncWebClient,
        store: IdentityLinks,
        roles: SlackRoles,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._store = store
        self._roles = roles
        self._users: TTLCache[str, SlackUser] = TTLCache(USER_TTL, MAX_CACHED_USERS, clock)
        self._unknown: TTLCache[str, bool] = TTLCache(UNKNOWN_TTL, MAX_CACHED_USERS, clock)
        self._leads_group: TTLCache[str, frozenset[str]] = TTLCache(GROUP_TTL, 1, clock)

    async def resolve(
        self,
        user_id: str,
        *,
        team_id: str,
        enterprise_id: str | None = None,
        bot_name: str | None = None,
    ) -> Principal:
        """The principal of ``user_id`` in workspace ``team_id``; ``bot_name`` when another bot wrote."""
        customer_id = await self._store.customer_for(PLATFORM, user_id)
        user = None if bot_name is not None else await self.user(user_id)
        name = bot_name or (user.name if user is not None else user_id)
        if user is None or not user.is_member_of(team_id, enterprise_id):
            return Principal(PLATFORM, user_id, name, frozenset({Role.CUSTOMER}), customer_id)
        roles = {Role.EMPLOYEE}
        if await self._is_lead(user_id):
            roles.add(Role.LEAD)
        return Principal(PLATFORM, user_id, name, frozenset(roles), customer_id)

    async def user(self, user_id: str) -> SlackUser | None:
        """The user's ``users.info`` (kept a few minutes); None when Slack does not say."""
        cached = self._users.get(user_id)
        if cached is not None or self._unknown.get(user_id):
            return cached
        try:
            response = await self._client.users_info(user=user_id)
            user = SlackUser.from_api(response["user"])
        except (SlackClientError, aiohttp.ClientError, TimeoutError, KeyError, TypeError) as exc:
            log.warning("users.info for %s failed (%s); treating them as an unlinked customer", user_id, exc)
            if isinstance(exc, SlackApiError) and exc.response.get("error") in NOT_FOUND:
                self._unknown.put(user_id, True)  # Slack's answer, not a passing failure: keep it a while
            return None
        self._users.put(user_id, user)
        return user

    async def names(self, user_ids: Iterable[str]) -> dict[str, str]:
        """Display names of the users Slack knows, by id: the ones kept, and up to ``MAX_NAME_LOOKUPS``
        asked of Slack."""
        names: dict[str, str] = {}
        lookups = 0
        for user_id in dict.fromkeys(user_ids):
            user = self._users.get(user_id)
            if user is None and lookups < MAX_NAME_LOOKUPS and not self._unknown.get(user_id):
                lookups += 1
                user = await self.user(user_id)
            if user is not None:
                names[user_id] = user.name
        return names

    async def _is_lead(self, user_id: str) -> bool:
        if user_id in self._roles.lead_user_ids:
            return True
        group = self._roles.lead_usergroup_id
        if group is None:
            return False
        members = self._leads_group.get(group)
        if members is None:
            try:
                response = await self._client.usergroups_users_list(usergroup=group)
                members = frozenset(str(u) for u in response.get("users") or ())
            except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
                log.warning("usergroups.users.list for the leads' group %s failed: %s", group, exc)
                return False
            self._leads_group.put(group, members)
        return user_id in members
