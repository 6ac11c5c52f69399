"""The ``conversations.*`` methods."""

from __future__ import annotations

import copy

from .args import (
    _ApiError,
    _decode_cursor,
    _encode_cursor,
    _int_arg,
    _missing,
    _opt_bool,
    _opt_str,
    _req_str,
    _ts_key,
)
from .files import file_json
from .state import APP_ID, BOT_ID, BOT_NAME, JSON, FakeChannel, FakeMessage


class ConversationsRoutes:
    """``conversations.*``: replies, history, info and opening DMs; messages in the Web API shape."""

    def _replies(self, channel: FakeChannel, thread_ts: str) -> list[FakeMessage]:
        found = [
            m
            for m in channel.messages.values()
            if m.thread_ts == thread_ts and m.ts != thread_ts and not m.deleted
        ]
        return sorted(found, key=lambda m: _ts_key(m.ts))

    def message_json(self, message: FakeMessage) -> JSON:
        """The message as the Web API returns it (``conversations.history``/``replies`` shape)."""
        channel = self.channels[message.channel]
        if message.deleted:
            return {
                "type": "message",
                "subtype": "tombstone",
                "text": "This message was deleted.",
                "user": "USLACKBOT",
                "hidden": True,
                "ts": message.ts,
                "thread_ts": message.thread_ts or message.ts,
            }
        data: JSON = {"type": "message"}
        if message.subtype:
            data["subtype"] = message.subtype
        data["text"] = message.text
        if message.user:
            data["user"] = message.user
        if message.bot_id:
            data["bot_id"] = message.bot_id
            if message.app_id:
                data["app_id"] = message.app_id
            if message.bot_id == BOT_ID:
                data["bot_profile"] = {
                    "id": BOT_ID,
                    "app_id": APP_ID,
                    "name": BOT_NAME,
                    "deleted": False,
                    "team_id": self.team_id,
                }
        data["ts"] = message.ts
        if message.team:
            data["team"] = message.team
        if message.blocks is not None:
            data["blocks"] = copy.deepcopy(message.blocks)
        if message.attachments:
            data["attachments"] = copy.deepcopy(message.attachments)
        if message.metadata is not None:
            data["metadata"] = copy.deepcopy(message.metadata)
        if message.files:
            data["files"] = [file_json(f, self.base_url, self.team_id) for f in message.files]
            data["upload"] = False
        if message.edited is not None:
            data["edited"] = dict(message.edited)
        if message.thread_ts is not None:
            data["thread_ts"] = message.thread_ts
            if message.is_reply:
                parent = channel.messages.get(message.thread_ts)
                if parent is not None and parent.user:
                    data["parent_user_id"] = parent.user
            else:
                replies = self._replies(channel, message.ts)
                users = list(dict.fromkeys(r.user or r.bot_id or "" for r in replies))
                data.update(
                    reply_count=len(replies),
                    reply_users_count=len(users),
                    latest_reply=replies[-1].ts if replies else message.ts,
                    reply_users=users,
                    is_locked=False,
                    subscribed=False,
                )
        if message.reactions:
            data["reactions"] = [
                {"name": name, "users": list(users), "count": len(users)}
                for name, users in message.reactions.items()
            ]
        return data

    def _conversations_replies(self, args: JSON) -> JSON:
        channel = self._channel(args)
        ts = _req_str(args, "ts")
        message = channel.messages.get(ts)
        if message is None:
            raise _ApiError("thread_not_found")
        root_ts = message.thread_ts or message.ts
        parent = channel.messages.get(root_ts)
        replies = self._replies(channel, root_ts)
        if parent is None or (parent.deleted and not replies):
            raise _ApiError("thread_not_found")
        inclusive = bool(_opt_bool(args, "inclusive"))
        oldest, latest = _opt_str(args, "oldest"), _opt_str(args, "latest")
        if oldest:
            low = _ts_key(oldest)
            replies = [r for r in replies if _ts_key(r.ts) > low or (inclusive and _ts_key(r.ts) == low)]
        if latest:
            high = _ts_key(latest)
            replies = [r for r in replies if _ts_key(r.ts) < high or (inclusive and _ts_key(r.ts) == high)]
        limit = min(max(_int_arg(args, "limit", 1000), 1), 1000)
        cursor = _opt_str(args, "cursor")
        start = 0
        if cursor:
            after = _ts_key(_decode_cursor(cursor))
            start = next((i for i, r in enumerate(replies) if _ts_key(r.ts) >= after), len(replies))
        with_parent = not cursor or self.replies_parent_on_every_page
        count = limit - 1 if with_parent else limit  # the parent counts against the limit
        if count == 0 and cursor:
            count = 1  # a later page that repeats the parent still makes progress
        page = replies[start : start + count]
        has_more = start + count < len(replies)
        messages = [self.message_json(parent)] if with_parent else []
        messages += [self.message_json(r) for r in page]
        next_cursor = _encode_cursor(replies[start + count].ts) if has_more else ""
        return {
            "messages": messages,
            "has_more": has_more,
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _conversations_history(self, args: JSON) -> JSON:
        channel = self._channel(args)
        top_level = [
            m for m in channel.messages.values() if not m.deleted and (not m.is_reply or m.reply_broadcast)
        ]
        top_level.sort(key=lambda m: _ts_key(m.ts), reverse=True)
        inclusive = bool(_opt_bool(args, "inclusive"))
        oldest, latest = _opt_str(args, "oldest"), _opt_str(args, "latest")
        if oldest:
            low = _ts_key(oldest)
            top_level = [m for m in top_level if _ts_key(m.ts) > low or (inclusive and _ts_key(m.ts) == low)]
        if latest:
            high = _ts_key(latest)
            top_level = [
                m for m in top_level if _ts_key(m.ts) < high or (inclusive and _ts_key(m.ts) == high)
            ]
        limit = min(max(_int_arg(args, "limit", 100), 1), 999)
        cursor = _opt_str(args, "cursor")
        start = 0
        if cursor:
            before = _ts_key(_decode_cursor(cursor))
            start = next((i for i, m in enumerate(top_level) if _ts_key(m.ts) <= before), len(top_level))
        page = top_level[start : start + limit]
        has_more = start + limit < len(top_level)
        return {
            "messages": [self.message_json(m) for m in page],
            "has_more": has_more,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {
                "next_cursor": _encode_cursor(top_level[start + limit].ts) if has_more else ""
            },
        }

    def _conversations_info(self, args: JSON) -> JSON:
        channel = self._channel(args)
        return {"channel": channel.to_api(channel.team_id or self.team_id)}

    def _conversations_open(self, args: JSON) -> JSON:
        channel_id = _opt_str(args, "channel")
        if channel_id:
            return {"channel": {"id": self._channel(args).id}}
        users = [u for u in (_opt_str(args, "users") or "").split(",") if u]
        if len(users) != 1:
            raise _missing("users") if not users else _ApiError("not_supported")
        if users[0] not in self.users:
            raise _ApiError("user_not_found")
        existed = any(c.kind == "im" and c.im_user == users[0] for c in self.channels.values())
        channel = self.add_dm(users[0])
        result: JSON = {"channel": {"id": channel.id}}
        if existed:
            result["already_open"] = True
        return result
