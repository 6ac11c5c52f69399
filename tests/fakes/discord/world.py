"""Building the fake Discord's world from a test."""

from __future__ import annotations

from collections.abc import Iterable

from .state import ChannelType, FakeChannel, FakeGuild, FakeMember, FakeRole, FakeUser, Perm


class World:
    """Building the world a test needs: users, guilds, roles, members, channels, forums, threads, DMs."""

    # ------------------------------------------------------------------ world building

    def _build_default_world(self) -> None:
        self.alice_user = self.add_user("alice")
        self.admin_user = self.add_user("admin")
        self.lead_user = self.add_user("lead")
        self.guild = self.add_guild("Fake Support Guild", owner=self.admin_user, shard_id=0)
        self.admin_role = self.add_role(self.guild, "Admin", permissions=Perm.ADMINISTRATOR)
        self.lead_role = self.add_role(
            self.guild, "Lead", permissions=Perm.EVERYONE_DEFAULT | Perm.MANAGE_THREADS
        )
        self.alice = self.add_member(self.guild, self.alice_user)
        self.admin = self.add_member(self.guild, self.admin_user, roles=[self.admin_role])
        self.lead = self.add_member(self.guild, self.lead_user, roles=[self.lead_role], nick="Team Lead")
        self.general = self.add_text_channel(self.guild, "general")
        self.support = self.add_text_channel(self.guild, "support", topic="Ask us anything")
        self.forum = self.add_forum(self.guild, "help", tags=["question", "bug", "resolved"])

    def add_user(self, username: str, *, bot: bool = False, global_name: str | None = None) -> FakeUser:
        user = FakeUser(self.ids.next(), username, bot=bot, global_name=global_name)
        self.users[user.id] = user
        return user

    def add_guild(
        self, name: str, *, owner: FakeUser | None = None, shard_id: int | None = None
    ) -> FakeGuild:
        """A guild with ``@everyone``, the bot's managed role and the bot as a member.

        ``shard_id``: pick an id that lands on that shard of ``self.shard_count``."""
        if shard_id is not None:
            guild_id = self.ids.next_for_shard(shard_id, self.shard_count)
        else:
            guild_id = self.ids.next()
        guild = FakeGuild(guild_id, name, owner_id=(owner or self.owner_user).id)
        guild.roles[guild_id] = FakeRole(guild_id, guild_id, "@everyone", permissions=Perm.EVERYONE_DEFAULT)
        self.guilds[guild_id] = guild
        bot_role = self.add_role(guild, self.bot_user.username, permissions=Perm.BOT_DEFAULT, managed=True)
        bot_role.bot_id = self.bot_user.id
        self.add_member(guild, self.bot_user, roles=[bot_role])
        if owner is not None:
            self.add_member(guild, owner)
        return guild

    def add_role(
        self,
        guild: FakeGuild | int,
        name: str,
        *,
        permissions: int = 0,
        mentionable: bool = False,
        managed: bool = False,
    ) -> FakeRole:
        g = self._guild(guild)
        role = FakeRole(self.ids.next(), g.id, name, permissions, len(g.roles), mentionable, managed)
        g.roles[role.id] = role
        return role

    def add_member(
        self,
        guild: FakeGuild | int,
        user: FakeUser | str,
        *,
        roles: Iterable[FakeRole | int] = (),
        nick: str | None = None,
    ) -> FakeMember:
        g = self._guild(guild)
        if isinstance(user, str):
            user = self.add_user(user)
        self.users.setdefault(user.id, user)
        role_ids = [r.id if isinstance(r, FakeRole) else r for r in roles]
        member = FakeMember(user, g.id, role_ids, nick)
        g.members[user.id] = member
        return member

    def add_text_channel(self, guild: FakeGuild | int, name: str, *, topic: str | None = None) -> FakeChannel:
        g = self._guild(guild)
        channel = FakeChannel(
            self.ids.next(), ChannelType.TEXT, name, g.id, topic=topic, position=len(g.channel_ids)
        )
        return self._register_channel(channel)

    def add_forum(self, guild: FakeGuild | int, name: str, *, tags: Iterable[str] = ()) -> FakeChannel:
        g = self._guild(guild)
        channel = FakeChannel(self.ids.next(), ChannelType.FORUM, name, g.id, position=len(g.channel_ids))
        channel.available_tags = [
            {
                "id": str(self.ids.next()),
                "name": tag,
                "moderated": False,
                "emoji_id": None,
                "emoji_name": None,
            }
            for tag in tags
        ]
        return self._register_channel(channel)

    def add_thread(
        self,
        parent: FakeChannel | int,
        name: str,
        *,
        owner: FakeUser | FakeMember | int | None = None,
        thread_type: int = ChannelType.PUBLIC_THREAD,
        thread_id: int | None = None,
    ) -> FakeChannel:
        """A thread known to the world (no gateway event; use the builders for that)."""
        p = self._channel(parent)
        owner_user = self._user(owner) if owner is not None else self.bot_user
        thread = FakeChannel(
            thread_id or self.ids.next(),
            thread_type,
            name,
            p.guild_id,
            parent_id=p.id,
            owner_id=owner_user.id,
            auto_archive_duration=4320 if p.is_forum else 1440,
            thread_member_ids={owner_user.id},
        )
        return self._register_channel(thread)

    def dm_channel(self, user: FakeUser | FakeMember | int) -> FakeChannel:
        """The DM channel between the bot and ``user`` (created on first use)."""
        u = self._user(user)
        channel = self._dm_by_user.get(u.id)
        if channel is None:
            channel = FakeChannel(self.ids.next(), ChannelType.DM, None, recipients=[u])
            self._dm_by_user[u.id] = channel
            self._register_channel(channel)
        return channel

    def _register_channel(self, channel: FakeChannel) -> FakeChannel:
        self.channels[channel.id] = channel
        self._messages.setdefault(channel.id, [])
        if channel.guild_id is not None and not channel.is_thread:
            self.guilds[channel.guild_id].channel_ids.append(channel.id)
        return channel
