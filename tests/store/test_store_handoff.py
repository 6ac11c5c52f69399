"""The helpdesk outbox (``bot.handoff``) on every store backend (``conftest.BACKENDS``): kept across a
reopen until delivered, due again after a failure only at its next attempt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.store import Store
from bot.types import ThreadRef
from tests.store.conftest import OpenStore

THREAD = ThreadRef("slack", "T1", "C1", "1000.000100")


async def test_an_enqueued_handoff_is_due_until_delivered_across_a_reopen(
    store: Store, open_another: OpenStore
) -> None:
    escalation = await store.open_escalation(THREAD, "U0ANN", "wants a refund")
    assert escalation is not None
    await store.enqueue_handoff(escalation.id, THREAD, "webhook", '{"a": 1}')
    await store.enqueue_handoff(escalation.id, THREAD, "webhook", '{"a": 2}')  # the same one: ignored
    await store.enqueue_handoff(escalation.id, THREAD, "zendesk", '{"b": 1}')
    soon = datetime.now(UTC) + timedelta(seconds=1)

    again = await open_another()
    due = await again.due_handoffs(soon, 10)
    assert [(d.target, d.payload, d.ref, d.attempts) for d in due] == [
        ("webhook", '{"a": 1}', THREAD, 0),
        ("zendesk", '{"b": 1}', THREAD, 0),
    ]
    webhook, zendesk = due
    later = soon + timedelta(minutes=5)
    await again.handoff_failed(webhook.id, later, "503 from the receiver")
    await again.handoff_delivered(zendesk.id, "17", "https://help.example/agent/tickets/17")

    assert await store.due_handoffs(soon, 10) == []
    retried = await store.due_handoffs(later, 10)
    assert [(d.target, d.attempts) for d in retried] == [("webhook", 1)]
    assert await store.due_handoffs(later, 0) == []


async def test_an_escalation_is_found_by_its_id(store: Store) -> None:
    escalation = await store.open_escalation(THREAD, "U0ANN", "wants a refund")
    assert escalation is not None
    found = await store.escalation(escalation.id)
    assert found is not None and (found.ref, found.summary) == (THREAD, "wants a refund")
    assert await store.escalation(escalation.id + 1000) is None
