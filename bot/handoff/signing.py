"""The signature of a helpdesk webhook, the same both ways.

A request carries ``X-Supportbot-Timestamp`` (Unix seconds) and ``X-Supportbot-Signature: v1=<hex>``, the
lowercase hex HMAC-SHA256, keyed with the shared secret, of the ASCII timestamp, a ``.``, and the raw body
bytes. A receiver recomputes it over the body as received, compares in constant time, and refuses a
timestamp more than its window away from its clock (a replayed old request).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

TIMESTAMP_HEADER = "X-Supportbot-Timestamp"
SIGNATURE_HEADER = "X-Supportbot-Signature"
VERSION = "v1="


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{VERSION}{digest}"


def signed_headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature(secret, timestamp, body)}


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float, window: float) -> bool:
    """The headers sign ``body`` with ``secret`` at a timestamp within ``window`` seconds of ``now``."""
    stamp = headers.get(TIMESTAMP_HEADER, "")
    given = headers.get(SIGNATURE_HEADER, "")
    if not stamp.isdigit() or len(stamp) > 12 or abs(now - int(stamp)) > window:
        return False
    return hmac.compare_digest(given.encode(), signature(secret, int(stamp), body).encode())
