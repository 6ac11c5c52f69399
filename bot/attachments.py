"""Files people share with a question, as the model reads them (docs/architecture.md §4 step 5).

A front end downloads a shared file (within :data:`LIMITS`) and turns it into Messages API content that
goes with the asker's turn: an image (PNG, JPEG, GIF, WebP) as an ``image`` block, a PDF as a
``document`` block, a text or code file as a ``text`` block with its content in a fence (masked like
people's text, cut to :data:`MAX_TEXT_CHARS`). A file that is not read (too big, past the first
``LIMITS.files`` of a message, of a type the model does not take, failed to download) becomes a short
``text`` note saying why, so the answer can tell the asker. :class:`FileReading` is that reading for
every front end: each file is checked against the limits before it is downloaded (its size as the
platform gives it) and while it is read (:func:`read_within`), so a file that lied about its size costs
at most the limit and one more chunk; the files read for one answer share ``LIMITS.message_bytes`` and
:data:`READING_SECONDS`. The kind of an image or PDF is read from its first bytes, not taken from the
name or the claimed type (the API refuses an image whose declared type is not its real one).

Files are never stored: the turn's text keeps a line naming each file (:func:`file_line`), so later
turns know a file was shared and what it was called; its content goes to the model only while the
platform has it: on Slack with the answer to the message that shared it, on Discord with the answers in
its thread (read again from Discord's CDN, or from ``integrations.discord.history``'s bounded cache).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from collections.abc import AsyncIterable, Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import PurePosixPath
from typing import Any, Generic, Protocol, TypeVar

from bot.masking import mask

log = logging.getLogger(__name__)

Block = dict[str, Any]


class FileKind(Enum):
    IMAGE = "image"
    PDF = "pdf"
    TEXT = "text"
    OTHER = "other"


@dataclass(frozen=True)
class FileLimits:
    """Bytes of one file read, by kind, and of all the files of one message together."""

    image_bytes: int = 3_750_000
    """An image the API takes: 5 MB once base64-encoded."""
    pdf_bytes: int = 10_000_000
    text_bytes: int = 256 * 1024
    message_bytes: int = 20_000_000
    """All files of one message together (a request may be at most 32 MB, base64 adds a third)."""
    files: int = 5
    """Files read per message; the others are named only."""

    def for_kind(self, kind: FileKind) -> int:
        return {FileKind.IMAGE: self.image_bytes, FileKind.PDF: self.pdf_bytes}.get(kind, self.text_bytes)


LIMITS = FileLimits()
MAX_PDF_PAGES = 100
"""The pages of a PDF the API takes in one request."""
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
MAX_TEXT_CHARS = 8000
"""Characters of one text file given to the model."""
DOWNLOAD_SECONDS = 20.0
"""Seconds one file may take to download."""
READING_SECONDS = 30.0
"""Seconds all the files read for one answer may take (the answer waits for them)."""
CHUNK_BYTES = 64 * 1024
"""Bytes read from a download at a time."""


def fenced_text(heading: str, text: str) -> str:
    """A text file as the model reads it: ``[heading]`` (``(cut)`` added when the text is cut to
    :data:`MAX_TEXT_CHARS`), then the text in a fence that a fence inside it cannot close."""
    cut = " (cut)" if len(text) > MAX_TEXT_CHARS else ""
    fence = "````" if "```" in text else "```"
    body = text[:MAX_TEXT_CHARS].rstrip("\n")
    return f"[{heading}{cut}]\n{fence}\n{body}\n{fence}"


IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
TEXT_TYPES = frozenset({"application/json", "application/xml", "application/x-yaml", "application/yaml"})
TEXT_SUFFIXES = frozenset(
    {".txt", ".log", ".md", ".csv", ".json", ".yaml", ".yml", ".xml", ".ini", ".toml", ".cfg", ".conf"}
    | {".py", ".js", ".ts", ".java", ".go", ".rs", ".rb", ".php", ".sql", ".sh", ".html", ".css"}
)
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)


def claimed_kind(name: str, mimetype: str | None) -> FileKind:
    """What a file says it is (its name and type), to decide whether to download it at all."""
    if claims_image(mimetype):
        return FileKind.IMAGE
    if _media_type(mimetype) == "application/pdf" or PurePosixPath(name).suffix.lower() == ".pdf":
        return FileKind.PDF
    if claims_text(name, mimetype):
        return FileKind.TEXT
    return FileKind.OTHER


def claims_image(mimetype: str | None) -> bool:
    """Whether a file's type says it is an image the model takes."""
    return _media_type(mimetype) in IMAGE_TYPES


def claims_text(name: str, mimetype: str | None) -> bool:
    """Whether a file says it is text or code the model can read: by its type or its name's suffix."""
    kind = _media_type(mimetype)
    return (
        kind.startswith("text/") or kind in TEXT_TYPES or PurePosixPath(name).suffix.lower() in TEXT_SUFFIXES
    )


def _media_type(mimetype: str | None) -> str:
    """A claimed type without its parameters, in lower case ("" for none)."""
    return (mimetype or "").split(";")[0].strip().lower()


def sniffed_type(data: bytes) -> str | None:
    """The media type an image or PDF's first bytes show, or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((media for magic, media in _MAGIC if data.startswith(magic)), None)


def content_block(name: str, kind: FileKind, data: bytes) -> Block:
    """The block that gives the model ``data`` (a file of ``kind`` by its claim), or a note why not."""
    media = sniffed_type(data)
    if kind is FileKind.IMAGE and media is not None and media.startswith("image/"):
        return _base64_block("image", media, data)
    if kind is FileKind.PDF and media == "application/pdf":
        if pdf_pages(data) > MAX_PDF_PAGES:
            return skipped_note(name, f"it has more than {MAX_PDF_PAGES} pages")
        return _base64_block("document", media, data)
    if kind is FileKind.TEXT and b"\x00" not in data:
        return {
            "type": "text",
            "text": fenced_text(f"content of {name}", mask(data.decode("utf-8", errors="replace"))),
        }
    return skipped_note(name, "its content is not what its type says")


def pdf_pages(data: bytes) -> int:
    """The pages a PDF's bytes show (pages in compressed object streams are not seen)."""
    return len(_PDF_PAGE.findall(data))


def skipped_note(name: str, why: str) -> Block:
    """The note that stands in the model's context for a file that was not read."""
    return {"type": "text", "text": f"[{name} was not read: {why}]"}


def file_line(name: str, mimetype: str | None, size: int) -> str:
    """The line naming a shared file in its turn's text (stored)."""
    kind = (mimetype or "").split(";")[0].strip() or "file"
    return f"[attached: {name} ({kind}, {size_text(size)})]"


def size_text(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def _base64_block(kind: str, media: str, data: bytes) -> Block:
    encoded = base64.b64encode(data).decode("ascii")
    return {"type": kind, "source": {"type": "base64", "media_type": media, "data": encoded}}


class DownloadError(Exception):
    """A file could not be downloaded (said briefly, for the model's note)."""


class SharedFile(Protocol):
    """A file shared on a platform, as the platform describes it (before it is downloaded)."""

    @property
    def name(self) -> str: ...

    @property
    def mimetype(self) -> str | None: ...

    @property
    def size(self) -> int: ...


F = TypeVar("F", bound=SharedFile)


class FileReading(Generic[F]):
    """The files read for one answer (see the module docstring), downloaded by ``download(file, limit,
    seconds)``: at most ``limit`` bytes (:func:`read_within`) within ``seconds``, or :class:`DownloadError`.

    :meth:`blocks` may be called for several messages; they share what is left of
    ``limits.message_bytes`` and of the time, so read the message answered first."""

    def __init__(
        self,
        download: Callable[[F, int, float], Awaitable[bytes]],
        *,
        limits: FileLimits = LIMITS,
        seconds: float = READING_SECONDS,
    ) -> None:
        self._download = download
        self._limits = limits
        self._left = limits.message_bytes
        self._pages_left = MAX_PDF_PAGES  # the API's limit is per request, not per file
        self._clock = asyncio.get_running_loop().time
        self._deadline = self._clock() + seconds

    async def blocks(self, files: Sequence[F]) -> list[Block]:
        """A block for each of one message's files, in order: its content, or a note why it was not read."""
        out: list[Block] = []
        for index, file in enumerate(files):
            kind = claimed_kind(file.name, file.mimetype)
            limit = min(self._limits.for_kind(kind), self._left)
            why = self._not_read(index, file, kind, limit)
            if why is not None:
                out.append(skipped_note(file.name, why))
                continue
            try:
                seconds = min(DOWNLOAD_SECONDS, self._deadline - self._clock())
                data = await self._download(file, limit, seconds)
            except DownloadError as exc:
                log.warning("could not download a shared file: %s", exc)
                out.append(skipped_note(file.name, f"the download failed ({exc})"))
                continue
            self._left -= len(data)
            pages = pdf_pages(data) if kind is FileKind.PDF else 0
            if self._pages_left < pages <= MAX_PDF_PAGES:
                together = f"the PDFs read for this answer together have more than {MAX_PDF_PAGES} pages"
                out.append(skipped_note(file.name, together))
                continue
            self._pages_left -= min(pages, self._pages_left)
            out.append(content_block(file.name, kind, data))
        return out

    def _not_read(self, index: int, file: F, kind: FileKind, limit: int) -> str | None:
        """Why ``file`` (the ``index``-th of its message) is not downloaded at all, or None."""
        if index >= self._limits.files:
            return f"only {self._limits.files} files are read per message"
        if kind is FileKind.OTHER:
            return f"the type {file.mimetype or 'unknown'} cannot be read"
        most = self._limits.for_kind(kind)
        if file.size > most:
            return f"it is too big ({size_text(file.size)}; the limit is {size_text(most)})"
        if file.size > limit:
            return "the files read for this answer together are too big"
        if self._clock() >= self._deadline:
            return "the time for reading the shared files ran out"
        return None


async def read_within(chunks: AsyncIterable[bytes], limit: int) -> bytes:
    """The bytes of a download, or :class:`DownloadError` as soon as they pass ``limit``."""
    data = bytearray()
    async for chunk in chunks:
        data += chunk
        if len(data) > limit:
            raise DownloadError(f"larger than {size_text(limit)}")
    return bytes(data)
