"""Orders: the model, the narrow backend protocol, and the embedded SQLite backend seeded from demo data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

import aiosqlite
from pydantic import BaseModel, ConfigDict, TypeAdapter


class OrderItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: str
    name: str
    qty: int
    unit_price: float


class Order(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    order_id: str
    customer_id: str
    status: str
    placed_at: str
    items: tuple[OrderItem, ...] = ()
    total: float
    currency: str = "USD"
    carrier: str | None = None
    tracking_number: str | None = None
    estimated_delivery: str | None = None
    shipping_city: str | None = None
    notes: str | None = None


class Customer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    customer_id: str
    name: str
    email: str | None = None


class OrderBackendError(Exception):
    """The order backend could not answer (unreachable, bad response). Not the same as not found."""


class OrderBackend(Protocol):
    async def get_order(self, order_id: str) -> Order | None: ...

    async def orders_for_customer(self, customer_id: str, limit: int = 10) -> list[Order]:
        """The customer's orders, newest first."""
        ...

    async def close(self) -> None: ...


class DemoData(BaseModel):
    customers: tuple[Customer, ...]
    orders: tuple[Order, ...]


_ORDERS = TypeAdapter(Order)


class SqliteOrderBackend:
    """Orders in an SQLite table, (re)seeded from a JSON file of demo customers and orders at open."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    @classmethod
    async def open(cls, path: Path | str, seed: Path | None = None) -> SqliteOrderBackend:
        if isinstance(path, Path):
            path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(str(path))
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute(
            "CREATE TABLE IF NOT EXISTS orders (order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL,"
            " placed_at TEXT NOT NULL, body TEXT NOT NULL)"
        )
        await db.execute("CREATE INDEX IF NOT EXISTS orders_by_customer ON orders (customer_id, placed_at)")
        backend = cls(db)
        if seed is not None:
            await backend.seed(DemoData.model_validate_json(seed.read_text(encoding="utf-8")).orders)
        return backend

    async def seed(self, orders: tuple[Order, ...]) -> None:
        await self._db.executemany(
            "INSERT OR REPLACE INTO orders (order_id, customer_id, placed_at, body) VALUES (?, ?, ?, ?)",
            [(o.order_id, o.customer_id, o.placed_at, o.model_dump_json()) for o in orders],
        )
        await self._db.commit()

    async def get_order(self, order_id: str) -> Order | None:
        async with self._db.execute("SELECT body FROM orders WHERE order_id = ?", (order_id,)) as cur:
            row = await cur.fetchone()
        return _ORDERS.validate_python(json.loads(row[0])) if row else None

    async def orders_for_customer(self, customer_id: str, limit: int = 10) -> list[Order]:
        async with self._db.execute(
            "SELECT body FROM orders WHERE customer_id = ? ORDER BY placed_at DESC LIMIT ?",
            (customer_id, limit),
        ) as cur:
            rows = await cur.fetchall()
        return [_ORDERS.validate_python(json.loads(row[0])) for row in rows]

    async def close(self) -> None:
        await self._db.close()
