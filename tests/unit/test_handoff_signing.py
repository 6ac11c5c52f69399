"""The hand-off's webhook signature (``bot.handoff.signing``) and the transcript's bounds
(``bot.handoff.payload``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

from bot.handoff.payload import transcript
from bot.handoff.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ZENDESK_SIGNATURE_HEADER,
    ZENDESK_TIMESTAMP_HEADER,
    signed_headers,
    verify,
)
from bot.types import Turn

SECRET = "whsec-0123456789"
BODY = b'{"escalation_id":7}'
NOW = 1_800_000_000


def test_the_signature_is_the_documented_hmac_of_timestamp_dot_body() -> None:
    headers = signed_headers(SECRET, NOW, BODY)
    digest = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert headers == {TIMESTAMP_HEADER: str(NOW), SIGNATURE_HEADER: f"v1={digest}"}
    assert verify(SECRET, headers, BODY, NOW + 299, 300)


def test_a_changed_body_another_secret_a_stale_or_missing_timestamp_are_refused() -> None:
    headers = signed_headers(SECRET, NOW, BODY)
    assert not verify(SECRET, headers, BODY + b" ", NOW, 300)
    assert not verify("another-secret", headers, BODY, NOW, 300)
    assert not verify(SECRET, headers, BODY, NOW + 301, 300)
    assert not verify(SECRET, headers, BODY, NOW - 301, 300)  # from the future
    assert not verify(SECRET, {SIGNATURE_HEADER: headers[SIGNATURE_HEADER]}, BODY, NOW, 300)
    assert not verify(SECRET, {**headers, TIMESTAMP_HEADER: "-5"}, BODY, NOW, 300)
    assert not verify(SECRET, {TIMESTAMP_HEADER: str(NOW)}, BODY, NOW, 300)


def turn(role: str, text: str) -> Turn:
    return Turn(role, "ann" if role == "user" else "bot", text, "m1", datetime(2026, 1, 2, tzinfo=UTC))  # type: ignore[arg-type]


def test_the_transcript_keeps_the_newest_turns_within_its_bounds_with_people_masked() -> None:
    turns = [turn("user", "first"), turn("assistant", "second"), turn("user", "card 4242 4242 4242 4242")]
    kept, cut = transcript(turns, 10, 1000)
    assert [t["text"] for t in kept] == ["first", "second", "card [card ending 4242]"] and not cut
    kept, cut = transcript(turns, 2, 1000)
    assert [t["text"] for t in kept] == ["second", "card [card ending 4242]"] and cut
    kept, cut = transcript(turns, 10, 30)
    assert [t["text"] for t in kept] == ["f", "second", "card [card ending 4242]"] and cut
    assert sum(len(t["text"]) for t in kept) <= 30
    assert transcript(turns, 0, 1000) == ([], True)


def test_zendesk_signed_calls_are_verified_as_zendesk_documents() -> None:
    stamp = datetime.fromtimestamp(NOW, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = base64.b64encode(
        hmac.new(SECRET.encode(), stamp.encode() + BODY, hashlib.sha256).digest()
    ).decode()
    headers = {ZENDESK_SIGNATURE_HEADER: digest, ZENDESK_TIMESTAMP_HEADER: stamp}
    assert verify(SECRET, headers, BODY, NOW + 10, 300)
    assert not verify(SECRET, headers, BODY + b" ", NOW, 300)
    assert not verify("another-secret", headers, BODY, NOW, 300)
    assert not verify(SECRET, headers, BODY, NOW + 301, 300)
    assert not verify(SECRET, {**headers, ZENDESK_TIMESTAMP_HEADER: "2026-13-01T00:00:00Z"}, BODY, NOW, 300)
    assert not verify(SECRET, {**headers, ZENDESK_TIMESTAMP_HEADER: "2027-01-15T08:00:00"}, BODY, NOW, 300)
