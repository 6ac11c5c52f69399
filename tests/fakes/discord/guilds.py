"""REST routes on guilds, members and users."""

from __future__ import annotations

from typing import Any

from .routes import _Request
from .state import FakeGuild, _iso
from .validation import ApiError


class GuildRoutes:
    """Guilds, members and users."""

    async def _get_me(self, req: _Request) -> tuple[int, Any]:
        return 200, {
            **self.bot_user.to_api(),
            "verified": True,
            "mfa_enabled": False,
            "flags": 0,
            "locale": "en-US",
        }

    async def _get_user(self, req: _Request) -> tuple[int, Any]:
        user = self.users.get(req.id("user_id"))
        if user is None:
            raise ApiError(404, 10013, "Unknown User")
        return 200, user.to_api()

    # ------------------------------------------------------------------ REST: guilds

    def _live_guild(self, req: _Request) -> FakeGuild:
        guild = self.guilds.get(req.id("guild_id"))
        if guild is None:
            raise ApiError(404, 10004, "Unknown Guild")
        return guild

    async def _get_guild(self, req: _Request) -> tuple[int, Any]:
        return 200, self.guild_json(self._live_guild(req), full=False)

    async def _get_guild_channels(self, req: _Request) -> tuple[int, Any]:
        guild = self._live_guild(req)
        return 200, [self.channel_json(self.channels[c]) for c in guild.channel_ids]

    async def _get_active_threads(self, req: _Request) -> tuple[int, Any]:
        guild = self._live_guild(req)
        threads = [
            c for c in self.channels.values() if c.guild_id == guild.id and c.is_thread and not c.archived
        ]
        members = [
            {
                "id": str(t.id),
                "user_id": str(self.bot_user.id),
                "join_timestamp": _iso(t.created_at),
                "flags": 0,
            }
            for t in threads
            if self.bot_user.id in t.thread_member_ids
        ]
        return 200, {"threads": [self.channel_json(t) for t in threads], "members": members}

    async def _get_member(self, req: _Request) -> tuple[int, Any]:
        guild = self._live_guild(req)
        member = guild.members.get(req.id("user_id"))
        if member is None:
            raise ApiError(404, 10007, "Unknown Member")
        return 200, member.to_api()
