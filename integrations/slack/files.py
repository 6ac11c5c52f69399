"""Downloading the files shared with a Slack message (``files:read``), for the model (``bot.attachments``).

A file's ``url_private_download`` (or ``url_private``) needs the bot token in the ``Authorization``
header. The token goes only to Slack's file host: ``https://files.slack.com``, or the origin (scheme,
host and port) of ``SLACK_API_URL`` when that points at a proxy or a local fake. Redirects are followed
by hand (at most :data:`MAX_REDIRECTS`): the header goes along only while the redirect stays on such an
origin, so a file host that sends the download elsewhere (a CDN) never hands the token on. A file
whose address is on no such origin is not downloaded.

The files of a message are read one after the other (``bot.attachments.FileReading``: the limits, the
time, the notes for the files not read).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urljoin, urlsplit

import aiohttp

from bot.attachments import (
    CHUNK_BYTES,
    DOWNLOAD_SECONDS,
    LIMITS,
    Block,
    DownloadError,
    FileLimits,
    FileReading,
    read_within,
)
from integrations.slack.inbound import SlackFile

SLACK_FILE_HOST = "https://files.slack.com"
MAX_REDIRECTS = 3


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
        return await FileReading(self._download_file, limits=self._limits).blocks(files)

    async def _download_file(self, file: SlackFile, limit: int, seconds: float) -> bytes:
        if file.url is None:
            raise DownloadError("Slack gave no address to download it from")
        return await self.download(file.url, limit, seconds)

    async def download(self, url: str, limit: int, seconds: float = DOWNLOAD_SECONDS) -> bytes:
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
                    return await read_within(response.content.iter_chunked(CHUNK_BYTES), limit)
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise DownloadError(type(exc).__name__) from None
        raise DownloadError("too many redirects")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"https": 443, "http": 80}.get(scheme)
    except ValueError:
        return ("", "", None)
    return scheme, (parts.hostname or "").lower(), port
