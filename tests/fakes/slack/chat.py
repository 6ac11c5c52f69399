"""The ``chat.*`` methods."""

from __future__ import annotations

import json

from .args import _ApiError, _json_list, _opt_bool, _opt_str, _req_str
from .blocks import _MAX_MARKDOWN_BLOCK_CHARS, validate_blocks
from .state import APP_ID, BOT_ID, BOT_USER_ID, JSON, Ephemeral, FakeChannel, FakeMessage


class ChatRoutes:
    """``chat.*``: post, update, delete, ephemeral messages and permalinks."""

    def _find_post_target(self, channel_id: str) -> FakeChannel | None:
        channel = self.channels.get(channel_id)
        if channel is None and channel_id in self.users and channel_id[:1] in {"U", "W"}:
            channel = self.add_dm(channel_id)  # posting to a user id opens the bot's DM with them
        return channel

    def _writable_channel(self, args: JSON) -> FakeChannel:
        channel = self._find_post_target(_opt_str(args, "channel") or "")
        if channel is None:
            raise _ApiError("channel_not_found")
        if channel.is_archived:
            raise _ApiError("is_archived")
        if channel.kind != "im" and not channel.bot_is_member:
            raise _ApiError("not_in_channel")
        return channel

    def _message_content(self, args: JSON) -> tuple[str | None, list[JSON] | None, bool]:
        """(text, blocks, blocks_given) after Slack's checks on size and Block Kit."""
        text = _opt_str(args, "text")
        markdown_text = _opt_str(args, "markdown_text")
        if markdown_text is not None:
            if text is not None or "blocks" in args:
                raise _ApiError("markdown_text_conflict")
            if len(markdown_text) > _MAX_MARKDOWN_BLOCK_CHARS:
                raise _ApiError("msg_too_long")
            text = markdown_text
        if text is not None and len(text) > self.limits.max_text_chars:
            raise _ApiError("msg_too_long")
        blocks_given = "blocks" in args
        blocks = _json_list(args, "blocks", bad_format_error="invalid_blocks_format")
        if blocks:
            errors = validate_blocks(blocks, self.limits)
            if errors:
                raise _ApiError(
                    "invalid_blocks",
                    extra={
                        "errors": errors,
                        "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]},
                    },
                )
        return text, blocks, blocks_given

    def _live_message(self, channel: FakeChannel, ts: str | None) -> FakeMessage:
        message = channel.messages.get(ts or "")
        if message is None or message.deleted:
            raise _ApiError("message_not_found")
        return message

    def _chat_post_message(self, args: JSON) -> JSON:
        channel = self._writable_channel(args)
        text, blocks, _ = self._message_content(args)
        attachments = _json_list(args, "attachments", bad_format_error="invalid_attachments")
        if not text and not blocks and not attachments:
            raise _ApiError("no_text")
        thread_ts = _opt_str(args, "thread_ts") or None
        if thread_ts is not None:
            parent = channel.messages.get(thread_ts)
            if parent is not None and parent.is_reply and parent.thread_ts is not None:
                thread_ts = parent.thread_ts  # a reply to a reply lands in the same thread
        metadata = args.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata) if metadata else None
        message = FakeMessage(
            channel=channel.id,
            ts=self.next_ts(),
            text=text or "",
            user=BOT_USER_ID,
            bot_id=BOT_ID,
            app_id=APP_ID,
            blocks=blocks or None,
            attachments=attachments or None,
            thread_ts=thread_ts,
            team=channel.team_id or self.team_id,
            reply_broadcast=bool(_opt_bool(args, "reply_broadcast")),
            unfurl_links=_opt_bool(args, "unfurl_links"),
            unfurl_media=_opt_bool(args, "unfurl_media"),
            metadata=metadata if isinstance(metadata, dict) else None,
        )
        self._store(message)
        if thread_ts is not None:
            self._current_status.pop((channel.id, thread_ts), None)  # a reply clears the status
        for listener in self.message_listeners:
            listener("chat.postMessage", message)
        return {"channel": channel.id, "ts": message.ts, "message": self.message_json(message)}

    def _chat_update(self, args: JSON) -> JSON:
        channel = self._channel(args)
        message = self._live_message(channel, _opt_str(args, "ts"))
        if message.bot_id != BOT_ID:
            raise _ApiError("cant_update_message")
        text, blocks, blocks_given = self._message_content(args)
        attachments = _json_list(args, "attachments", bad_format_error="invalid_attachments")
        if text is None and not blocks_given and attachments is None:
            raise _ApiError("no_text")
        if text is not None:
            message.text = text
        if blocks_given:
            message.blocks = blocks or None  # an empty list removes the blocks
        if attachments is not None:
            message.attachments = attachments or None
        message.edited = {"user": BOT_USER_ID, "ts": self.next_ts()}
        message.update_count += 1
        message.versions.append(message.visible_text)
        for listener in self.message_listeners:
            listener("chat.update", message)
        return {
            "channel": channel.id,
            "ts": message.ts,
            "text": message.text,
            "message": self.message_json(message),
        }

    def _chat_delete(self, args: JSON) -> JSON:
        channel = self._channel(args)
        message = self._live_message(channel, _opt_str(args, "ts"))
        if message.bot_id != BOT_ID:
            raise _ApiError("cant_delete_message")
        message.deleted = True
        return {"channel": channel.id, "ts": message.ts}

    def _chat_post_ephemeral(self, args: JSON) -> JSON:
        channel = self._writable_channel(args)
        user = _req_str(args, "user")
        if user not in self.users:
            raise _ApiError("user_not_found")
        if channel.members is not None and user not in channel.members:
            raise _ApiError("user_not_in_channel")
        text, blocks, _ = self._message_content(args)
        if not text and not blocks:
            raise _ApiError("no_text")
        message_ts = self.next_ts()
        self.ephemerals.append(
            Ephemeral(
                channel=channel.id,
                user=user,
                text=text or "",
                blocks=blocks or None,
                thread_ts=_opt_str(args, "thread_ts"),
                via="chat.postEphemeral",
                message_ts=message_ts,
            )
        )
        return {"message_ts": message_ts}

    def _chat_get_permalink(self, args: JSON) -> JSON:
        channel = self._channel(args)
        message = self._live_message(channel, _opt_str(args, "message_ts"))
        link = f"https://{self.team_domain}.slack.com/archives/{channel.id}/p{message.ts.replace('.', '')}"
        if message.is_reply:
            link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
        return {"channel": channel.id, "permalink": link}
