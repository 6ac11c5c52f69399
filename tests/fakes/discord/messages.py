"""REST routes on messages: create, edit, delete, reactions, typing; mentions and attachments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web

from .routes import _Request
from .state import (
    _ROLE_MENTION_RE,
    _USER_MENTION_RE,
    JSON,
    ChannelType,
    FakeChannel,
    FakeInteraction,
    FakeMessage,
    FakeUser,
    MessageFlag,
    Perm,
    Pings,
    _as_int,
    _now,
)
from .validation import ApiError, _field_error, _invalid_form, is_empty_message, validate_message_body


class MessageRoutes:
    """Messages: create, edit, delete (REST and gateway), mentions, attachments, reactions, typing."""

    # ------------------------------------------------------------------ mentions

    def _resolve_pings(
        self,
        author: FakeUser,
        guild_id: int | None,
        content: str,
        allowed: JSON | None,
        reply_to: FakeMessage | None,
    ) -> tuple[Pings, list[FakeUser]]:
        """Who ``content`` pings under ``allowed`` (None: Discord's default, everything), and the
        ``mentions`` array Discord would return (the pinged users plus the replied-to author)."""
        if allowed is None:
            parse = {"users", "roles", "everyone"}
            allowed_users: set[int] = set()
            allowed_roles: set[int] = set()
            replied_user = True
        else:
            parse = set(allowed.get("parse") or [])
            allowed_users = {int(u) for u in allowed.get("users") or [] if _as_int(u) is not None}
            allowed_roles = {int(r) for r in allowed.get("roles") or [] if _as_int(r) is not None}
            replied_user = bool(allowed.get("replied_user", False))
        guild = self.guilds.get(guild_id) if guild_id is not None else None
        can_everyone = guild is not None and bool(self.permissions(guild, author) & Perm.MENTION_EVERYONE)

        users: list[FakeUser] = []
        for raw in _USER_MENTION_RE.findall(content):
            uid = int(raw)
            target = self.users.get(uid)
            if target is None or target in users:
                continue
            if "users" in parse or uid in allowed_users:
                users.append(target)
        roles: list[int] = []
        if guild is not None:
            for raw in _ROLE_MENTION_RE.findall(content):
                role = guild.roles.get(int(raw))
                if role is None or role.id in roles or role.id == guild.id:
                    continue
                if ("roles" in parse or role.id in allowed_roles) and (role.mentionable or can_everyone):
                    roles.append(role.id)
        everyone = "@everyone" in content and "everyone" in parse and can_everyone
        here = "@here" in content and "everyone" in parse and can_everyone
        mentions = list(users)
        if (
            reply_to is not None
            and replied_user
            and reply_to.author.id != author.id
            and reply_to.author not in mentions
        ):
            mentions.append(reply_to.author)
        pings = Pings(everyone, here, frozenset(u.id for u in mentions), frozenset(roles))
        return pings, mentions

    def _apply_mentions(self, msg: FakeMessage, reply_to: FakeMessage | None) -> None:
        pings, mentions = self._resolve_pings(
            msg.author, msg.guild_id, msg.content, msg.allowed_mentions, reply_to
        )
        if msg.flags & MessageFlag.EPHEMERAL:
            pings = Pings()
        msg.mentions = mentions
        msg.mention_roles = sorted(pings.roles)
        msg.mention_everyone = pings.everyone or pings.here
        msg.ping_history.append(pings)

    def attachment(
        self, channel: FakeChannel | int, filename: str, data: bytes, content_type: str = "text/plain"
    ) -> JSON:
        """An attachment for ``user_message(..., attachments=[...])`` whose ``url`` serves ``data`` (the
        fake's CDN, like ``cdn.discordapp.com``: no token needed)."""
        attachment_id = self.ids.next()
        self._attachment_data[attachment_id] = (data, content_type)
        url = f"{self.base_url}/attachments/{self._channel(channel).id}/{attachment_id}/{filename}"
        return {
            "id": str(attachment_id),
            "filename": filename,
            "size": len(data),
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
        }

    async def _serve_attachment(self, request: web.Request) -> web.Response:
        attachment_id = _as_int(request.match_info["attachment"]) or 0
        self.cdn_downloads.append(attachment_id)
        found = self._attachment_data.get(attachment_id)
        if found is None:
            return web.Response(status=404, text="Not Found")
        data, content_type = found
        return web.Response(body=data, content_type=content_type.split(";")[0])

    def _new_attachments(self, files: list[JSON], body: JSON, channel_id: int) -> list[JSON]:
        descriptions = {_as_int(a.get("id")): a for a in body.get("attachments") or [] if isinstance(a, dict)}
        out: list[JSON] = []
        for index, upload in enumerate(files):
            attachment_id = self.ids.next()
            meta = descriptions.get(index) or {}
            filename = str(meta.get("filename") or upload["filename"])
            url = f"{self.base_url}/attachments/{channel_id}/{attachment_id}/{filename}"
            out.append(
                {
                    "id": str(attachment_id),
                    "filename": filename,
                    "description": meta.get("description"),
                    "size": upload["size"],
                    "url": url,
                    "proxy_url": url,
                    "content_type": "application/octet-stream",
                }
            )
        return out

    # ------------------------------------------------------------------ message operations

    def _check_can_post(self, channel: FakeChannel, author: FakeUser) -> None:
        if channel.type in (ChannelType.FORUM, ChannelType.CATEGORY):
            raise ApiError(400, 50008, "Cannot send messages in a non-text channel")
        if author.id == self.bot_user.id and not channel.bot_can_send:
            raise ApiError(403, 50013, "Missing Permissions")
        if channel.is_dm and channel.recipients and not channel.recipients[0].accepts_dms:
            raise ApiError(403, 50007, "Cannot send messages to this user")
        if channel.is_thread and channel.archived and channel.locked:
            raise ApiError(400, 50083, "Thread is archived")

    async def _store_message(self, msg: FakeMessage, *, dispatch: bool = True) -> None:
        channel = self.channels[msg.channel_id]
        msg.versions.append(msg.content)
        self._messages[channel.id].append(msg)
        self._message_index[msg.id] = msg
        if msg.ephemeral:
            return
        channel.last_message_id = msg.id
        if channel.is_thread:
            msg.position = channel.total_message_sent
            if msg.id != channel.id:
                channel.message_count += 1
            channel.total_message_sent += 1
            if channel.archived and not channel.locked:
                channel.archived = False
                channel.archive_timestamp = _now()
                await self.dispatch("THREAD_UPDATE", self.channel_json(channel))
        if dispatch:
            await self.dispatch("MESSAGE_CREATE", self.message_json(msg, gateway=True))

    async def _create_message(
        self,
        channel: FakeChannel,
        author: FakeUser,
        body: JSON,
        files: list[JSON],
        *,
        message_id: int | None = None,
        flags_allowed: int = MessageFlag.SETTABLE_ON_CREATE,
        extra_flags: int = 0,
        message_type: int = 0,
        webhook: bool = False,
        interaction: FakeInteraction | None = None,
        error_prefix: Sequence[str | int] = (),
    ) -> FakeMessage:
        validate_message_body(body, self.limits, prefix=error_prefix)
        self._check_can_post(channel, author)
        content = body.get("content") or ""
        embeds = list(body.get("embeds") or [])
        components = list(body.get("components") or [])
        attachments = self._new_attachments(files, body, channel.id)
        if not extra_flags & MessageFlag.LOADING and is_empty_message(
            content, embeds, components, attachments, body
        ):
            raise ApiError(400, 50006, "Cannot send an empty message")
        reply_to: FakeMessage | None = None
        reference = body.get("message_reference")
        if isinstance(reference, dict):
            ref_id = _as_int(reference.get("message_id"))
            reply_to = self._message_index.get(ref_id) if ref_id is not None else None
            if reply_to is None or reply_to.deleted:
                if reference.get("fail_if_not_exists", True):
                    raise _invalid_form(
                        {"message_reference": _field_error("REPLIES_UNKNOWN_MESSAGE", "Unknown message")}
                    )
                reference, reply_to = None, None
            else:
                reference = {
                    "type": 0,
                    "message_id": str(reply_to.id),
                    "channel_id": str(reply_to.channel_id),
                    **({"guild_id": str(reply_to.guild_id)} if reply_to.guild_id else {}),
                }
                message_type = 19
        else:
            reference = None
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            for existing in reversed(self._messages[channel.id]):
                if existing.nonce == nonce and existing.author.id == author.id:
                    return existing
        flags = ((_as_int(body.get("flags")) or 0) & flags_allowed) | extra_flags
        msg = FakeMessage(
            id=message_id or self.ids.next(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=author,
            content=content,
            embeds=embeds,
            components=components,
            attachments=attachments,
            flags=flags,
            type=message_type,
            message_reference=reference,
            allowed_mentions=body.get("allowed_mentions"),
            nonce=nonce,
            tts=bool(body.get("tts", False)),
        )
        if webhook:
            msg.webhook_id = self.application_id
            msg.application_id = self.application_id
        if interaction is not None:
            msg.interaction_metadata = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": interaction.user.to_api(),
                "authorizing_integration_owners": (
                    {"0": str(interaction.guild_id)}
                    if interaction.guild_id
                    else {"1": str(interaction.user.id)}
                ),
            }
            if interaction.type == 3 and interaction.message_id is not None:
                msg.interaction_metadata["interacted_message_id"] = str(interaction.message_id)
        self._apply_mentions(msg, reply_to)
        await self._store_message(msg)
        for listener in self.message_listeners:
            listener("create", msg)
        return msg

    async def _edit_message(
        self, msg: FakeMessage, body: JSON, files: list[JSON], *, editor: FakeUser
    ) -> FakeMessage:
        if msg.author.id != editor.id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        channel = self.channels[msg.channel_id]
        if channel.is_thread and channel.archived:
            raise ApiError(400, 50083, "Thread is archived")
        validate_message_body(body, self.limits)
        content = msg.content
        if "content" in body:
            content = body.get("content") or ""
        embeds = list(body["embeds"] or []) if "embeds" in body else msg.embeds
        components = list(body["components"] or []) if "components" in body else msg.components
        attachments = msg.attachments
        if "attachments" in body or files:
            keep = {str(a.get("id")) for a in body.get("attachments") or [] if isinstance(a, dict)}
            attachments = (
                [a for a in msg.attachments if a["id"] in keep] if "attachments" in body else msg.attachments
            )
            attachments = attachments + self._new_attachments(files, body, channel.id)
        was_loading = msg.loading
        if not was_loading and is_empty_message(content, embeds, components, attachments, body):
            raise ApiError(400, 50006, "Cannot send an empty message")
        msg.content, msg.embeds, msg.components, msg.attachments = content, embeds, components, attachments
        if "flags" in body and body["flags"] is not None:
            settable = MessageFlag.SUPPRESS_EMBEDS
            msg.flags = (msg.flags & ~settable) | ((_as_int(body["flags"]) or 0) & settable)
        msg.flags &= ~MessageFlag.LOADING
        msg.edited_at = None if was_loading else _now()
        msg.versions.append(msg.content)
        if "content" in body:
            msg.allowed_mentions = body.get("allowed_mentions")
            reply_to = None
            if msg.message_reference is not None:
                ref_id = _as_int(msg.message_reference.get("message_id"))
                reply_to = self._message_index.get(ref_id) if ref_id is not None else None
            self._apply_mentions(msg, reply_to)
        if not msg.ephemeral:
            await self.dispatch("MESSAGE_UPDATE", self.message_json(msg, gateway=True))
        for listener in self.message_listeners:
            listener("edit", msg)
        return msg

    async def _delete(self, msg: FakeMessage) -> None:
        msg.deleted = True
        if msg.ephemeral:
            return
        payload: JSON = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
        if msg.guild_id is not None:
            payload["guild_id"] = str(msg.guild_id)
        await self.dispatch("MESSAGE_DELETE", payload)

    def _live_channel(self, req: _Request) -> FakeChannel:
        channel = self.channels.get(req.id("channel_id"))
        if channel is None:
            raise ApiError(404, 10003, "Unknown Channel")
        return channel

    def _live_message(self, channel: FakeChannel, message_id: int) -> FakeMessage:
        msg = self._message_index.get(message_id)
        if msg is None or msg.deleted or msg.channel_id != channel.id or msg.ephemeral:
            raise ApiError(404, 10008, "Unknown Message")
        return msg

    async def _get_messages(self, req: _Request) -> tuple[int, Any]:
        channel = self._live_channel(req)
        raw_limit = req.query.get("limit", "50")
        limit = _as_int(raw_limit)
        if limit is None or not 1 <= limit <= 100:
            raise _invalid_form(
                {"limit": _field_error("NUMBER_TYPE_MAX", "int value should be less than or equal to 100.")}
            )
        history = [m for m in self._messages[channel.id] if not m.deleted and not m.ephemeral]
        before, after, around = (_as_int(req.query.get(k)) for k in ("before", "after", "around"))
        if around is not None:
            older = [m for m in history if m.id <= around][-(limit // 2 + limit % 2) :]
            newer = [m for m in history if m.id > around][: limit // 2]
            picked = older + newer
        elif after is not None:
            picked = [m for m in history if m.id > after][:limit]
        else:
            picked = [m for m in history if before is None or m.id < before][-limit:]
        return 200, [self.message_json(m) for m in reversed(picked)]

    async def _get_message(self, req: _Request) -> tuple[int, Any]:
        channel = self._live_channel(req)
        return 200, self.message_json(self._live_message(channel, req.id("message_id")))

    async def _post_message(self, req: _Request) -> tuple[int, Any]:
        channel = self._live_channel(req)
        msg = await self._create_message(channel, self.bot_user, req.json, req.files)
        return 200, self.message_json(msg)

    async def _patch_message(self, req: _Request) -> tuple[int, Any]:
        channel = self._live_channel(req)
        msg = self._live_message(channel, req.id("message_id"))
        await self._edit_message(msg, req.json, req.files, editor=self.bot_user)
        return 200, self.message_json(msg)

    async def _delete_message(self, req: _Request) -> tuple[int, Any]:
        channel = self._live_channel(req)
        msg = self._live_message(channel, req.id("message_id"))
        may_manage = (
            not channel.is_dm and self.permissions(channel.guild_id, self.bot_user) & Perm.MANAGE_MESSAGES
        )
        if msg.author.id != self.bot_user.id and not may_manage:
            raise ApiError(403, 50013, "Missing Permissions")
        await self._delete(msg)
        return 204, None

    async def _add_reaction(self, req: _Request) -> tuple[int, Any]:
        channel = self._live_channel(req)
        msg = self._live_message(channel, req.id("message_id"))
        msg.reactions.setdefault(req.params["emoji"], set()).add(self.bot_user.id)
        return 204, None

    async def _remove_reaction(self, req: _Request) -> tuple[int, Any]:
        channel = self._live_channel(req)
        msg = self._live_message(channel, req.id("message_id"))
        msg.reactions.get(req.params["emoji"], set()).discard(self.bot_user.id)
        return 204, None

    async def _trigger_typing(self, req: _Request) -> tuple[int, Any]:
        channel = self._live_channel(req)
        self._typing.setdefault(channel.id, []).append(self._clock())
        return 204, None
