"""An `OrderBackend` on an HTTP order service (`ORDERS_API_URL`, bearer `ORDERS_API_TOKEN`).

The service answers `GET /orders/{order_id}` with an order (404 when there is none) and
`GET /customers/{customer_id}/orders?limit=N` with `{"orders": [...]}`, newest first.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import aiohttp
from pydantic import TypeAdapter, ValidationError

from bot.orders import Order, OrderBackendError

_ORDER_LIST = TypeAdapter(list[Order])
_ORDER = TypeAdapter(Order)


class HttpOrderBackend:
    def __init__(self, base_url: str, token: str | None, *, timeout: float = 5.0) -> None:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._base = base_url.rstrip("/")
        self._session = aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=timeout))

    async def get_order(self, order_id: str) -> Order | None:
        body = await self._get(f"/orders/{quote(order_id, safe='')}")
        if body is None:
            return None
        try:
            return _ORDER.validate_python(body)
        except ValidationError as exc:
            raise OrderBackendError(
                f"order service sent an invalid order: {exc.error_count()} error(s)"
            ) from None

    async def orders_for_customer(self, customer_id: str, limit: int = 10) -> list[Order]:
        body = await self._get(f"/customers/{quote(customer_id, safe='')}/orders?limit={int(limit)}")
        if body is None:
            return []
        try:
            return _ORDER_LIST.validate_python(body.get("orders", []) if isinstance(body, dict) else body)
        except ValidationError as exc:
            raise OrderBackendError(
                f"order service sent invalid orders: {exc.error_count()} error(s)"
            ) from None

    async def _get(self, path: str) -> Any:
        try:
            async with self._session.get(self._base + path) as response:
                if response.status == 404:
                    return None
                if response.status != 200:
                    raise OrderBackendError(f"order service answered HTTP {response.status}")
                return await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise OrderBackendError(f"order service unreachable: {type(exc).__name__}") from None

    async def close(self) -> None:
        await self._session.close()
