"""Setting up the fake workspace from a test, and reading what is in it."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath

from .args import _ts_key
from .blocks import rich_text_blocks
from .events import app_mention_event, message_event_payload
from .files import file_json
from .state import (
    BOT_USER_ID,
    EXTERNAL_TEAM_ID,
    ChannelKind,
    FakeChannel,
    FakeFile,
    FakeMessage,
    FakeUser,
    UserPost,
    mention,
)


class Workspace:
    """Building the workspace a test needs (users, channels, DMs, user posts) and reading it back."""

    # ---------------------------------------------------------------- test data

    def next_ts(self) -> str:
        """A fresh message ``ts``, later than every earlier one (``"1700000000.000100"`` style)."""
        micros = self._last_ts_micros + 100
        if self._wall_ts:
            micros = max(micros, round(time.time() * 1_000_000))
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def add_user(
        self,
        user_id: str | None = None,
        *,
        name: str = "user",
        real_name: str | None = None,
        display_name: str | None = None,
        team_id: str | None = None,
        external: bool = False,
        is_restricted: bool = False,
        is_ultra_restricted: bool = False,
        is_stranger: bool = False,
        is_admin: bool = False,
        is_bot: bool = False,
        bot_id: str | None = None,
        email: str | None = None,
        deleted: bool = False,
        enterprise_id: str | None = None,
    ) -> FakeUser:
        """Add a person (or bot). ``external=True`` makes a Slack Connect user of another team."""
        user = FakeUser(
            id=user_id or self._new_id("U"),
            name=name,
            real_name=real_name if real_name is not None else name.title(),
            display_name=display_name if display_name is not None else name,
            team_id=team_id or (EXTERNAL_TEAM_ID if external else self.team_id),
            is_bot=is_bot,
            bot_id=bot_id,
            is_restricted=is_restricted,
            is_ultra_restricted=is_ultra_restricted,
            is_stranger=is_stranger,
            is_admin=is_admin,
            deleted=deleted,
            email=email,
            enterprise_id=enterprise_id,
        )
        self.users[user.id] = user
        return user

    def add_channel(
        self,
        channel_id: str | None = None,
        *,
        name: str | None = None,
        private: bool = False,
        is_ext_shared: bool = False,
        is_archived: bool = False,
        bot_is_member: bool = True,
        members: Iterable[str] | None = None,
        team_id: str | None = None,
    ) -> FakeChannel:
        """``team_id``: the channel is in that workspace of the install (default: the fake's own)."""
        kind: ChannelKind = "group" if private else "channel"
        channel_id = channel_id or self._new_id("G" if private else "C")
        channel = FakeChannel(
            id=channel_id,
            name=name or channel_id.lower(),
            kind=kind,
            is_ext_shared=is_ext_shared,
            is_archived=is_archived,
            bot_is_member=bot_is_member,
            members=set(members) if members is not None else None,
            team_id=team_id,
        )
        self.channels[channel.id] = channel
        return channel

    def add_dm(self, user_id: str, channel_id: str | None = None) -> FakeChannel:
        """The bot's DM (``im``) with ``user_id``; returns the existing one if there is one."""
        for channel in self.channels.values():
            if channel.kind == "im" and channel.im_user == user_id:
                return channel
        channel = FakeChannel(
            id=channel_id or self._new_id("D"),
            name=user_id,
            kind="im",
            im_user=user_id,
            members={user_id, BOT_USER_ID},
        )
        self.channels[channel.id] = channel
        return channel

    def add_usergroup(self, users: Iterable[str], usergroup_id: str | None = None) -> str:
        group_id = usergroup_id or self._new_id("S")
        self.usergroups[group_id] = list(users)
        return group_id

    def _store(self, message: FakeMessage) -> None:
        channel = self.channels[message.channel]
        channel.messages[message.ts] = message
        message.versions.append(message.visible_text)
        if message.is_reply and message.thread_ts is not None:
            parent = channel.messages.get(message.thread_ts)
            if parent is not None and parent.thread_ts is None:
                parent.thread_ts = parent.ts

    def upload(
        self, user: str, name: str, data: bytes, mimetype: str, *, size: int | None = None
    ) -> FakeFile:
        """A file ``user`` uploads, to share with :meth:`post_as_user`; ``size``: the size Slack reports,
        when it should differ from the bytes'."""
        filetype = PurePosixPath(name).suffix.lstrip(".").lower() or "binary"
        file = FakeFile(self._new_id("F"), name, mimetype, filetype, data, user, size)
        self.files[file.id] = file
        return file

    def post_as_user(
        self,
        channel: str,
        user: str,
        text: str,
        thread_ts: str | None = None,
        files: Sequence[FakeFile] = (),
    ) -> UserPost:
        """Store a human's message as Slack would, returning its ts and the events Slack would send.

        With ``files`` (see :meth:`upload`) the message shares them: its events carry ``subtype:
        file_share`` and the file objects, as Slack's do."""
        if channel not in self.channels:
            raise KeyError(f"unknown channel {channel!r}: add it with add_channel() or add_dm() first")
        if user not in self.users:
            raise KeyError(f"unknown user {user!r}: add it with add_user() first")
        conversation = self.channels[channel]
        if thread_ts is not None:
            parent = conversation.messages.get(thread_ts)
            if parent is not None and parent.is_reply and parent.thread_ts is not None:
                thread_ts = parent.thread_ts
        team = self.users[user].team_id
        message = FakeMessage(
            channel=channel,
            ts=self.next_ts(),
            text=text,
            user=user,
            blocks=rich_text_blocks(text),
            thread_ts=thread_ts,
            team=team,
            subtype="file_share" if files else None,
            files=list(files),
        )
        self._store(message)
        parent_user = self._parent_user(conversation, thread_ts) if thread_ts else None
        message_event = message_event_payload(
            channel=channel,
            user=user,
            text=text,
            ts=message.ts,
            channel_type=conversation.channel_type,
            thread_ts=thread_ts,
            parent_user_id=parent_user,
            team=team,
            blocks=message.blocks,
        )
        shared = [file_json(f, self.base_url, self.team_id) for f in files]
        if shared:
            message_event.update(subtype="file_share", files=shared, upload=True, display_as_bot=False)
        mention_event = None
        if conversation.kind != "im" and mention(BOT_USER_ID) in text:
            mention_event = app_mention_event(
                user=user, text=text, channel=channel, ts=message.ts, thread_ts=thread_ts, team=team
            )
            mention_event["blocks"] = copy.deepcopy(message.blocks)
            if shared:
                mention_event.update(files=copy.deepcopy(shared), upload=True)
            if parent_user is not None:
                mention_event["parent_user_id"] = parent_user
        return UserPost(ts=message.ts, message_event=message_event, app_mention_event=mention_event)

    def _parent_user(self, channel: FakeChannel, thread_ts: str | None) -> str | None:
        parent = channel.messages.get(thread_ts) if thread_ts else None
        return parent.user if parent is not None else None

    # ---------------------------------------------------------------- assertions

    def message(self, channel: str, ts: str) -> FakeMessage:
        return self.channels[channel].messages[ts]

    def messages(self, channel: str) -> list[FakeMessage]:
        """Every message in ``channel`` that is not deleted, thread replies included, oldest first."""
        found = [m for m in self.channels[channel].messages.values() if not m.deleted]
        return sorted(found, key=lambda m: _ts_key(m.ts))

    def thread(self, channel: str, thread_ts: str) -> list[FakeMessage]:
        """The parent (when it still exists) then its replies, oldest first."""
        return [m for m in self.messages(channel) if m.ts == thread_ts or m.thread_ts == thread_ts]

    def visible_text(self, channel: str, ts: str) -> str:
        return self.message(channel, ts).visible_text

    def bot_messages(self, channel: str | None = None) -> list[FakeMessage]:
        """The bot's live messages (in ``channel`` or anywhere), oldest first."""
        channels = [channel] if channel is not None else list(self.channels)
        found = [m for c in channels for m in self.messages(c) if m.is_from_bot]
        return sorted(found, key=lambda m: _ts_key(m.ts))

    def assistant_status(self, channel_id: str, thread_ts: str) -> str | None:
        """The status line shown in an assistant thread now (cleared when the bot replies there)."""
        return self._current_status.get((channel_id, thread_ts))
