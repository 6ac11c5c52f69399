"""How a turn's tool exchange is kept in a text column, the same in every store."""

from __future__ import annotations

import json
from typing import Any

NO_EXCHANGE = "[]"


def exchange_to_json(exchange: tuple[dict[str, Any], ...]) -> str:
    return json.dumps(list(exchange), ensure_ascii=False, separators=(",", ":")) if exchange else NO_EXCHANGE


def exchange_from_json(text: str) -> tuple[dict[str, Any], ...]:
    """Most turns have none: they are read without parsing (history is read for every answer)."""
    return () if text == NO_EXCHANGE else tuple(json.loads(text))
