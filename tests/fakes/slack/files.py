"""Files shared in the fake workspace: the file objects on messages and the file host that serves them.

``url_private`` and ``url_private_download`` point at the fake's own origin (``/files-pri/...``), which
plays ``files.slack.com``: with the bot token in the ``Authorization`` header it answers the bytes, with
none or a wrong one it answers a sign-in page (200, HTML), as Slack does. :meth:`FilesRoutes.redirect_files`
makes it answer every download with a redirect (to another origin, e.g. a :class:`FileHost`, or to its
own ``/files-tmb/`` path). Every request is recorded as a :class:`FileRequest`.

:class:`FileHost` is another host (its own port on 127.0.0.1) that serves the same files and records
every ``Authorization`` header it is sent: the token must never reach it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from fakes.http_server import HttpFake

from .state import JSON, FakeFile

SIGN_IN_PAGE = "<!DOCTYPE html><html><body>Sign in to Fake Workspace</body></html>"


@dataclass(frozen=True)
class FileRequest:
    """One request to a file host."""

    path: str
    authorization: str | None


def file_json(file: FakeFile, base_url: str, team_id: str) -> JSON:
    """The file object Slack puts in a message's ``files`` (events and ``conversations.*``)."""
    private = f"{base_url}/files-pri/{team_id}-{file.id}/{file.name}"
    return {
        "id": file.id,
        "created": 1_700_000_000,
        "timestamp": 1_700_000_000,
        "name": file.name,
        "title": file.name,
        "mimetype": file.mimetype,
        "filetype": file.filetype,
        "pretty_type": file.filetype.upper(),
        "user": file.user,
        "mode": "hosted",
        "editable": False,
        "is_external": False,
        "external_type": "",
        "size": file.size,
        "url_private": private,
        "url_private_download": f"{base_url}/files-pri/{team_id}-{file.id}/download/{file.name}",
        "permalink": f"{base_url}/files/{file.user}/{file.id}/{file.name}",
        "is_public": False,
    }


class FilesRoutes:
    """The fake's file host (a mixin of ``FakeSlack``)."""

    files: dict[str, FakeFile]
    file_requests: list[FileRequest]
    valid_tokens: set[str]
    _file_redirect: str | None

    def redirect_files(self, base_url: str | None) -> None:
        """Answer every download with a 302 to ``base_url`` + the file's ``/files-tmb/`` path (None: serve
        them again); ``base_url`` may be the fake's own (which still wants the token) or another host's."""
        self._file_redirect = base_url.rstrip("/") if base_url else None

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        authorization = request.headers.get("Authorization")
        self.file_requests.append(FileRequest(request.path, authorization))
        if self._file_redirect is not None and request.path.startswith("/files-pri/"):
            # Slack's file host sends a download on to a thumbnail/CDN path.
            raise web.HTTPFound(self._file_redirect + request.path.replace("/files-pri/", "/files-tmb/", 1))
        file = _file_at(self.files, request.match_info["key"])
        if file is None:
            raise web.HTTPNotFound()
        token = (authorization or "").removeprefix("Bearer ")
        if token not in self.valid_tokens:
            return web.Response(text=SIGN_IN_PAGE, content_type="text/html")
        return web.Response(body=file.data, content_type=file.mimetype)


class FileHost(HttpFake):
    """Another host serving the files of a fake workspace without any auth; records what it is sent."""

    def __init__(self, files: Mapping[str, FakeFile]) -> None:
        self._files = files
        self.requests: list[FileRequest] = []

    def _app(self) -> web.Application:
        app = web.Application()
        add_file_routes(app, self._handle)
        return app

    @property
    def authorizations(self) -> list[str]:
        """Every ``Authorization`` header this host was sent."""
        return [r.authorization for r in self.requests if r.authorization is not None]

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append(FileRequest(request.path, request.headers.get("Authorization")))
        file = _file_at(self._files, request.match_info["key"])
        if file is None:
            raise web.HTTPNotFound()
        return web.Response(body=file.data, content_type=file.mimetype)


def _file_at(files: Mapping[str, FakeFile], key: str) -> FakeFile | None:
    """The file of a ``TEAM-FILEID`` path segment."""
    _, _, file_id = key.partition("-")
    return files.get(file_id)


def add_file_routes(app: web.Application, handler: Callable[[web.Request], Awaitable[Any]]) -> None:
    """The file host's routes: ``/files-pri/TEAM-FILEID/[download/]NAME`` (and ``/files-tmb/``)."""
    app.router.add_get(r"/{prefix:files-(?:pri|tmb)}/{key}/{rest:.*}", handler)
