"""What the Messages API says on the wire: accepted block types, error types and bodies, ids."""

from __future__ import annotations

import re
import uuid
from typing import Any, TypeAlias

JSON: TypeAlias = dict[str, Any]

NO_SCRIPTED_REPLY = "fake anthropic: no scripted reply left"

#: Content block types the fake accepts in request messages (anything else is a 400).
ACCEPTED_BLOCK_TYPES = frozenset({"text", "image", "tool_use", "tool_result", "search_result", "document"})
#: Block types allowed inside a ``tool_result``'s ``content`` list.
TOOL_RESULT_CONTENT_TYPES = frozenset({"text", "image", "search_result", "document"})
MAX_CACHE_BREAKPOINTS = 4

ERROR_TYPE_BY_STATUS: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
STATUS_BY_ERROR_TYPE: dict[str, int] = {v: k for k, v in ERROR_TYPE_BY_STATUS.items()}
DEFAULT_ERROR_MESSAGE: dict[str, str] = {
    "invalid_request_error": "Invalid request",
    "authentication_error": "invalid x-api-key",
    "billing_error": "Your credit balance is too low to access the Anthropic API.",
    "permission_error": "Your API key does not have permission to use the specified resource.",
    "not_found_error": "Not found",
    "request_too_large": "Request exceeds the maximum allowed number of bytes.",
    "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit",
    "api_error": "Internal server error",
    "timeout_error": "Request timed out",
    "overloaded_error": "Overloaded",
}

_TOOL_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")


def _new_id(prefix: str) -> str:
    return f"{prefix}_fake{uuid.uuid4().hex[:20]}"


def _error_body(error_type: str, message: str, request_id: str | None = None) -> JSON:
    body: JSON = {"type": "error", "error": {"type": error_type, "message": message}}
    if request_id is not None:
        body["request_id"] = request_id
    return body
