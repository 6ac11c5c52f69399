"""The fake's records rendered as Discord's JSON (REST and gateway shapes)."""

from __future__ import annotations

import copy

from .state import (
    APP_FLAGS_LIMITED_INTENTS,
    JSON,
    FakeChannel,
    FakeGuild,
    FakeMessage,
    FakeUser,
    _as_int,
    _iso,
)


class JsonViews:
    """The world as Discord's JSON: users, guilds, channels, messages, the application."""

    # ------------------------------------------------------------------ JSON views

    def user_json(self, user: FakeUser) -> JSON:
        return user.to_api()

    def guild_json(self, guild: FakeGuild, *, full: bool) -> JSON:
        data: JSON = {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(guild.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [r.to_api() for r in guild.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
        }
        if full:
            threads = [
                self.channels[c].to_api(bot_id=self.bot_user.id)
                for c in self.channels
                if self.channels[c].guild_id == guild.id
                and self.channels[c].is_thread
                and not self.channels[c].archived
            ]
            data.update(
                joined_at=_iso(guild.members[self.bot_user.id].joined_at),
                large=False,
                unavailable=False,
                member_count=len(guild.members),
                voice_states=[],
                members=[m.to_api() for m in guild.members.values()],
                channels=[self.channels[c].to_api() for c in guild.channel_ids],
                threads=threads,
                presences=[],
                stage_instances=[],
                guild_scheduled_events=[],
                soundboard_sounds=[],
            )
        return data

    def channel_json(self, channel: FakeChannel) -> JSON:
        return channel.to_api(bot_id=self.bot_user.id)

    def message_json(self, msg: FakeMessage, *, gateway: bool = False, with_reference: bool = True) -> JSON:
        """The message as Discord sends it (``gateway=True``: with ``guild_id`` and ``member``)."""
        data: JSON = {
            "id": str(msg.id),
            "channel_id": str(msg.channel_id),
            "type": msg.type,
            "content": msg.content,
            "author": msg.author.to_api(),
            "timestamp": _iso(msg.created_at),
            "edited_timestamp": _iso(msg.edited_at),
            "tts": msg.tts,
            "mention_everyone": msg.mention_everyone,
            "mentions": [self._mention_json(u, msg.guild_id, gateway) for u in msg.mentions],
            "mention_roles": [str(r) for r in msg.mention_roles],
            "attachments": copy.deepcopy(msg.attachments),
            "embeds": copy.deepcopy(msg.embeds),
            "pinned": False,
            "flags": msg.flags,
            "components": copy.deepcopy(msg.components),
        }
        if msg.reactions:
            data["reactions"] = [
                {
                    "emoji": {"id": None, "name": emoji},
                    "count": len(users),
                    "count_details": {"burst": 0, "normal": len(users)},
                    "me": self.bot_user.id in users,
                    "me_burst": False,
                    "burst_colors": [],
                }
                for emoji, users in msg.reactions.items()
                if users
            ]
        if msg.webhook_id is not None:
            data["webhook_id"] = str(msg.webhook_id)
        if msg.application_id is not None:
            data["application_id"] = str(msg.application_id)
        if msg.nonce is not None:
            data["nonce"] = msg.nonce
        if msg.interaction_metadata is not None:
            data["interaction_metadata"] = copy.deepcopy(msg.interaction_metadata)
        if msg.position is not None:
            data["position"] = msg.position
        if msg.thread_id is not None and msg.thread_id in self.channels:
            data["thread"] = self.channel_json(self.channels[msg.thread_id])
        if msg.message_reference is not None:
            data["message_reference"] = copy.deepcopy(msg.message_reference)
            ref_id = _as_int(msg.message_reference.get("message_id"))
            if with_reference and msg.type == 19:
                ref = self._message_index.get(ref_id) if ref_id is not None else None
                data["referenced_message"] = (
                    None if ref is None or ref.deleted else self.message_json(ref, with_reference=False)
                )
        if gateway and msg.guild_id is not None:
            data["guild_id"] = str(msg.guild_id)
            member = self.guilds[msg.guild_id].members.get(msg.author.id)
            if member is not None and msg.webhook_id is None:
                data["member"] = member.to_api(with_user=False)
        return data

    def _mention_json(self, user: FakeUser, guild_id: int | None, gateway: bool) -> JSON:
        data = user.to_api()
        if gateway and guild_id is not None:
            member = self.guilds[guild_id].members.get(user.id)
            if member is not None:
                data["member"] = member.to_api(with_user=False)
        return data

    def _application_json(self) -> JSON:
        return {
            "id": str(self.application_id),
            "name": self.bot_user.username,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": self.owner_user.to_api(),
            "team": None,
            "flags": APP_FLAGS_LIMITED_INTENTS,
            "bot": self.bot_user.to_api(),
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "approximate_guild_count": len(self.guilds),
            "tags": [],
        }
