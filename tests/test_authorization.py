"""Every principal kind against every order tool and order: the tools decide what each may see."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web
from fakes.http_server import serve

from bot.agent.toolbox import ToolBox
from bot.escalations import EscalationNotifiers
from bot.orders import Order, SqliteOrderBackend
from bot.store import Store
from bot.store.open import open_store
from bot.types import Principal, Role, ThreadRef
from integrations.orders_http import HttpOrderBackend
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


# -- an HTTP order service is a source of data, not of authorization ---------------------------------


@asynccontextmanager
async def order_service(orders_by_customer: dict[str, list[Order]]) -> AsyncIterator[str]:
    """A local order service (docs/architecture.md §6) on 127.0.0.1 that answers the customer's list with
    ``orders_by_customer[customer_id]`` as given (foreign orders included) and every order by id."""
    by_id = {o.order_id: o for orders in orders_by_customer.values() for o in orders}

    async def customer_orders(request: web.Request) -> web.Response:
        orders = orders_by_customer.get(request.match_info["customer_id"], [])
        return web.json_response({"orders": [o.model_dump(mode="json") for o in orders]})

    async def one_order(request: web.Request) -> web.Response:
        order = by_id.get(request.match_info["order_id"])
        if order is None:
            return web.json_response({"error": "not found"}, status=404)
        return web.json_response(order.model_dump(mode="json"))

    app = web.Application()
    app.router.add_get("/customers/{customer_id}/orders", customer_orders)
    app.router.add_get("/orders/{order_id}", one_order)
    async with serve(app) as url:
        yield url


async def test_list_my_orders_shows_only_own_orders_whatever_the_order_service_returns(
    store: Store,
) -> None:
    own, foreign = ORDERS  # ORD-501 belongs to C-1, ORD-502 to C-2
    many_own = [own.model_copy(update={"order_id": f"ORD-6{i:02d}"}) for i in range(10)]
    async with order_service({"C-1": [own, foreign, *many_own]}) as url:
        backend = HttpOrderBackend(url, "token")
        try:
            toolbox = ToolBox([ListMyOrders(backend, limit=5), LookupOrder(backend)], store)
            result = await toolbox.call("list_my_orders", {}, PRINCIPALS["customer:C-1"], THREAD)
            lookup = await toolbox.call(
                "lookup_order", {"order_id": "ORD-502"}, PRINCIPALS["customer:C-1"], THREAD
            )
        finally:
            await backend.close()
    assert "ORD-501" in result.text
    assert "ORD-502" not in result.text and "processing" not in result.text
    assert result.text.count("\n- ") <= 5  # no more than the tool's limit, however many came back
    assert lookup.text == not_found_text("ORD-502")
