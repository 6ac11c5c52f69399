"""``/support`` on Discord: application commands whose typed options become ``bot.support_commands``.

``/support`` is a group of subcommands (``/support kb search`` and ``/support kb reload`` a group inside
it), registered as guild commands in every guild the bot is in when it starts (guild commands show up at
once; global ones can take an hour). Replies are ephemeral: only the person who ran the command sees them,
deferred when the work takes longer than Discord's 3 s. ``resolve`` without an argument, run inside a
thread, resolves that thread.
"""

from __future__ import annotations

import re

import discord
from discord import app_commands

from bot.dashboard.auth import DashboardAccess
from bot.quality.drafts import drafts_page
from bot.runtime import App
from bot.support_commands import (
    Command,
    CommandHost,
    Dialect,
    Help,
    Invocation,
    KbReload,
    ListEscalations,
    ListKbDrafts,
    OpenDashboard,
    Pause,
    Resume,
    ShowAudit,
    SupportCommands,
    ThreadLink,
    forget_command,
    gaps_command,
    kb_save_command,
    kb_search_command,
    link_command,
    resolve_command,
    stats_command,
    unlink_command,
)
from bot.tasks import BackgroundTasks
from bot.types import Principal, ThreadRef
from integrations.discord.escalations import DiscordEscalations
from integrations.discord.inbound import PLATFORM, command_place, parse_link, thread_ref
from integrations.discord.markup import DISCORD_MARKUP
from integrations.discord.principals import PrincipalResolver
from integrations.discord.respond import reply_privately
from integrations.discord.stream import find_channel

_USER = re.compile(r"<@!?(\d{15,21})>|(\d{15,21})")
_MESSAGE_LINK = re.compile(r"<?https://\S+/channels/\d+/\d+/(\d{15,21})>?")


def parse_user(word: str) -> str | None:
    match = _USER.fullmatch(word)
    return (match.group(1) or match.group(2)) if match else None


def parse_thread_link(word: str) -> ThreadLink | None:
    """A link to a thread (or to a message: the question the bot answered in its channel)."""
    found = parse_link(word)
    if found is None:
        return None
    message = _MESSAGE_LINK.fullmatch(word.strip())
    return (*found, message.group(1)) if message else found


DISCORD_DIALECT = Dialect(
    platform=PLATFORM,
    label="Discord",
    markup=DISCORD_MARKUP,
    resolve_help=(
        "`resolve [#ID or LINK]`: close an escalation: run it in the thread, or give the escalation's "
        "number or the thread's link; I answer in the thread again (a forum post is tagged solved and "
        "closed)"
    ),
    resolve_usage=(
        "Use `/support resolve` in the thread, or give the escalation's number (`#ID`) or the thread's link."
    ),
    parse_user=parse_user,
    parse_thread_link=parse_thread_link,
)


class _DiscordHost(CommandHost):
    def __init__(self, client: discord.Client, escalations: DiscordEscalations) -> None:
        self._client = client
        self._escalations = escalations

    async def locate(self, link: ThreadLink, invocation: Invocation) -> ThreadRef | None:
        guild_id, channel_id, *message = link
        channel = await find_channel(self._client, channel_id)
        if isinstance(channel, discord.Thread):
            return thread_ref(guild_id, channel.parent_id, channel.id)
        if channel is not None and message:
            return thread_ref(guild_id, channel_id, message[0])  # answered in the channel, under it
        return None

    async def where(self, ref: ThreadRef) -> str:
        return await self._escalations.where(ref)

    async def resolve(self, ref: ThreadRef, lead: Principal) -> int:
        return await self._escalations.handover.resolve(ref, lead)


class DiscordCommands:
    """Runs ``/support`` commands from Discord; :meth:`group` is what the command tree registers."""

    def __init__(
        self,
        core: App,
        client: discord.Client,
        people: PrincipalResolver,
        escalations: DiscordEscalations,
        tasks: BackgroundTasks,
    ) -> None:
        self._people = people
        self._tasks = tasks
        self._commands = SupportCommands(
            core.store,
            core.kb,
            DISCORD_DIALECT,
            _DiscordHost(client, escalations),
            DashboardAccess.from_settings(core.settings),
            knowledge=core.knowledge,
            drafts=core.drafts,
            drafts_page=drafts_page(core.settings),
        )

    def group(self) -> app_commands.Group:
        return SupportGroup(self)

    async def run(self, interaction: discord.Interaction, command: Command) -> None:
        """Answer ``interaction`` (only to its user) with the reply to ``command``."""
        await reply_privately(
            interaction, self._reply(interaction, command), self._tasks, name=f"/support {interaction.id}"
        )

    async def resolve(self, interaction: discord.Interaction, target: str | None) -> None:
        place = command_place(interaction)
        command = resolve_command(target, DISCORD_DIALECT, in_thread=place.thread is not None)
        await self.run(interaction, command)

    async def kb_save(self, interaction: discord.Interaction, link: str | None) -> None:
        place = command_place(interaction)
        command = kb_save_command(link, DISCORD_DIALECT, in_thread=place.thread is not None)
        await self.run(interaction, command)

    async def _reply(self, interaction: discord.Interaction, command: Command) -> str:
        place = command_place(interaction)
        caller = await self._people.resolve(place.user)
        invocation = Invocation(caller, place.space_id, place.channel_id, place.thread)
        return await self._commands.run(command, invocation)


class SupportGroup(app_commands.Group):
    """``/support …``: the options Discord checks, passed on as the core's commands."""

    kb = app_commands.Group(name="kb", description="The knowledge base")

    def __init__(self, commands: DiscordCommands) -> None:
        super().__init__(name="support", description="The support bot: help, stats, escalations and more")
        self._commands = commands

    @app_commands.command(name="help", description="What /support can do")
    async def help(self, interaction: discord.Interaction) -> None:
        await self._commands.run(interaction, Help())

    @app_commands.command(name="stats", description="Answers, feedback, speed and cost (leads)")
    @app_commands.describe(days="The last how many days (default 7)")
    async def stats(
        self, interaction: discord.Interaction, days: app_commands.Range[int, 1, 90] | None = None
    ) -> None:
        await self._commands.run(interaction, stats_command(days))

    @app_commands.command(name="gaps", description="Questions I could not answer well, by topic (leads)")
    @app_commands.describe(days="The last how many days (default 7)")
    async def gaps(
        self, interaction: discord.Interaction, days: app_commands.Range[int, 1, 90] | None = None
    ) -> None:
        await self._commands.run(interaction, gaps_command(days))

    @app_commands.command(name="escalations", description="The open escalations (leads)")
    async def escalations(self, interaction: discord.Interaction) -> None:
        await self._commands.run(interaction, ListEscalations())

    @app_commands.command(name="audit", description="What leads did lately: who, when and where (leads)")
    async def audit(self, interaction: discord.Interaction) -> None:
        await self._commands.run(interaction, ShowAudit())

    @app_commands.command(
        name="dashboard", description="A link to the leads' dashboard, only for you (leads)"
    )
    async def dashboard(self, interaction: discord.Interaction) -> None:
        await self._commands.run(interaction, OpenDashboard())

    @app_commands.command(name="link", description="Link a member to a customer account (leads)")
    @app_commands.describe(user="The member", customer_id="Their customer id, e.g. C-1001")
    async def link(self, interaction: discord.Interaction, user: discord.User, customer_id: str) -> None:
        await self._commands.run(interaction, link_command(str(user.id), customer_id))

    @app_commands.command(name="unlink", description="Undo a member's link to a customer account (leads)")
    @app_commands.describe(user="The member")
    async def unlink(self, interaction: discord.Interaction, user: discord.User) -> None:
        await self._commands.run(interaction, unlink_command(str(user.id)))

    @app_commands.command(name="forget", description="Delete what the bot stored about a member (leads)")
    @app_commands.describe(user="The member")
    async def forget(self, interaction: discord.Interaction, user: discord.User) -> None:
        await self._commands.run(interaction, forget_command(str(user.id)))

    @kb.command(name="search", description="Search the knowledge base")
    @app_commands.describe(query="What to look for")
    async def kb_search(self, interaction: discord.Interaction, query: str) -> None:
        await self._commands.run(interaction, kb_search_command(query))

    @kb.command(name="reload", description="Index the knowledge base again (leads)")
    async def kb_reload(self, interaction: discord.Interaction) -> None:
        await self._commands.run(interaction, KbReload())

    @kb.command(name="save", description="Draft a KB article from this thread or a linked one (leads)")
    @app_commands.describe(link="The thread's link; leave it out inside the thread")
    async def kb_save(self, interaction: discord.Interaction, link: str | None = None) -> None:
        await self._commands.kb_save(interaction, link)

    @kb.command(name="drafts", description="The KB drafts waiting for a lead (leads)")
    async def kb_drafts(self, interaction: discord.Interaction) -> None:
        await self._commands.run(interaction, ListKbDrafts())

    @app_commands.command(name="pause", description="Stop answering in this channel (leads)")
    async def pause(self, interaction: discord.Interaction) -> None:
        await self._commands.run(interaction, Pause())

    @app_commands.command(name="resume", description="Answer in this channel again (leads)")
    async def resume(self, interaction: discord.Interaction) -> None:
        await self._commands.run(interaction, Resume())

    @app_commands.command(name="resolve", description="Close an escalation: here, by #ID or by link (leads)")
    @app_commands.describe(target="#ID or the thread's link; leave it out inside the thread")
    async def resolve(self, interaction: discord.Interaction, target: str | None = None) -> None:
        await self._commands.resolve(interaction, target)
