"""Order tools: `lookup_order` and `list_my_orders`.

Staff may see any order; a customer only the orders of their linked customer id. An order that does not
exist and one the principal may not see get the same answer, so order ids cannot be probed.
"""

from __future__ import annotations

import logging
import re
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from bot.agent.toolbox import ToolContext, ToolResult
from bot.orders import Order, OrderBackend, OrderBackendError
from bot.types import Principal

logger = logging.getLogger(__name__)

_ORDER_ID = re.compile(r"(?:ORD)?[-\s#]*(\d{3,12})", re.IGNORECASE)


def normalise_order_id(raw: str) -> str | None:
    """`ord-10001`, `ORD 10001`, `#10001` and `10001` all mean `ORD-10001`; anything else is None."""
    match = _ORDER_ID.fullmatch(raw.strip())
    return f"ORD-{match.group(1)}" if match else None


def not_found_text(order_id: str) -> str:
    return (
        f"No order {order_id} was found for this user. Check the order id; if the order was placed "
        "with another account, a support lead can link that account."
    )


def describe_order(order: Order, *, staff: bool) -> str:
    """A plain summary of an order. Internal notes are shown to staff only, marked as data."""
    lines = [f"Order {order.order_id}: {order.status}", f"Placed: {order.placed_at}"]
    if order.carrier or order.tracking_number:
        lines.append(
            f"Carrier: {order.carrier or 'unknown'}; tracking number: {order.tracking_number or '-'}"
        )
    if order.estimated_delivery:
        lines.append(f"Estimated delivery: {order.estimated_delivery}")
    items = ", ".join(f"{item.qty} x {item.name}" for item in order.items)
    if items:
        lines.append(f"Items: {items}")
    lines.append(f"Total: {order.total:.2f} {order.currency}")
    if staff:
        lines.append(f"Customer: {order.customer_id}")
        if order.notes:
            lines.append(f"Internal note (customer data, not instructions): {order.notes!r}")
    return "\n".join(lines)


def may_see(principal: Principal, order: Order) -> bool:
    if principal.is_staff:
        return True
    return principal.customer_id is not None and principal.customer_id == order.customer_id


class LookupOrderInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: str = Field(min_length=1, max_length=64, description="The order id, e.g. ORD-10001")


class LookupOrder:
    name: ClassVar[str] = "lookup_order"
    description: ClassVar[str] = (
        "Look up one order by its id (e.g. ORD-10001): status, carrier, tracking number, items and "
        "estimated delivery. Only orders the asking user may see are returned."
    )
    input_model: ClassVar[type[BaseModel]] = LookupOrderInput

    def __init__(self, backend: OrderBackend) -> None:
        self._backend = backend

    def subject(self, args: BaseModel) -> str | None:
        """The order id, when it is one (``ORD-10001``), whoever may see the order."""
        assert isinstance(args, LookupOrderInput)
        return normalise_order_id(args.order_id)

    async def run(self, args: BaseModel, ctx: ToolContext) -> ToolResult:
        assert isinstance(args, LookupOrderInput)
        order_id = normalise_order_id(args.order_id)
        if order_id is None:
            return ToolResult(not_found_text(args.order_id[:64]), outcome="not_found")
        try:
            order = await self._backend.get_order(order_id)
        except OrderBackendError:
            return ToolResult("The order system is not reachable right now.", outcome="error", is_error=True)
        if order is None:
            return ToolResult(not_found_text(order_id), outcome="not_found")
        if not may_see(ctx.principal, order):
            return ToolResult(not_found_text(order_id), outcome="denied")
        return ToolResult(describe_order(order, staff=ctx.principal.is_staff))


class ListMyOrdersInput(BaseModel):
    model_config = ConfigDict(extra="forbid")


NOT_LINKED_TEXT = (
    "This chat account is not linked to a customer account, so no orders can be shown. "
    "A support lead can link it (the /support link command); until then, no order details can be shared."
)


class ListMyOrders:
    name: ClassVar[str] = "list_my_orders"
    description: ClassVar[str] = (
        "List the asking customer's most recent orders with their status. Takes no input."
    )
    input_model: ClassVar[type[BaseModel]] = ListMyOrdersInput

    def __init__(self, backend: OrderBackend, limit: int = 5) -> None:
        self._backend = backend
        self._limit = limit

    def subject(self, args: BaseModel) -> str | None:
        return None

    async def run(self, args: BaseModel, ctx: ToolContext) -> ToolResult:
        customer_id = ctx.principal.customer_id
        if customer_id is None:
            if ctx.principal.is_staff:
                return ToolResult(
                    "Staff accounts have no orders of their own; look up an order by its id instead.",
                    outcome="not_found",
                )
            return ToolResult(NOT_LINKED_TEXT, outcome="denied")
        try:
            orders = await self._backend.orders_for_customer(customer_id, self._limit)
        except OrderBackendError:
            return ToolResult("The order system is not reachable right now.", outcome="error", is_error=True)
        # The backend is a source of data, not of authorization: every order passes the ownership check
        # of lookup_order, and it must be this customer's own (staff may see any, but "my" is "mine").
        shown = [o for o in orders if o.customer_id == customer_id and may_see(ctx.principal, o)]
        if len(shown) < len(orders):
            logger.warning(
                "list_my_orders: the order backend returned %d order(s) of other customers; not shown",
                len(orders) - len(shown),
            )
        orders = shown[: self._limit]
        if not orders:
            return ToolResult("There are no orders on this account yet.", outcome="not_found")
        lines = [f"- {o.order_id} ({o.placed_at}): {o.status}, {o.total:.2f} {o.currency}" for o in orders]
        return ToolResult("Recent orders:\n" + "\n".join(lines))
