"""Reading a Web API call's arguments, and the errors a method answers with."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .state import JSON


class _ApiError(Exception):
    def __init__(
        self,
        error: str,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        extra: JSON | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


def _missing(name: str) -> _ApiError:
    return _ApiError(
        "invalid_arguments",
        extra={"response_metadata": {"messages": [f"[ERROR] missing required field: {name}"]}},
    )


# --------------------------------------------------------------------------------------------------
# argument coercion (form and query values are strings, JSON values are typed)


def _opt_str(args: Mapping[str, Any], key: str) -> str | None:
    value = args.get(key)
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _req_str(args: Mapping[str, Any], key: str) -> str:
    value = _opt_str(args, key)
    if not value:
        raise _missing(key)
    return value


def _opt_bool(args: Mapping[str, Any], key: str) -> bool | None:
    value = args.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes"}


def _int_arg(args: Mapping[str, Any], key: str, default: int) -> int:
    value = args.get(key)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _ApiError("invalid_arguments") from None


def _json_list(args: Mapping[str, Any], key: str, *, bad_format_error: str) -> list[Any] | None:
    value = args.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            return []
        try:
            value = json.loads(value)
        except ValueError:
            raise _ApiError(bad_format_error) from None
    if not isinstance(value, list):
        raise _ApiError(bad_format_error)
    return value


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    return int(seconds), int((micros or "0").ljust(6, "0")[:6])


def _encode_cursor(ts: str) -> str:
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def _decode_cursor(cursor: str) -> str:
    try:
        decoded = base64.b64decode(cursor.encode(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise _ApiError("invalid_cursor") from None
    prefix, _, ts = decoded.partition(":")
    if prefix != "next_ts" or not re.fullmatch(r"\d+\.\d{6}", ts):
        raise _ApiError("invalid_cursor")
    return ts
