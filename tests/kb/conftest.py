"""Fixtures of the knowledge tests: the fake Zendesk Help Center."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from fakes.zendesk import FakeZendesk


@pytest_asyncio.fixture
async def fake_zendesk() -> AsyncIterator[FakeZendesk]:
    """A started :class:`FakeZendesk` with its demo Help Center."""
    async with FakeZendesk() as fake:
        yield fake
