"""Telling the leads that a thread needs a human, on whichever platform the thread lives."""

from __future__ import annotations

import logging
from typing import Protocol

from bot.store import Escalation
from bot.types import Principal

log = logging.getLogger(__name__)


class EscalationNotifier(Protocol):
    async def notify(self, escalation: Escalation, requester: Principal) -> None: ...


class EscalationNotifiers:
    """Dispatches a notification to the notifier of the thread's platform; logs when there is none."""

    def __init__(self) -> None:
        self._by_platform: dict[str, EscalationNotifier] = {}

    def register(self, platform: str, notifier: EscalationNotifier) -> None:
        self._by_platform[platform] = notifier

    async def notify(self, escalation: Escalation, requester: Principal) -> None:
        notifier = self._by_platform.get(escalation.ref.platform)
        if notifier is None:
            log.warning(
                "escalation %s in %s has no notifier for platform %s; leads see it in /support escalations",
                escalation.id,
                escalation.ref.key,
                escalation.ref.platform,
            )
            return
        await notifier.notify(escalation, requester)
