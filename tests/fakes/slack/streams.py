"""``chat.startStream``, ``chat.appendStream`` and ``chat.stopStream``: a message that grows as it is written.

The streamed message is stored as a ``markdown`` block holding its text so far; ``chat.stopStream`` adds its
``blocks`` under it. In a channel (not a DM), ``chat.startStream`` needs ``recipient_user_id`` and
``recipient_team_id`` (the person the answer is for). :meth:`StreamRoutes.stop_stream_as_user` is the person
pressing stop: after it, appending or stopping answers ``message_not_in_streaming_state``.
"""

from __future__ import annotations

from .args import _ApiError, _json_list, _missing, _opt_str, _req_str
from .blocks import _MAX_MARKDOWN_BLOCK_CHARS, validate_blocks
from .state import APP_ID, BOT_ID, BOT_USER_ID, JSON, FakeChannel, FakeMessage

NOT_STREAMING = "message_not_in_streaming_state"


class StreamRoutes:
    """The ``chat.*Stream`` methods, and the user's stop button."""

    def _chat_start_stream(self, args: JSON) -> JSON:
        channel = self._writable_channel(args)
        thread_ts = _req_str(args, "thread_ts")
        if channel.kind != "im":
            for key in ("recipient_user_id", "recipient_team_id"):
                if not _opt_str(args, key):
                    raise _missing(key)
        message = FakeMessage(
            channel=channel.id,
            ts=self.next_ts(),
            text="",
            user=BOT_USER_ID,
            bot_id=BOT_ID,
            app_id=APP_ID,
            thread_ts=thread_ts,
            team=channel.team_id or self.team_id,
        )
        _set_text(message, _opt_str(args, "markdown_text") or "")
        self._store(message)
        self._current_status.pop((channel.id, thread_ts), None)  # a reply clears the status
        self.streaming.add((channel.id, message.ts))
        return {"channel": channel.id, "ts": message.ts}

    def _chat_append_stream(self, args: JSON) -> JSON:
        channel, message = self._streaming_message(args)
        text = _opt_str(args, "markdown_text")
        if not text:
            raise _missing("markdown_text")
        _set_text(message, message.text + text)
        return {"channel": channel.id, "ts": message.ts}

    def _chat_stop_stream(self, args: JSON) -> JSON:
        channel, message = self._streaming_message(args)
        blocks = _json_list(args, "blocks", bad_format_error="invalid_blocks_format") or []
        errors = validate_blocks(blocks, self.limits) if blocks else []
        if errors:
            raise _ApiError("invalid_blocks", extra={"errors": errors})
        _set_text(message, message.text + (_opt_str(args, "markdown_text") or ""), blocks)
        self.streaming.discard((channel.id, message.ts))
        return {"channel": channel.id, "ts": message.ts, "message": self.message_json(message)}

    def stop_stream_as_user(self, channel_id: str, ts: str) -> None:
        """The person presses stop on the streaming message: it keeps what it shows and grows no more."""
        self.streaming.discard((channel_id, ts))

    def _streaming_message(self, args: JSON) -> tuple[FakeChannel, FakeMessage]:
        channel = self._channel(args)
        message = self._live_message(channel, _opt_str(args, "ts"))
        if (channel.id, message.ts) not in self.streaming:
            raise _ApiError(NOT_STREAMING)
        return channel, message


def _set_text(message: FakeMessage, text: str, footer: list[JSON] | None = None) -> None:
    if len(text) > _MAX_MARKDOWN_BLOCK_CHARS:
        raise _ApiError("msg_too_long")
    message.text = text
    message.blocks = [{"type": "markdown", "text": text}, *(footer or [])]
    message.versions.append(message.visible_text)
