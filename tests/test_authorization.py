"""Every principal kind against every order tool and order: the tools decide what each may see."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.escalations import EscalationNotifiers
from bot.orders import Order, SqliteOrderBackend
from bot.store import Store
from bot.store.open import open_store
from bot.tooling import ToolBox
from bot.types import Principal, Role, ThreadRef
from tools.escalation import EscalateToHuman
from tools.orders import ListMyOrders, LookupOrder, not_found_text

THREAD = ThreadRef("console", "local", "terminal", "t1")
ORDERS = (
    Order(
        order_id="ORD-501",
        customer_id="C-1",
        status="shipped",
        placed_at="2026-01-02",
        total=10,
        carrier="UPS",
        tracking_number="1ZAAA",
        notes="VIP customer",
    ),
    Order(
        order_id="ORD-502",
        customer_id="C-2",
        status="processing",
        placed_at="2026-01-03",
        total=20,
        carrier="FedEx",
        tracking_number="FX999",
    ),
)


def principal(kind: str, customer_id: str | None = None) -> Principal:
    roles = {
        "customer": {Role.CUSTOMER},
        "employee": {Role.EMPLOYEE},
        "lead": {Role.EMPLOYEE, Role.LEAD},
        "admin": {Role.ADMIN},
    }[kind]
    return Principal("console", f"u-{kind}-{customer_id}", kind, frozenset(roles), customer_id)


PRINCIPALS = {
    "customer:C-1": principal("customer", "C-1"),
    "customer:C-2": principal("customer", "C-2"),
    "customer": principal("customer"),
    "employee": principal("employee"),
    "lead": principal("lead"),
    "admin": principal("admin"),
}
# Which orders each principal may see.
MAY_SEE = {
    "customer:C-1": {"ORD-501"},
    "customer:C-2": {"ORD-502"},
    "customer": set(),
    "employee": {"ORD-501", "ORD-502"},
    "lead": {"ORD-501", "ORD-502"},
    "admin": {"ORD-501", "ORD-502"},
}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await open_store(f"sqlite:///{tmp_path}/store.db")
    yield store
    await store.close()


@pytest.fixture
async def toolbox(store: Store, tmp_path: Path) -> AsyncIterator[ToolBox]:
    backend = await SqliteOrderBackend.open(tmp_path / "orders.db")
    await backend.seed(ORDERS)
    yield ToolBox(
        [LookupOrder(backend), ListMyOrders(backend), EscalateToHuman(EscalationNotifiers())], store
    )
    await backend.close()


@pytest.mark.parametrize("who", PRINCIPALS)
@pytest.mark.parametrize("order_id", ["ORD-501", "ORD-502", "ORD-404"])
async def test_lookup_order_matrix(toolbox: ToolBox, store: Store, who: str, order_id: str) -> None:
    result = await toolbox.call("lookup_order", {"order_id": order_id}, PRINCIPALS[who], THREAD)
    if order_id in MAY_SEE[who]:
        assert f"Order {order_id}:" in result.text
        assert result.outcome == "ok"
    else:
        # Not found and not allowed read the same, and nothing of the order leaks.
        assert result.text == not_found_text(order_id)
        for order in ORDERS:
            assert order.tracking_number not in result.text
    audit = (await store.tool_calls(limit=1))[0]
    assert audit.tool == "lookup_order" and audit.user_id == PRINCIPALS[who].user_id
    assert audit.allowed == (order_id in MAY_SEE[who] or order_id == "ORD-404")


async def test_internal_notes_are_for_staff_only(toolbox: ToolBox) -> None:
    staff = await toolbox.call("lookup_order", {"order_id": "ORD-501"}, PRINCIPALS["employee"], THREAD)
    owner = await toolbox.call("lookup_order", {"order_id": "ORD-501"}, PRINCIPALS["customer:C-1"], THREAD)
    assert "VIP customer" in staff.text
    assert "VIP customer" not in owner.text and "1ZAAA" in owner.text


@pytest.mark.parametrize("who", PRINCIPALS)
async def test_list_my_orders_matrix(toolbox: ToolBox, who: str) -> None:
    result = await toolbox.call("list_my_orders", {}, PRINCIPALS[who], THREAD)
    shown = {order.order_id for order in ORDERS if order.order_id in result.text}
    own = {o.order_id for o in ORDERS if o.customer_id == PRINCIPALS[who].customer_id}
    assert shown == own
    if who == "customer":
        assert "not linked" in result.text


@pytest.mark.parametrize("raw", ["ord-501", "ORD 501", "#501", "501", " ORD-501 "])
async def test_order_id_spellings_mean_the_same_order_and_stay_authorised(toolbox: ToolBox, raw: str) -> None:
    staff = await toolbox.call("lookup_order", {"order_id": raw}, PRINCIPALS["employee"], THREAD)
    stranger = await toolbox.call("lookup_order", {"order_id": raw}, PRINCIPALS["customer:C-2"], THREAD)
    assert "1ZAAA" in staff.text
    assert "1ZAAA" not in stranger.text and stranger.text == not_found_text("ORD-501")


@pytest.mark.parametrize(
    "raw",
    [
        None,
        {},
        {"order_id": 5},
        {"order_id": ""},
        {"order_id": "x" * 10_000},
        {"order_id": "ORD-501", "extra": 1},
        "ORD-501",
        ["ORD-501"],
    ],
)
async def test_bad_tool_input_is_a_tool_error_not_a_crash(
    toolbox: ToolBox, store: Store, raw: object
) -> None:
    result = await toolbox.call("lookup_order", raw, PRINCIPALS["lead"], THREAD)
    assert result.is_error and result.outcome == "invalid_input"
    assert (await store.tool_calls(limit=1))[0].outcome == "invalid_input"


async def test_unknown_tool_is_a_tool_error(toolbox: ToolBox) -> None:
    result = await toolbox.call("drop_tables", {}, PRINCIPALS["admin"], THREAD)
    assert result.is_error and "no tool" in result.text


async def test_escalation_opens_once_per_thread(toolbox: ToolBox, store: Store) -> None:
    first = await toolbox.call(
        "escalate_to_human", {"summary": "wants a refund"}, PRINCIPALS["customer:C-1"], THREAD
    )
    again = await toolbox.call("escalate_to_human", {"summary": "again"}, PRINCIPALS["customer:C-1"], THREAD)
    assert "Escalation #" in first.text and "already" in again.text
    assert await store.is_escalated(THREAD)
    assert [e.summary for e in await store.open_escalations()] == ["wants a refund"]
