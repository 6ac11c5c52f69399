"""``Helpdesk``: escalations kept in the store's outbox until each configured target took them.

``enqueue`` (called by ``bot.escalations.Handover`` when an escalation opens) writes one outbox row per
target, in the store, before anything is sent: a restart or a crash loses none. ``run`` (a task of
``supportbot serve``) delivers the rows that are due whenever one is enqueued here and every
``poll_seconds``; a failed delivery waits ``retry_seconds``, doubling with each failure up to
``retry_max_seconds``, and is tried again, however long the helpdesk is down. Each pass holds the
``handoff-outbox`` lock (``bot.coordination``: in-process, or shared through Redis), so when several
instances run, one delivers at a time and a row is not sent twice. A pass sends at most ``BATCH`` rows.
A ticket's link is posted in the thread through the platform's ``Handover``.

With metrics (``supportbot serve``), each pass then reads the outbox's backlog (one query over the
undelivered rows) for ``supportbot_handoff_pending`` and ``supportbot_handoff_oldest_pending_seconds``, and
each failed attempt counts in ``supportbot_handoff_failures_total`` (``bot.metrics``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from pydantic import SecretStr

from bot.coordination.locks import ThreadLocks
from bot.handoff.config import HandoffConfig
from bot.handoff.payload import encode, escalation_payload
from bot.handoff.targets import DeliveryFailed, Target
from bot.store import Conversations, Escalation, HandoffDelivery, HandoffOutbox
from bot.types import Principal, ThreadRef

if TYPE_CHECKING:  # aiohttp loads when the delivery loop runs (serve), not with every command
    import aiohttp

    from bot.metrics import BotMetrics

log = logging.getLogger(__name__)

LOCK = "handoff-outbox"
BATCH = 20
REQUEST_TIMEOUT = 15.0


class HandoffStore(HandoffOutbox, Conversations, Protocol):
    """The store's roles the hand-off uses."""


class ThreadDesk(Protocol):
    """What the hand-off needs of a platform's ``Handover``."""

    async def ticket_opened(self, ref: ThreadRef, url: str) -> None: ...

    async def resolve(self, ref: ThreadRef, lead: Principal) -> int: ...


class Helpdesk:
    def __init__(
        self,
        store: HandoffStore,
        config: HandoffConfig,
        targets: dict[str, Target],
        locks: ThreadLocks,
        *,
        inbound_secret: SecretStr | None = None,
        metrics: BotMetrics | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.inbound_secret = inbound_secret
        """Verifies the helpdesk's calls to ``POST /hooks/helpdesk`` (``bot.handoff.inbound``)."""
        self._store = store
        self._config = config
        self._targets = targets
        self._locks = locks
        self._clock = clock
        self._metrics = metrics
        self._desks: dict[str, ThreadDesk] = {}
        self._wake = asyncio.Event()
        if metrics is not None:
            for name in targets:
                metrics.add_handoff_target(name)

    @property
    def enabled(self) -> bool:
        return bool(self._targets)

    def attach(self, platform: str, desk: ThreadDesk) -> None:
        """``desk`` posts ticket links and resolves escalations in ``platform``'s threads."""
        self._desks[platform] = desk

    def desk(self, platform: str) -> ThreadDesk | None:
        return self._desks.get(platform)

    async def enqueue(self, escalation: Escalation, requester: Principal, link: str | None) -> None:
        """Keep the escalation for every target; failures are logged (the leads' channel still has it)."""
        if not self._targets:
            return
        try:
            limit = self._config.transcript_turns
            turns = await self._store.load_turns(escalation.ref, limit) if limit else []
            payload = encode(
                escalation_payload(
                    escalation,
                    requester,
                    link,
                    turns,
                    max_turns=self._config.transcript_turns,
                    max_chars=self._config.transcript_chars,
                )
            )
            for name in self._targets:
                await self._store.enqueue_handoff(escalation.id, escalation.ref, name, payload)
        except Exception:
            log.exception("escalation %s could not be kept for the helpdesk", escalation.id)
            return
        self._wake.set()

    async def run(self) -> None:
        """Deliver what is due, now and then, until cancelled."""
        if not self._targets:
            return
        import aiohttp

        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                self._wake.clear()
                try:
                    await self.deliver_due(session)
                    await self._measure_backlog()
                except Exception:
                    log.exception("delivering escalations to the helpdesk failed; trying again later")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._config.poll_seconds)

    async def deliver_due(self, session: aiohttp.ClientSession) -> int:
        """One pass over the rows that are due (at most ``BATCH``); how many were delivered."""
        async with self._locks.hold(LOCK):
            due = await self._store.due_handoffs(self._clock(), BATCH)
            delivered = 0
            for delivery in due:
                delivered += await self._deliver(session, delivery)
            return delivered

    async def _measure_backlog(self) -> None:
        if self._metrics is not None:
            self._metrics.observe_handoff_backlog(await self._store.handoff_backlog(), self._clock())

    async def _deliver(self, session: aiohttp.ClientSession, delivery: HandoffDelivery) -> int:
        target = self._targets.get(delivery.target)
        if target is None:  # a target no longer configured: kept, in case it comes back
            return 0
        try:
            ticket = await target.deliver(session, delivery.id, delivery.payload)
        except DeliveryFailed as exc:
            if self._metrics is not None:
                self._metrics.count_handoff_failure(delivery.target)
            wait = min(
                self._config.retry_max_seconds, self._config.retry_seconds * 2 ** min(delivery.attempts, 30)
            )
            log.warning(
                "escalation %s: %s did not take it (%s); trying again in %.0f s",
                delivery.escalation_id,
                delivery.target,
                exc,
                wait,
            )
            await self._store.handoff_failed(delivery.id, self._clock() + timedelta(seconds=wait), str(exc))
            return 0
        await self._store.handoff_delivered(
            delivery.id, ticket.id if ticket else None, ticket.url if ticket else None
        )
        log.info("escalation %s delivered to %s", delivery.escalation_id, delivery.target)
        if ticket is not None:
            desk = self._desks.get(delivery.ref.platform)
            if desk is not None:
                await desk.ticket_opened(delivery.ref, ticket.url)
        return 1
