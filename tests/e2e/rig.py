"""The end-to-end rig: the real service on settings from the repository's config, and `ask`, which sends
one message through it and returns what the user saw."""

from __future__ import annotations

import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.inbound import Budgets, Inbound
from bot.runtime import App
from bot.service import Handled
from bot.settings import Settings
from bot.streaming.budget import EditBudget
from bot.streaming.protocol import Footer, MessageRef
from bot.streaming.reply import DEFAULT_MARKER
from bot.types import Principal, Source, ThreadRef, Turn
from integrations.console.principals import parse_principal
from tests.recording_stream import FakeClock, RecordingStream

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config"
KB_DIR = CONFIG / "kb"
TEST_KEY = "test-key"

MakeApp = Callable[..., Awaitable[App]]


def clear_settings_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove every environment variable a setting could be read from (names are case-insensitive)."""
    fields = {name.lower() for name in Settings.model_fields}
    for name in list(os.environ):
        if name.lower() in fields or name.upper().startswith("ANTHROPIC_"):
            monkeypatch.delenv(name, raising=False)


def app_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings on the repository's config, with every file the app writes in ``tmp_path``."""
    values: dict[str, Any] = {
        "anthropic_api_key": TEST_KEY,
        "anthropic_base_url": None,
        "model_max_retries": 1,
        "model_timeout_seconds": 20.0,
        "database_url": f"sqlite:///{tmp_path / 'store.db'}",
        "kb_path": KB_DIR,
        "kb_index_path": tmp_path / "kb.sqlite3",
        "bot_config_path": CONFIG / "bot.toml",
        "system_prompt_path": CONFIG / "prompts" / "system.md",
        "demo_orders_path": CONFIG / "demo" / "orders.json",
        "orders_db_path": tmp_path / "orders.sqlite3",
        "orders_api_url": None,
        "orders_api_token": None,
        "log_level": "INFO",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def new_thread() -> ThreadRef:
    return ThreadRef("e2e", "space-1", "channel-1", uuid.uuid4().hex)


def who(spec: str) -> Principal:
    """`customer:C-1001`, `customer`, `employee`, `lead` (the console's principals)."""
    return parse_principal(spec)


class PlatformStream(RecordingStream):
    """A RecordingStream whose message refs are unique like a platform's message ids (Slack ``ts``, Discord
    snowflakes), not only within one reply; with a ``journal``, every successful call is also written to a
    list shared by several replies, to check their order."""

    def __init__(
        self,
        clock: FakeClock | None = None,
        *,
        journal: list[tuple[str, str, str]] | None = None,
        name: str = "",
        edit_interval: float = 0.005,
        **kw: Any,
    ) -> None:
        super().__init__(clock or FakeClock(), edit_interval=edit_interval, **kw)
        self._journal = journal if journal is not None else []
        self._name = name
        self._prefix = uuid.uuid4().hex[:8]

    async def post(self, text: str, footer: Footer | None = None) -> MessageRef:
        ref = f"{self._prefix}-m{self._posted + 1}"
        await self._call("post", ref, text, footer)
        self._journal.append((self._name, "post", text))
        return ref

    async def edit(self, ref: MessageRef, text: str, footer: Footer | None = None) -> None:
        await super().edit(ref, text, footer)
        self._journal.append((self._name, "edit", text))


@dataclass
class Seen:
    """What the user saw of one reply, and what the service said about it."""

    text: str
    """The final text of the reply's messages, joined by newlines (no footer)."""
    sources: tuple[Source, ...]
    """The sources listed in the footer of the reply's last message."""
    handled: Handled
    stream: RecordingStream

    @property
    def every_text_sent(self) -> list[str]:
        """Every text the platform was sent for this reply, in order (intermediate edits included)."""
        return [call.text for call in self.stream.calls]

    @property
    def intermediate_edits(self) -> int:
        """Successful edits that showed the answer still being written (before the final edit)."""
        return len([call for call in self.stream.edits()[:-1] if call.text.endswith(DEFAULT_MARKER)])


def budgets() -> Budgets:
    """Real budgets, generous enough that they never hold a test back."""
    return Budgets(edits=EditBudget(rate=1000.0, burst=100), posts=EditBudget(rate=1000.0, burst=100))


async def ask(
    app: App,
    principal: Principal,
    text: str,
    *,
    ref: ThreadRef,
    event_id: str | None = None,
    stream: RecordingStream | None = None,
    platform_history: list[Turn] | None = None,
) -> Seen:
    """Send ``text`` as ``principal`` in thread ``ref`` through ``app.service.handle``; what the user saw."""
    stream = stream if stream is not None else PlatformStream()
    message = Inbound(
        ref=ref,
        principal=principal,
        text=text,
        message_id=f"msg-{uuid.uuid4().hex[:12]}",
        sent_at=datetime.now(UTC),
        event_id=event_id,
    )
    handled = await app.service.handle(message, stream, budgets(), platform_history)
    footers = [f for f in stream.footers() if f is not None]
    return Seen(
        text="\n".join(stream.texts()),
        sources=footers[-1].sources if footers else (),
        handled=handled,
        stream=stream,
    )


def tool_results(request_messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tool_result blocks of the last message of a request."""
    last = request_messages[-1]
    assert last["role"] == "user"
    return [block for block in last["content"] if block.get("type") == "tool_result"]


def result_text(block: dict[str, Any]) -> str:
    """All text a tool_result block carries (text blocks and search_result titles, sources and content)."""
    content = block.get("content")
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for inner in content or ():
        if inner.get("type") == "text":
            parts.append(inner["text"])
        elif inner.get("type") == "search_result":
            parts.append(inner["title"])
            parts.append(inner["source"])
            parts.extend(c["text"] for c in inner["content"])
    return "\n".join(parts)
