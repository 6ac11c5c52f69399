"""Tool input from the model is untrusted: any JSON value as the input of any tool gives a ToolResult (an
error for invalid input) and one audit row, never an exception; and a tool call whose streamed JSON does
not parse ends in a settled reply with a clear notice, never a crash."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from fakes.anthropic import FakeAnthropic, Reply
from hypothesis import example, given
from hypothesis import strategies as st

from bot.agent.toolbox import ToolBox, ToolResult
from bot.escalations import EscalationNotifiers
from bot.kb.index import KnowledgeBase
from bot.orders import SqliteOrderBackend
from bot.runtime import App
from bot.store import Store
from bot.store.open import open_store
from bot.streaming.reply import DEFAULT_MARKER
from bot.types import Principal, Role, ThreadRef
from tests.e2e.conftest import app, make_app  # noqa: F401  (fixtures)
from tests.e2e.rig import KB_DIR, ROOT, ask, new_thread, who
from tests.kb_folder import aindex_folder
from tests.properties.strategies import EDGE_STRINGS, JSON_VALUES, SHARED_FIXTURE, STRINGS
from tools.escalation import EscalateToHuman
from tools.kb import SearchKb
from tools.orders import ListMyOrders, LookupOrder

THREAD = ThreadRef("console", "local", "terminal", "props")
PRINCIPALS = [
    Principal("console", "c1", "Ann", frozenset({Role.CUSTOMER}), "C-1001"),
    Principal("console", "c0", "Bob", frozenset({Role.CUSTOMER})),
    Principal("console", "e1", "Eve", frozenset({Role.EMPLOYEE})),
]
FIELD_OF = {"lookup_order": "order_id", "search_kb": "query", "escalate_to_human": "summary"}
MAX_CHARS = {"order_id": 64, "query": 500, "summary": 2000}
TOOL_NAMES = ["lookup_order", "list_my_orders", "search_kb", "escalate_to_human"]


@dataclass
class Tools:
    box: ToolBox
    store: Store

    def __repr__(self) -> str:
        return "<the toolbox>"


@pytest_asyncio.fixture
async def tools(tmp_path: Path) -> AsyncIterator[Tools]:
    store = await open_store(f"sqlite:///{tmp_path / 'store.db'}")
    orders = await SqliteOrderBackend.open(
        tmp_path / "orders.db", seed=ROOT / "config" / "demo" / "orders.json"
    )
    kb = KnowledgeBase(tmp_path / "kb.sqlite3")
    await aindex_folder(kb, KB_DIR)
    box = ToolBox(
        [LookupOrder(orders), ListMyOrders(orders), SearchKb(kb), EscalateToHuman(EscalationNotifiers())],
        store,
    )
    yield Tools(box, store)
    await orders.close()
    await store.close()
    kb.close()


def valid(name: str, raw: Any) -> bool:
    """Whether the tool's input model accepts ``raw`` (what the model was told in the JSON schema)."""
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        return False
    if name == "list_my_orders":
        return raw == {}
    key = FIELD_OF[name]
    value = raw.get(key)
    return set(raw) == {key} and isinstance(value, str) and 1 <= len(value) <= MAX_CHARS[key]


def tool_inputs(name: str) -> st.SearchStrategy[Any]:
    if name == "list_my_orders":
        return st.one_of(st.just({}), st.none(), JSON_VALUES)
    key = FIELD_OF[name]
    shaped = st.fixed_dictionaries({key: st.one_of(STRINGS, EDGE_STRINGS, JSON_VALUES)})
    extra = st.dictionaries(STRINGS, JSON_VALUES, max_size=2).map(lambda d: {**d, key: "ORD-10001"})
    return st.one_of(shaped, shaped, extra, JSON_VALUES)


CALLS = st.one_of(
    st.sampled_from(TOOL_NAMES).flatmap(lambda name: st.tuples(st.just(name), tool_inputs(name))),
    st.tuples(st.one_of(STRINGS, st.sampled_from(["", "lookup_order ", "LOOKUP_ORDER"])), JSON_VALUES),
)


@SHARED_FIXTURE
@given(call=CALLS, principal=st.sampled_from(PRINCIPALS))
@example(call=("lookup_order", {"order_id": "\x00" * 64}), principal=PRINCIPALS[0])
@example(call=("search_kb", {"query": "NEAR(" * 100}), principal=PRINCIPALS[1])
@example(call=("escalate_to_human", {"summary": "x" * 2000}), principal=PRINCIPALS[2])
@example(call=("lookup_order", {"order_id": float("nan")}), principal=PRINCIPALS[0])
async def test_any_input_of_any_tool_is_a_result_and_an_audit_row(
    tools: Tools, call: tuple[str, Any], principal: Principal
) -> None:
    name, raw = call
    before = len(await tools.store.tool_calls(limit=1_000_000))
    result = await tools.box.call(name, raw, principal, THREAD)
    audits = await tools.store.tool_calls(limit=1_000_000)

    assert isinstance(result, ToolResult) and result.text.strip()
    if name not in TOOL_NAMES or not valid(name, raw):
        assert result.is_error and result.outcome == "invalid_input", (name, raw, result)
    else:
        assert not result.is_error and result.outcome in ("ok", "not_found", "denied"), (name, raw, result)
    assert len(audits) == before + 1
    newest = max(audits, key=lambda a: a.at)
    assert (newest.tool, newest.user_id, newest.outcome, newest.allowed) == (
        name,
        principal.user_id,
        result.outcome,
        result.allowed,
    )


# ---- a tool call whose streamed JSON does not parse ------------------------------------------------------


@dataclass(frozen=True)
class BrokenJsonReply(Reply):
    """A ``tool_use`` whose ``input_json_delta`` pieces concatenate to ``partial_json`` instead of the
    input's JSON (everything else is the fake's own event sequence)."""

    partial_json: str = ""

    @classmethod
    def of(cls, tool: str, partial_json: str) -> BrokenJsonReply:
        base = Reply.tool_use((tool, {}), ping=False)
        return cls(**{f.name: getattr(base, f.name) for f in fields(Reply)}, partial_json=partial_json)

    def sse_events(self, **kwargs: Any) -> list[tuple[str, dict[str, Any]]]:
        events = []
        for name, data in super().sse_events(**kwargs):
            delta = data.get("delta") or {}
            if name == "content_block_delta" and delta.get("type") == "input_json_delta":
                continue
            events.append((name, data))
            if name == "content_block_start" and data["content_block"]["type"] == "tool_use":
                pieces = [self.partial_json[i : i + 5] for i in range(0, len(self.partial_json), 5)]
                for piece in pieces:
                    delta = {"type": "input_json_delta", "partial_json": piece}
                    events.append(
                        (
                            "content_block_delta",
                            {"type": "content_block_delta", "index": data["index"], "delta": delta},
                        )
                    )
        return events


BROKEN_JSON = [
    '{"order_id": ORD-10001}',
    '{"order_id": "ORD-10001"}}',
    '{"order_id": "ORD-10001",,}',
    "nul",
    "{'order_id': 'ORD-10001'}",
    '{"order_id": "ORD-10001"} trailing',
    '"just a string"',
    "[1, 2, 3]",
]


@pytest.mark.parametrize("partial_json", BROKEN_JSON)
async def test_a_tool_call_with_broken_json_ends_in_a_settled_reply(
    app: App,  # noqa: F811
    fake_anthropic: FakeAnthropic,
    partial_json: str,
) -> None:
    fake_anthropic.strict = False  # checked below, with a clearer message
    fake_anthropic.script(
        BrokenJsonReply.of("lookup_order", partial_json),
        Reply.text("I could not look that order up, sorry."),
        Reply.text("Anything else?"),
    )
    seen = await ask(app, who("customer:C-1001"), "Where is ORD-10001?", ref=new_thread())

    assert seen.handled.status == "answered" and seen.stream.problems == []
    assert seen.text.strip() and not seen.text.endswith(DEFAULT_MARKER), seen.text
    # The bot never sends the API a request it refuses (a tool_use input must be an object) ...
    assert fake_anthropic.validation_errors == []
    # ... and never pretends the model is down when the model is up.
    assert "not available" not in seen.text, seen.text
    audits = await app.store.tool_calls()
    if audits:  # the SDK made an input of it: the tool decided, and the model answered
        assert len(audits) == 1 and seen.text == "I could not look that order up, sorry."
    else:  # the SDK could not: the answer says plainly that it failed
        assert "went wrong" in seen.text or "interrupted" in seen.text, seen.text
    # The bot keeps answering in the same process.
    again = await ask(app, who("customer:C-1001"), "Hello?", ref=new_thread())
    assert again.text in ("I could not look that order up, sorry.", "Anything else?")
