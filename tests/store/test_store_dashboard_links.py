"""The dashboard's single-use links in both stores: a nonce is used once, by whichever instance is first."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.store import Store
from tests.store.conftest import OpenStore


async def test_a_link_is_used_once_across_instances(store: Store, open_another: OpenStore) -> None:
    other = await open_another()
    expires = datetime.now(UTC) + timedelta(minutes=10)
    results = await asyncio.gather(
        *(handle.use_dashboard_link("nonce-1", expires) for handle in (store, other, store, other))
    )
    assert sorted(results) == [False, False, False, True]
    assert await other.use_dashboard_link("nonce-1", expires) is False
    assert await store.use_dashboard_link("nonce-2", expires) is True


async def test_expired_links_are_forgotten(store: Store) -> None:
    past = datetime.now(UTC) - timedelta(seconds=1)
    assert await store.use_dashboard_link("old", past) is True
    # Its row went with the next use of any link: the link itself is refused for its age before this.
    assert await store.use_dashboard_link("new", datetime.now(UTC) + timedelta(minutes=10)) is True
    assert await store.use_dashboard_link("old", past) is True
