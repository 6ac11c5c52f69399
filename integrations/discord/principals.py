"""Who is asking on Discord (docs/architecture.md §4 step 3), from the guild member, ``config/bot.toml`` and
the store.

- guild members are customers, with the customer id the store links to their Discord user id, if any;
- members with one of ``[discord] lead_role_ids`` are leads;
- members with the Administrator permission are admins, in the guilds the bot trusts: those that hold a
  configured lead role, or every guild when no lead role is configured (keep the application private then,
  so that only you can add the bot to a guild: its administrators see what staff see);
- in a direct message the person is looked up in the trusted guilds the bot is in (members kept for a few
  minutes); someone the bot finds in none is an unlinked-or-linked customer, the least privilege.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import aiohttp
import discord

from bot.cache import TTLCache
from bot.config import DiscordRoles
from bot.store import IdentityLinks
from bot.types import Principal, Role
from integrations.discord.inbound import PLATFORM

log = logging.getLogger(__name__)

MEMBER_TTL = 300.0
MAX_CACHED_MEMBERS = 10_000
MAX_GUILDS_LOOKED_UP = 5
"""In a direct message, the guilds the person is looked up in (trusted ones, first joined first)."""


class PrincipalResolver:
    def __init__(
        self,
        client: discord.Client,
        store: IdentityLinks,
        roles: DiscordRoles,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._store = store
        self._lead_roles = frozenset(int(role) for role in roles.lead_role_ids if role.isdigit())
        # (guild, user) -> (member or None: not a member), so that strangers cost one lookup per period
        self._members: TTLCache[tuple[int, int], tuple[discord.Member | None]] = TTLCache(
            MEMBER_TTL, MAX_CACHED_MEMBERS, clock
        )

    async def resolve(self, user: discord.User | discord.Member) -> Principal:
        """The principal of ``user``: a guild member as such, anyone else by their membership elsewhere."""
        customer_id = await self._store.customer_for(PLATFORM, str(user.id))
        members = [user] if isinstance(user, discord.Member) else await self._memberships(user)
        roles: set[Role] = set()
        for member in members:
            roles |= self.member_roles(member)
        return Principal(
            PLATFORM, str(user.id), user.display_name, frozenset(roles or {Role.CUSTOMER}), customer_id
        )

    def member_roles(self, member: discord.Member) -> set[Role]:
        """The staff roles a member has in their guild (none: a customer)."""
        roles: set[Role] = set()
        if any(role.id in self._lead_roles for role in member.roles):
            roles.add(Role.LEAD)
        if member.guild_permissions.administrator and self.trusts(member.guild):
            roles.add(Role.ADMIN)
        return roles

    def trusts(self, guild: discord.Guild) -> bool:
        """The guild's administrators are admins (see the module docstring)."""
        return not self._lead_roles or any(guild.get_role(role) is not None for role in self._lead_roles)

    async def _memberships(self, user: discord.User | discord.Member) -> list[discord.Member]:
        guilds = [guild for guild in self._client.guilds if self.trusts(guild)][:MAX_GUILDS_LOOKED_UP]
        found = [await self._member(guild, user.id) for guild in guilds]
        return [member for member in found if member is not None]

    async def _member(self, guild: discord.Guild, user_id: int) -> discord.Member | None:
        cached = guild.get_member(user_id)
        if cached is not None:
            return cached
        key = (guild.id, user_id)
        known = self._members.get(key)
        if known is not None:
            return known[0]
        try:
            member: discord.Member | None = await guild.fetch_member(user_id)
        except discord.NotFound:
            member = None
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("could not look up %s in guild %s (%s); not counting it", user_id, guild.id, exc)
            return None
        self._members.put(key, (member,))
        return member
