"""Downloading the files shared with a Slack message (``files:read``), for the model (``bot.attachments``).

A file's ``url_private_download`` (or ``url_private``) needs the bot token in the ``Authorization``
header. The token goes only to Slack's file host: ``https://files.slack.com``, or the origin (scheme,
host and port) of ``SLACK_API_URL`` when that points at a proxy or a local fake. Redirects are followed
by hand (at most :data:`MAX_REDIRECTS`): the header goes along only while the redirect stays on such an
origin, so a file host that sends the download elsewhere (a CDN) never hands the token on. A file
whose address is on no such origin is not downloaded.

The files of a message are read one after the other, within :data:`MESSAGE_DOWNLOAD_SECONDS` together.
Each file is checked against the limits before it is downloaded (its ``size`` as Slack gives it) and
while it is read, so a file that lied about its size costs at most the limit and one more chunk.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from urllib.parse import urljoin, urlsplit

import aiohttp

from bot.attachments import (
    LIMITS,
    Block,
    FileKind,
    FileLimits,
    claimed_kind,
    content_block,
    size_text,
    skipped_note,
)
from integrations.slack.inbound import SlackFile

log = logging.getLogger(__name__)

SLACK_FILE_HOST = "https://files.slack.com"
MAX_REDIRECTS = 3
DOWNLOAD_TIMEOUT = 20.0
"""Seconds one file may take, redirects included."""
MESSAGE_DOWNLOAD_SECONDS = 30.0
"""Seconds all the files of one message may take (the answer waits for them)."""
_CHUNK = 64 * 1024


class DownloadError(Exception):
    """The file could not be downloaded (said briefly, for the model's note)."""


class SlackFiles:
    """Reads the files of a message with the bot token (see the module docstring)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token: str,
        api_url: str,
        *,
        limits: FileLimits = LIMITS,
    ) -> None:
        self._session = session
        self._token = token
        self._origins = {_origin(SLACK_FILE_HOST), _origin(api_url)}
        self._limits = limits

    async def blocks(self, files: Sequence[SlackFile]) -> list[Block]:
        """A block for each file, in order: its content for the model, or a note why it was not read."""
        out: list[Block] = []
        left = self._limits.message_bytes
        clock = asyncio.get_running_loop().time
        deadline = clock() + MESSAGE_DOWNLOAD_SECONDS
        for index, file in enumerate(files):
            kind = claimed_kind(file.name, file.mimetype)
            limit = min(self._limits.for_kind(kind), left)
            why = self._not_read(index, file, kind, limit) or (
                "the time for reading the message's files ran out" if clock() >= deadline else None
            )
            if why is not None or file.url is None:
                out.append(skipped_note(file.name, why or "Slack gave no address to download it from"))
                continue
            try:
                data = await self.download(file.url, limit, min(DOWNLOAD_TIMEOUT, deadline - clock()))
            except DownloadError as exc:
                log.warning("could not download a shared file: %s", exc)
                out.append(skipped_note(file.name, f"the download failed ({exc})"))
                continue
            left -= len(data)
            out.append(content_block(file.name, kind, data))
        return out

    def _not_read(self, index: int, file: SlackFile, kind: FileKind, limit: int) -> str | None:
        """Why ``file`` (the ``index``-th of its message) is not downloaded at all, or None."""
        if index >= self._limits.files:
            return f"only {self._limits.files} files are read per message"
        if kind is FileKind.OTHER:
            return f"the type {file.mimetype or 'unknown'} cannot be read"
        most = self._limits.for_kind(kind)
        if file.size > most:
            return f"it is too big ({size_text(file.size)}; the limit is {size_text(most)})"
        if file.size > limit:
            return "the message's files together are too big"
        return None

    async def download(self, url: str, limit: int, seconds: float = DOWNLOAD_TIMEOUT) -> bytes:
        """The bytes at ``url`` (at most ``limit``, within ``seconds`` a request), the token sent only to
        Slack's file host."""
        if _origin(url) not in self._origins:
            raise DownloadError("not on Slack's file host")
        timeout = aiohttp.ClientTimeout(total=seconds)
        for _ in range(MAX_REDIRECTS + 1):
            headers = {"Authorization": f"Bearer {self._token}"} if _origin(url) in self._origins else {}
            try:
                async with self._session.get(
                    url, headers=headers, allow_redirects=False, timeout=timeout
                ) as response:
                    if response.status in (301, 302, 303, 307, 308):
                        location = response.headers.get("Location")
                        if not location:
                            raise DownloadError("a redirect without a location")
                        url = urljoin(url, location)
                        if urlsplit(url).scheme not in ("http", "https"):
                            raise DownloadError("a redirect to another scheme")
                        continue
                    if response.status != 200:
                        raise DownloadError(f"HTTP {response.status}")
                    if "text/html" in response.headers.get("Content-Type", ""):
                        raise DownloadError("Slack answered with a page, not the file")  # a sign-in page
                    return await _read(response, limit)
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise DownloadError(type(exc).__name__) from None
        raise DownloadError("too many redirects")


async def _read(response: aiohttp.ClientResponse, limit: int) -> bytes:
    data = bytearray()
    async for chunk in response.content.iter_chunked(_CHUNK):
        data += chunk
        if len(data) > limit:
            raise DownloadError(f"larger than {size_text(limit)}")
    return bytes(data)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"https": 443, "http": 80}.get(scheme)
    except ValueError:
        return ("", "", None)
    return scheme, (parts.hostname or "").lower(), port
