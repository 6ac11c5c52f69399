"""REST routes on channels and threads (and opening a DM)."""

from __future__ import annotations

from typing import Any

from .routes import _Request
from .state import JSON, ChannelType, FakeChannel, _as_int, _now
from .validation import (
    ApiError,
    _field_error,
    _invalid_form,
    _set_error,
    is_empty_message,
    validate_message_body,
)


class ChannelRoutes:
    """Channels and threads: reading and editing channels, DMs, threads from a message or in a forum."""

    async def _create_dm(self, req: _Request) -> tuple[int, Any]:
        recipient = _as_int(req.json.get("recipient_id"))
        user = self.users.get(recipient) if recipient is not None else None
        if user is None:
            raise _invalid_form(
                {"recipient_id": _field_error("NUMBER_TYPE_COERCE", "Value is not snowflake.")}
            )
        return 200, self.channel_json(self.dm_channel(user))

    # ------------------------------------------------------------------ REST: channels and messages

    async def _get_channel(self, req: _Request) -> tuple[int, Any]:
        return 200, self.channel_json(self._live_channel(req))

    async def _patch_channel(self, req: _Request) -> tuple[int, Any]:
        channel = self._live_channel(req)
        body = req.json
        errors: JSON = {}
        if "name" in body:
            name = body["name"]
            if not isinstance(name, str) or not 1 <= len(name) <= 100:
                _set_error(errors, ["name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        if channel.is_thread:
            parent = self.channels.get(channel.parent_id or 0)
            if "applied_tags" in body:
                tags = [_as_int(t) for t in body.get("applied_tags") or []]
                valid = {int(t["id"]) for t in parent.available_tags} if parent and parent.is_forum else set()
                if len(tags) > 5:
                    _set_error(
                        errors, ["applied_tags"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length."
                    )
                for i, tag in enumerate(tags):
                    if tag not in valid:
                        _set_error(
                            errors,
                            ["applied_tags", i],
                            "INVALID_FORUM_TAG",
                            "Tag is not available in this channel.",
                        )
            if errors:
                raise _invalid_form(errors)
            if channel.archived and body.get("archived", True) and set(body) - {"archived", "locked"}:
                raise ApiError(400, 50083, "Thread is archived")
            if "name" in body:
                channel.name = body["name"]
            if "applied_tags" in body:
                channel.applied_tags = [int(t) for t in body.get("applied_tags") or []]
            if "auto_archive_duration" in body:
                channel.auto_archive_duration = int(body["auto_archive_duration"])
            if "locked" in body:
                channel.locked = bool(body["locked"])
            if "archived" in body and bool(body["archived"]) != channel.archived:
                channel.archived = bool(body["archived"])
                channel.archive_timestamp = _now()
            await self.dispatch("THREAD_UPDATE", self.channel_json(channel))
            return 200, self.channel_json(channel)
        if channel.is_dm:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        if errors:
            raise _invalid_form(errors)
        if "name" in body:
            channel.name = body["name"]
        if "topic" in body:
            channel.topic = body["topic"]
        if channel.is_forum and "available_tags" in body:
            channel.available_tags = [
                {
                    "id": str(t.get("id") or self.ids.next()),
                    "name": t["name"],
                    "moderated": bool(t.get("moderated", False)),
                    "emoji_id": t.get("emoji_id"),
                    "emoji_name": t.get("emoji_name"),
                }
                for t in body["available_tags"]
            ]
        await self.dispatch("CHANNEL_UPDATE", self.channel_json(channel))
        return 200, self.channel_json(channel)

    async def _join_thread(self, req: _Request) -> tuple[int, Any]:
        channel = self._live_channel(req)
        if not channel.is_thread:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        channel.thread_member_ids.add(self.bot_user.id)
        return 204, None

    def _thread_name(self, body: JSON) -> str:
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            raise _invalid_form(
                {"name": _field_error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")}
            )
        return name

    async def _dispatch_thread_create(self, thread: FakeChannel) -> None:
        payload = self.channel_json(thread)
        payload["newly_created"] = True
        await self.dispatch("THREAD_CREATE", payload)

    async def _thread_from_message(self, req: _Request) -> tuple[int, Any]:
        channel = self._live_channel(req)
        msg = self._live_message(channel, req.id("message_id"))
        if channel.type not in (ChannelType.TEXT, ChannelType.NEWS):
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        if msg.thread_id is not None:
            raise ApiError(400, 160004, "A thread has already been created for this message")
        body = req.json
        name = self._thread_name(body)
        thread = self.add_thread(channel, name, owner=self.bot_user, thread_id=msg.id)
        thread.auto_archive_duration = int(body.get("auto_archive_duration") or 1440)
        thread.rate_limit_per_user = int(body.get("rate_limit_per_user") or 0)
        msg.thread_id = thread.id
        await self._dispatch_thread_create(thread)
        return 201, self.channel_json(thread)

    async def _create_thread(self, req: _Request) -> tuple[int, Any]:
        channel = self._live_channel(req)
        body = req.json
        if channel.is_forum:
            errors: JSON = {}
            message = body.get("message")
            if not isinstance(message, dict):
                _set_error(errors, ["message"], "BASE_TYPE_REQUIRED", "This field is required")
            tags = body.get("applied_tags") or []
            valid = {int(t["id"]) for t in channel.available_tags}
            if len(tags) > 5:
                _set_error(errors, ["applied_tags"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
            for i, tag in enumerate(tags):
                if _as_int(tag) not in valid:
                    _set_error(
                        errors,
                        ["applied_tags", i],
                        "INVALID_FORUM_TAG",
                        "Tag is not available in this channel.",
                    )
            if errors:
                raise _invalid_form(errors)
            name = self._thread_name(body)
            assert isinstance(message, dict)
            validate_message_body(message, self.limits, prefix=["message"])
            thread_id = self.ids.next()
            thread = FakeChannel(
                thread_id,
                ChannelType.PUBLIC_THREAD,
                name,
                channel.guild_id,
                parent_id=channel.id,
                owner_id=self.bot_user.id,
                applied_tags=[int(t) for t in tags],
                auto_archive_duration=int(body.get("auto_archive_duration") or 4320),
                thread_member_ids={self.bot_user.id},
            )
            content = message.get("content") or ""
            if is_empty_message(
                content, message.get("embeds") or [], message.get("components") or [], req.files, message
            ):
                raise ApiError(400, 50006, "Cannot send an empty message")
            self._register_channel(thread)
            channel.last_message_id = thread.id
            await self._dispatch_thread_create(thread)
            starter = await self._create_message(
                thread, self.bot_user, message, req.files, message_id=thread_id, error_prefix=["message"]
            )
            return 201, {**self.channel_json(thread), "message": self.message_json(starter)}
        if channel.type not in (ChannelType.TEXT, ChannelType.NEWS):
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        name = self._thread_name(body)
        thread_type = int(body.get("type") or ChannelType.PRIVATE_THREAD)
        thread = self.add_thread(channel, name, owner=self.bot_user, thread_type=thread_type)
        thread.auto_archive_duration = int(body.get("auto_archive_duration") or 1440)
        await self._dispatch_thread_create(thread)
        return 201, self.channel_json(thread)
