"""The helpdesk outbox (``bot.handoff``) on every store backend (``conftest.BACKENDS``): kept across a
reopen until delivered, due again after a failure only at its next attempt; its backlog by target."""

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


async def test_the_backlog_counts_what_waits_by_target_with_the_oldest_and_a_failure(
    store: Store, open_another: OpenStore
) -> None:
    assert await store.handoff_backlog() == []
    before = datetime.now(UTC)
    first = await store.open_escalation(THREAD, "U0ANN", "wants a refund")
    other = ThreadRef("slack", "T1", "C1", "2000.000100")
    second = await store.open_escalation(other, "U0BOB", "parcel lost")
    assert first is not None and second is not None
    for escalation, ref in ((first, THREAD), (second, other)):
        for target in ("zendesk", "webhook"):
            await store.enqueue_handoff(escalation.id, ref, target, "{}")
    after = datetime.now(UTC)
    later = after + timedelta(minutes=5)
    due = await store.due_handoffs(after + timedelta(seconds=1), 10)
    [first_webhook, second_webhook] = [d for d in due if d.target == "webhook"]
    [first_zendesk, second_zendesk] = [d for d in due if d.target == "zendesk"]
    await store.handoff_failed(second_webhook.id, later, "HTTP 502: bad gateway")
    await store.handoff_failed(first_webhook.id, later, "HTTP 503: down")
    await store.handoff_failed(first_webhook.id, later, "HTTP 503: still down")
    await store.handoff_delivered(first_zendesk.id, "17", "https://help.example/agent/tickets/17")

    webhook, zendesk = await (await open_another()).handoff_backlog()
    assert (webhook.target, webhook.pending, webhook.failing) == ("webhook", 2, 2)
    assert webhook.last_error == "HTTP 503: still down"  # the oldest failing row's latest error
    assert (zendesk.target, zendesk.pending, zendesk.failing, zendesk.last_error) == ("zendesk", 1, 0, None)
    assert before <= webhook.oldest_at < zendesk.oldest_at <= after  # the delivered one is not counted
    assert webhook.oldest_at.tzinfo is not None

    for delivery in (first_webhook, second_webhook, second_zendesk):
        await store.handoff_delivered(delivery.id, None, None)
    assert await store.handoff_backlog() == []


async def test_an_escalation_is_found_by_its_id(store: Store) -> None:
    escalation = await store.open_escalation(THREAD, "U0ANN", "wants a refund")
    assert escalation is not None
    found = await store.escalation(escalation.id)
    assert found is not None and (found.ref, found.summary) == (THREAD, "wants a refund")
    assert await store.escalation(escalation.id + 1000) is None


async def test_pruning_deletes_delivered_handoffs_and_keeps_the_undelivered(store: Store) -> None:
    await _ann_and_bob_handed_off(store, '{"a": 1}')
    soon = datetime.now(UTC) + timedelta(seconds=1)
    delivered, waiting = await store.due_handoffs(soon, 10)
    await store.handoff_delivered(delivered.id, None, None)

    report = await store.prune(soon + timedelta(minutes=1), batch=100)
    assert report.handoffs == 1
    assert [d.id for d in await store.due_handoffs(soon, 10)] == [waiting.id]


async def test_forgetting_a_person_deletes_their_handoffs(store: Store) -> None:
    _, theirs = await _ann_and_bob_handed_off(store, '{"text": "card [card ending 4242]"}')

    report = await store.forget_user("slack", "U0ANN")
    assert report.handoffs == 1
    due = await store.due_handoffs(datetime.now(UTC) + timedelta(seconds=1), 10)
    assert [d.escalation_id for d in due] == [theirs]


async def _ann_and_bob_handed_off(store: Store, anns_payload: str) -> tuple[int, int]:
    """Ann's escalation (in THREAD, with ``anns_payload``) and Bob's (in another thread), each queued for
    the webhook; their escalation ids."""
    other = ThreadRef("slack", "T1", "C1", "2000.000100")
    ann = await store.open_escalation(THREAD, "U0ANN", "wants a refund")
    bob = await store.open_escalation(other, "U0BOB", "parcel lost")
    assert ann is not None and bob is not None
    await store.enqueue_handoff(ann.id, THREAD, "webhook", anns_payload)
    await store.enqueue_handoff(bob.id, other, "webhook", '{"b": 1}')
    return ann.id, bob.id
