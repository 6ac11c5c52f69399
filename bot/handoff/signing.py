"""The signature of a helpdesk webhook.

Ours, the same both ways: a request carries ``X-Supportbot-Timestamp`` (Unix seconds) and
``X-Supportbot-Signature: v1=<hex>``, the lowercase hex HMAC-SHA256, keyed with the shared secret, of the
ASCII timestamp, a ``.``, and the raw body bytes. A receiver recomputes it over the body as received,
compares in constant time, and refuses a timestamp more than its window away from its clock (a replayed
old request).

Zendesk's, accepted inbound so that a Zendesk webhook can call ``POST /hooks/helpdesk`` directly:
``X-Zendesk-Webhook-Signature`` is the base64 HMAC-SHA256, keyed with the webhook's signing secret, of
``X-Zendesk-Webhook-Signature-Timestamp`` (ISO 8601) followed at once by the raw body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

TIMESTAMP_HEADER = "X-Supportbot-Timestamp"
SIGNATURE_HEADER = "X-Supportbot-Signature"
VERSION = "v1="
ZENDESK_SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
ZENDESK_TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
STAMP_CHARS = 40


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{VERSION}{digest}"


def signed_headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature(secret, timestamp, body)}


def zendesk_signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _zendesk_seconds(stamp: str) -> float | None:
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float, window: float) -> bool:
    """The headers sign ``body`` with ``secret`` (our scheme or Zendesk's) at a timestamp within ``window``
    seconds of ``now``."""
    if SIGNATURE_HEADER in headers:
        stamp = headers.get(TIMESTAMP_HEADER, "")
        if not stamp.isdigit() or len(stamp) > 12 or abs(now - int(stamp)) > window:
            return False
        expected = signature(secret, int(stamp), body)
        return hmac.compare_digest(headers[SIGNATURE_HEADER].encode(), expected.encode())
    if ZENDESK_SIGNATURE_HEADER in headers:
        stamp = headers.get(ZENDESK_TIMESTAMP_HEADER, "")[:STAMP_CHARS]
        seconds = _zendesk_seconds(stamp)
        if seconds is None or abs(now - seconds) > window:
            return False
        expected = zendesk_signature(secret, stamp, body)
        return hmac.compare_digest(headers[ZENDESK_SIGNATURE_HEADER].encode(), expected.encode())
    return False
