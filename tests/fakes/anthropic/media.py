"""The checks the Messages API makes on ``image`` and ``document`` blocks (their sources)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

IMAGE_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
MAX_IMAGE_BASE64 = 5 * 1024 * 1024
"""An image's base64 data may be at most 5 MB."""
MAX_PDF_BASE64 = 32 * 1024 * 1024
_MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
}


def check_media_block(block: dict[str, Any], role: str, path: str, errors: list[str]) -> None:
    """The problems of an ``image`` or ``document`` block, as the API words them."""
    kind = block["type"]
    if role != "user":
        errors.append(f"{path}: {kind} blocks may only appear in user messages")
    source = block.get("source")
    if not isinstance(source, dict) or not isinstance(source.get("type"), str):
        errors.append(f"{path}.source: Field required")
        return
    spath = f"{path}.source"
    stype = source["type"]
    if stype == "url":
        if not isinstance(source.get("url"), str) or not source["url"].startswith(("http://", "https://")):
            errors.append(f"{spath}.url: Input should be a valid URL")
        return
    if stype == "text" and kind == "document":
        if source.get("media_type") != "text/plain" or not isinstance(source.get("data"), str):
            errors.append(f"{spath}: text sources need media_type 'text/plain' and string data")
        return
    if stype != "base64":
        errors.append(f"{spath}.type: Input tag {stype!r} is not a {kind} source type")
        return
    media, data = source.get("media_type"), source.get("data")
    allowed = IMAGE_MEDIA_TYPES if kind == "image" else ("application/pdf",)
    if media not in allowed:
        errors.append(f"{spath}.media_type: Input should be {' or '.join(repr(m) for m in allowed)}")
        return
    if not isinstance(data, str) or not data:
        errors.append(f"{spath}.data: Field required")
        return
    limit = MAX_IMAGE_BASE64 if kind == "image" else MAX_PDF_BASE64
    if len(data) > limit:
        errors.append(f"{spath}.{kind}: {kind} exceeds {limit // 1024 // 1024} MB maximum: {len(data)} bytes")
        return
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        errors.append(f"{spath}.data: invalid base64 data")
        return
    if not _matches(raw, str(media)):
        errors.append(f"{spath}: {kind} does not match the provided media type {media}")


def _matches(raw: bytes, media: str) -> bool:
    if media == "image/webp":
        return raw[:4] == b"RIFF" and raw[8:12] == b"WEBP"
    return raw.startswith(_MAGIC[media])
