"""The fake Messages API refuses image and document blocks the way the API does."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from fakes.anthropic import validate_messages_request

PNG = b"\x89PNG\r\n\x1a\n" + bytes(16)


def request(*blocks: dict[str, Any], role: str = "user") -> dict[str, Any]:
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": [*blocks]}]
    if role == "user":
        messages = [{"role": "user", "content": [{"type": "text", "text": "look"}, *blocks]}]
    return {"model": "m", "max_tokens": 10, "messages": messages}


def source(media: str, data: bytes) -> dict[str, Any]:
    return {"type": "base64", "media_type": media, "data": base64.b64encode(data).decode()}


def test_good_image_and_document_blocks_pass() -> None:
    image = {"type": "image", "source": source("image/png", PNG)}
    pdf = {"type": "document", "source": source("application/pdf", b"%PDF-1.4\n")}
    by_url = {"type": "image", "source": {"type": "url", "url": "https://cdn.example/a.png"}}
    assert validate_messages_request(request(image, pdf, by_url)) == []


@pytest.mark.parametrize(
    ("block", "role", "error"),
    [
        ({"type": "image", "source": source("image/png", b"\xff\xd8\xff")}, "user", "does not match"),
        ({"type": "image", "source": source("image/svg+xml", b"<svg/>")}, "user", "media_type"),
        ({"type": "document", "source": source("application/pdf", b"hello")}, "user", "does not match"),
        (
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "@@"}},
            "user",
            "base64",
        ),
        ({"type": "image", "source": source("image/png", PNG)}, "assistant", "only appear in user messages"),
        (
            {"type": "image", "source": source("image/png", PNG + bytes(4 * 1024 * 1024))},
            "user",
            "exceeds 5 MB",
        ),
    ],
)
def test_bad_image_and_document_blocks_are_refused(block: dict[str, Any], role: str, error: str) -> None:
    errors = validate_messages_request(request(block, role=role))
    assert any(error in e for e in errors), errors
