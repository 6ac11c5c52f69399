"""End-to-end fixtures: the real app from `bot.run.app.build_app`, talking to the fake Anthropic API.

Settings are passed explicitly (no `.env`, and every setting's environment variable is removed first), so
neither the developer's environment nor the working directory changes what these tests see. The
repository's real `config/` (bot.toml, system prompt, KB articles, demo orders) is used; everything the
app writes goes to the test's ``tmp_path``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fakes.anthropic import FakeAnthropic

from bot.run.app import build_app
from bot.runtime import App
from bot.types import ThreadRef
from tests.e2e.rig import MakeApp, app_settings, clear_settings_env, new_thread


@pytest.fixture
async def make_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[MakeApp]:
    """``await make_app(anthropic_base_url=...)``: a real app, settings overridden; closed at teardown."""
    clear_settings_env(monkeypatch)
    apps: list[App] = []

    async def make(**overrides: Any) -> App:
        folder = tmp_path / f"app{len(apps)}"
        folder.mkdir()
        app = await build_app(app_settings(folder, **overrides))
        apps.append(app)
        return app

    yield make
    for app in apps:
        await app.close()


@pytest.fixture
async def app(make_app: MakeApp, fake_anthropic: FakeAnthropic) -> App:
    """The real app with a key, pointed at the fake Anthropic API."""
    return await make_app(anthropic_base_url=fake_anthropic.base_url)


@pytest.fixture
def thread() -> ThreadRef:
    return new_thread()
