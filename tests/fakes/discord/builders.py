"""The user side: what a test makes users do, as Discord delivers it to the bot."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .state import (
    JSON,
    FakeChannel,
    FakeGuild,
    FakeInteraction,
    FakeMember,
    FakeMessage,
    FakeUser,
    ForumPost,
    _now,
    _options,
)


class UserSide:
    """What users do: messages, edits, DMs, forum posts, slash and message commands, button clicks."""

    # ------------------------------------------------------------------ builders (user side)

    def _author_member(self, guild_id: int | None, author: FakeUser) -> FakeMember | None:
        if guild_id is None:
            return None
        return self.guilds[guild_id].members.get(author.id)

    def user_message(
        self,
        channel: FakeChannel | int,
        author: FakeUser | FakeMember | int,
        content: str,
        *,
        mentions: Iterable[FakeUser | FakeMember | int] | None = None,
        message_reference: FakeMessage | int | None = None,
        attachments: Iterable[JSON] = (),
        embeds: Iterable[JSON] = (),
    ) -> JSON:
        """A message from a user, stored in the channel as if posted; returns the MESSAGE_CREATE payload
        (``await fake.dispatch("MESSAGE_CREATE", payload)``).

        ``mentions``: users the message mentions besides the ``<@id>`` in ``content`` (pass
        ``[fake.bot_user]`` when testing a bot that reacts to mentions; put ``fake.bot_user.mention``
        in the text for realism)."""
        msg = self._build_user_message(
            channel, author, content, mentions, message_reference, attachments, embeds
        )
        return self.message_json(msg, gateway=True)

    def _build_user_message(
        self,
        channel: FakeChannel | int,
        author: FakeUser | FakeMember | int,
        content: str,
        mentions: Iterable[FakeUser | FakeMember | int] | None,
        message_reference: FakeMessage | int | None,
        attachments: Iterable[JSON],
        embeds: Iterable[JSON],
        *,
        message_id: int | None = None,
    ) -> FakeMessage:
        ch = self._channel(channel)
        user = self._user(author)
        reply_to: FakeMessage | None = None
        reference: JSON | None = None
        if message_reference is not None:
            reply_to = (
                message_reference
                if isinstance(message_reference, FakeMessage)
                else self.message(message_reference)
            )
            reference = {"type": 0, "message_id": str(reply_to.id), "channel_id": str(reply_to.channel_id)}
            if reply_to.guild_id is not None:
                reference["guild_id"] = str(reply_to.guild_id)
        msg = FakeMessage(
            id=message_id or self.ids.next(),
            channel_id=ch.id,
            guild_id=ch.guild_id,
            author=user,
            content=content,
            embeds=[dict(e) for e in embeds],
            attachments=[dict(a) for a in attachments],
            type=19 if reply_to is not None else 0,
            message_reference=reference,
        )
        self._apply_mentions(msg, reply_to)
        for extra in mentions or []:
            target = self._user(extra)
            if target not in msg.mentions:
                msg.mentions.append(target)
        msg.versions.append(content)
        self._messages[ch.id].append(msg)
        self._message_index[msg.id] = msg
        ch.last_message_id = msg.id
        if ch.is_thread:
            msg.position = ch.total_message_sent
            if msg.id != ch.id:
                ch.message_count += 1
            ch.total_message_sent += 1
        return msg

    async def post_as_user(
        self,
        channel: FakeChannel | int,
        author: FakeUser | FakeMember | int,
        content: str,
        *,
        mentions: Iterable[FakeUser | FakeMember | int] | None = None,
        message_reference: FakeMessage | int | None = None,
        attachments: Iterable[JSON] = (),
        embeds: Iterable[JSON] = (),
    ) -> FakeMessage:
        """:meth:`user_message` and dispatch it; returns the stored message."""
        msg = self._build_user_message(
            channel, author, content, mentions, message_reference, attachments, embeds
        )
        await self.dispatch("MESSAGE_CREATE", self.message_json(msg, gateway=True))
        return msg

    async def edit_as_user(self, message: FakeMessage | int, content: str) -> FakeMessage:
        """A user edits their message: stored and MESSAGE_UPDATE dispatched."""
        msg = message if isinstance(message, FakeMessage) else self.message(message)
        msg.content = content
        msg.edited_at = _now()
        msg.versions.append(content)
        self._apply_mentions(msg, None)
        await self.dispatch("MESSAGE_UPDATE", self.message_json(msg, gateway=True))
        return msg

    async def dm(self, user: FakeUser | FakeMember | int, content: str) -> FakeMessage:
        """``user`` sends the bot a direct message (channel created if needed, MESSAGE_CREATE dispatched)."""
        channel = self.dm_channel(user)
        return await self.post_as_user(channel, user, content)

    async def forum_post(
        self,
        forum: FakeChannel | int,
        author: FakeUser | FakeMember | int,
        title: str,
        content: str,
        tags: Iterable[str | int] = (),
    ) -> ForumPost:
        """A user opens a forum post: a public thread under ``forum`` with a starter message of the same
        id; THREAD_CREATE then MESSAGE_CREATE are dispatched, as Discord does."""
        parent = self._channel(forum)
        if not parent.is_forum:
            raise ValueError(f"channel {parent.id} is not a forum")
        tag_ids = [t if isinstance(t, int) else parent.tag_id(t) for t in tags]
        user = self._user(author)
        thread = self.add_thread(parent, title, owner=user)
        thread.applied_tags = tag_ids
        parent.last_message_id = thread.id
        payload = self.channel_json(thread)
        payload["newly_created"] = True
        await self.dispatch("THREAD_CREATE", payload)
        msg = self._build_user_message(thread, user, content, None, None, (), (), message_id=thread.id)
        await self.dispatch("MESSAGE_CREATE", self.message_json(msg, gateway=True))
        return ForumPost(thread, msg)

    def _interaction_base(
        self, itype: int, channel: FakeChannel, user: FakeUser, data: JSON, message: FakeMessage | None = None
    ) -> FakeInteraction:
        interaction_id = self.ids.next()
        token = f"aW50ZXJhY3Rpb246{interaction_id}:{secrets.token_urlsafe(48)}"
        payload: JSON = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "channel_id": str(channel.id),
            "channel": {
                **self.channel_json(channel),
                "permissions": str(self.permissions(channel.guild_id, user)),
            },
            "token": token,
            "version": 1,
            "locale": "en-US",
            "app_permissions": str(self.permissions(channel.guild_id, self.bot_user)),
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if channel.guild_id is not None:
            guild = self.guilds[channel.guild_id]
            member = guild.members.get(user.id) or FakeMember(user, guild.id)
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                member={**member.to_api(), "permissions": str(self.permissions(guild, user))},
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
        else:
            payload.update(user=user.to_api(), authorizing_integration_owners={"1": str(user.id)}, context=1)
        if message is not None:
            payload["message"] = self.message_json(message)
        interaction = FakeInteraction(
            interaction_id,
            token,
            itype,
            payload,
            channel.guild_id,
            channel.id,
            user,
            self._clock(),
            message_id=message.id if message else None,
        )
        self._interactions[interaction_id] = interaction
        self._interactions_by_token[token] = interaction
        return interaction

    async def slash_command(
        self,
        guild: FakeGuild | int | None,
        channel: FakeChannel | int,
        member: FakeMember | FakeUser | int,
        name: str = "support",
        options: Mapping[str, Any] | Sequence[JSON] | None = None,
    ) -> FakeInteraction:
        """A user runs ``/name``: INTERACTION_CREATE type 2 dispatched; returns the interaction.

        ``options``: ``{"question": "text"}`` (types inferred: str 3, int 4, bool 5, float 10) or raw option
        dicts.  The command id (and ``guild_id`` for a guild command) comes from the registered
        commands, so sync the command tree first."""
        ch = self._channel(channel)
        user = self._user(member)
        guild_id = ch.guild_id if guild is None else self._guild(guild).id
        registered = None
        for key in (guild_id, None):
            registered = next(
                (c for c in self._commands.get(key, []) if c["name"] == name and c["type"] == 1), None
            )
            if registered is not None:
                break
        data: JSON = {
            "id": registered["id"] if registered else str(self.ids.next()),
            "name": name,
            "type": 1,
            "options": _options(options),
        }
        if registered is not None and registered.get("guild_id"):
            data["guild_id"] = registered["guild_id"]
        interaction = self._interaction_base(2, ch, user, data)
        await self.dispatch("INTERACTION_CREATE", copy.deepcopy(interaction.payload))
        return interaction

    async def message_command(
        self, message: FakeMessage | int, member: FakeMember | FakeUser | int, name: str
    ) -> FakeInteraction:
        """A user runs the message command ``name`` (right-click a message > Apps > ``name``):
        INTERACTION_CREATE type 2 with a command of type 3, ``target_id`` the message and the message under
        ``resolved``, as Discord documents it. The command id comes from the registered commands."""
        msg = message if isinstance(message, FakeMessage) else self.message(message)
        channel = self.channels[msg.channel_id]
        registered = next(
            (
                c
                for key in (channel.guild_id, None)
                for c in self._commands.get(key, [])
                if c["name"] == name and c["type"] == 3
            ),
            None,
        )
        if registered is None:
            raise ValueError(f"no message command {name!r} is registered")
        data: JSON = {
            "id": registered["id"],
            "name": name,
            "type": 3,
            "target_id": str(msg.id),
            "resolved": {"messages": {str(msg.id): self.message_json(msg)}},
        }
        if registered.get("guild_id"):
            data["guild_id"] = registered["guild_id"]
        interaction = self._interaction_base(2, channel, self._user(member), data)
        await self.dispatch("INTERACTION_CREATE", copy.deepcopy(interaction.payload))
        return interaction

    async def button_click(
        self, message: FakeMessage | int, member: FakeMember | FakeUser | int, custom_id: str
    ) -> FakeInteraction:
        """A user clicks the button ``custom_id`` on ``message``: INTERACTION_CREATE type 3 dispatched."""
        msg = message if isinstance(message, FakeMessage) else self.message(message)
        if custom_id not in msg.custom_ids():
            raise ValueError(f"message {msg.id} has no component {custom_id!r} (has {msg.custom_ids()})")
        data = {"custom_id": custom_id, "component_type": 2}
        interaction = self._interaction_base(3, self.channels[msg.channel_id], self._user(member), data, msg)
        await self.dispatch("INTERACTION_CREATE", copy.deepcopy(interaction.payload))
        return interaction
