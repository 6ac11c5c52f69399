"""Whether a message the front end classified is answered, kept without an answer, or left alone.

The same decision on every platform, taken before anything else is spent on the message (no look-up of
the asker, no API call):

- a follow-up (a message in a thread that does not mention the bot) is taken only in a thread where the
  bot has answered before; elsewhere it is other people's conversation, neither answered nor stored;
- in a channel a lead paused (``/support pause``), a message is not answered; where the bot has answered
  before, its turn is stored, so the store stays a complete record of the threads the bot is in (the
  answer after ``/support resume`` sees it, also when the platform's thread cannot be read);
- anything else is answered (``SupportService.handle``).

A paused message in a thread the bot has not answered in is not stored either: Slack reads a thread from
the store alone once the store holds its first message, which would then miss the thread's later
follow-ups (they are not taken there).
"""

from __future__ import annotations

from enum import StrEnum

from bot.inbound import Inbound
from bot.store import GateStore
from bot.types import ThreadRef


class Admission(StrEnum):
    ANSWER = "answer"
    """Answered: ``SupportService.handle``."""
    KEEP = "keep"
    """The channel is paused: the turn is stored (:meth:`Gate.keep`), not answered."""
    IGNORE = "ignore"
    """Not for the bot: neither answered nor stored."""


class Gate:
    def __init__(self, store: GateStore) -> None:
        self._store = store

    async def admit(self, ref: ThreadRef, *, follow_up: bool) -> Admission:
        """What to do with a message in ``ref``'s thread; ``follow_up``: it does not mention the bot (see
        the module docstring)."""
        paused = await self._store.is_paused(ref.platform, ref.space_id, ref.channel_id)
        if (paused or follow_up) and not await self._answered_in(ref):
            return Admission.IGNORE
        return Admission.KEEP if paused else Admission.ANSWER

    async def keep(self, message: Inbound) -> None:
        """Store the turn of a message that is not answered (:attr:`Admission.KEEP`)."""
        await self._store.append_turn(message.ref, message.turn())

    async def _answered_in(self, ref: ThreadRef) -> bool:
        return any(turn.role == "assistant" for turn in await self._store.load_turns(ref))
