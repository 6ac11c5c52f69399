"""The fake Anthropic API answered by the project's fake support model."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from fakes.anthropic import FakeAnthropic

from tests.eval.support_model import support_model


@pytest_asyncio.fixture
async def support_fake() -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic(responder=support_model) as fake:
        yield fake
    fake.assert_clean()
