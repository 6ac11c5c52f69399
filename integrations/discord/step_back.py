"""Who the bot answers in a thread it answers in, and stepping back when staff take over there.

In a thread (not a channel mention, a forum post's first message or a DM), once ``bot.gate`` has let a
message through:

- a message that mentions the bot is answered, and ends a step back in the thread;
- in a thread the bot stepped back from, nothing else is answered (the turn is kept, like in a paused
  channel, so the answer after the step back knows what people said);
- a lead (staff) who is not the asker writing there makes the bot step back, when the channel's
  ``step_back`` (``[channels."ID"]`` in bot.toml, default true) allows it (in an escalated thread the
  core steps back already, until a lead resolves it: the message goes on to it);
- the asker's follow-ups are answered without a mention; anyone else's only with one.

The asker is whoever wrote the thread's first stored message, or anyone the bot answered there. A step
back is the thread itself recorded as a paused channel (a Discord thread is a channel): ``/support resume``
run in the thread ends it, and ``/support pause`` / ``resume`` in the parent channel are unaffected.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Protocol

from bot.config import ChannelOverride
from bot.store import ChannelPauses, Conversations, EscalationLog
from bot.types import Principal, ThreadRef, Turn
from integrations.discord.inbound import DiscordMessage, Trigger

log = logging.getLogger(__name__)

IN_THREAD = frozenset({Trigger.THREAD, Trigger.FOLLOW_UP})


class Say(StrEnum):
    ANSWER = "answer"
    KEEP = "keep"
    """Not answered; the turn is stored (the bot stepped back)."""
    IGNORE = "ignore"
    """Not answered and not stored (a bystander who did not mention the bot)."""


class StepBackStore(ChannelPauses, Conversations, EscalationLog, Protocol):
    """What the policy reads and writes."""


class StepBack:
    def __init__(self, store: StepBackStore, channels: Mapping[str, ChannelOverride]) -> None:
        self._store = store
        self._channels = channels

    async def decide(self, message: DiscordMessage, person: Principal) -> Say:
        """Whether ``message`` by ``person`` is answered (see the module docstring)."""
        if message.trigger not in IN_THREAD:
            return Say.ANSWER
        ref = message.ref
        stepped_back = await self._is_stepped_back(ref)
        if message.mentioned:
            if stepped_back:
                await self._store.resume_channel(ref.platform, ref.space_id, ref.thread_id)
                log.info("%s: mentioned again after a step back; answering", ref.key)
            return Say.ANSWER
        if stepped_back:
            return Say.KEEP
        if await self._store.is_escalated(ref):
            return Say.ANSWER  # the core steps back there until a lead resolves it (bot.escalations)
        asker = await self._is_asker(ref, person)
        if person.is_lead and not asker and self._enabled(ref):
            await self._store.pause_channel(ref.platform, ref.space_id, ref.thread_id, person.user_id)
            log.info("%s: staff (%s) took over; stepping back", ref.key, person.describe())
            return Say.KEEP
        return Say.ANSWER if asker else Say.IGNORE

    async def _is_stepped_back(self, ref: ThreadRef) -> bool:
        return await self._store.is_paused(ref.platform, ref.space_id, ref.thread_id)

    def _enabled(self, ref: ThreadRef) -> bool:
        override = self._channels.get(ref.channel_id)
        return override is None or override.step_back

    async def _is_asker(self, ref: ThreadRef, person: Principal) -> bool:
        return is_asker(await self._store.load_turns(ref), person.user_id)


def is_asker(turns: Sequence[Turn], user_id: str) -> bool:
    """``user_id`` wrote the thread's first stored message, or the bot answered them there."""
    first = next((turn for turn in turns if turn.role == "user"), None)
    if first is not None and first.user_id == user_id:
        return True
    return any(turn.role == "assistant" and turn.answered_for == user_id for turn in turns)
