"""The fake Zendesk's aiohttp server: the Help Center routes (authentication, visibility and pagination)
and the Support API's ticket creation (``fakes.zendesk.support``)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from yarl import URL

from fakes.http_server import HttpFake
from fakes.zendesk.help_center import FakeArticle, FakeSection, demo_help_center
from fakes.zendesk.support import RECORD_INVALID, FakeTicket, new_ticket

DEFAULT_LOCALE = "en-us"
#: The API's page sizes: 30 items by default (offset pagination), at most 100 (both kinds).
DEFAULT_PER_PAGE = 30
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    query: dict[str, str]
    authorization: str | None  # "agent", "anonymous" or "refused"


class FakeZendesk(HttpFake):
    """A Help Center on 127.0.0.1 (see the package docstring)."""

    def __init__(self, email: str = "bot@acme.example", token: str = "zd-secret-token-123") -> None:
        self.email = email
        self.token = token
        self.sections, self.articles = demo_help_center()
        self.locales = ("en-us", "de")
        self.requests: list[RecordedRequest] = []
        self.tickets: list[FakeTicket] = []
        #: False: ``page[size]`` is ignored and every list is offset-paginated (as some endpoints are).
        self.cursor_pagination = True
        self._failures: list[int | None] = []

    def fail_next(self, status: int, times: int = 1, after: int = 0) -> None:
        """Answer ``times`` requests with ``status`` (and Zendesk's error body for it), after ``after`` more
        requests answered as usual."""
        self._failures.extend([None] * after + [status] * times)

    def article(self, article_id: int) -> FakeArticle:
        return next(article for article in self.articles if article.id == article_id)

    def _app(self) -> web.Application:
        app = web.Application()
        for kind in ("articles", "sections"):
            for path in (f"/api/v2/help_center/{kind}", f"/api/v2/help_center/{{locale}}/{kind}"):
                app.router.add_get(path, self._handle)
                app.router.add_get(path + ".json", self._handle)
        app.router.add_post("/api/v2/tickets", self._create_ticket)
        app.router.add_post("/api/v2/tickets.json", self._create_ticket)
        return app

    # ---- handling ------------------------------------------------------------------------------------

    def _authorization(self, request: web.Request) -> str:
        header = request.headers.get("Authorization")
        if header is None:
            return "anonymous"
        expected = base64.b64encode(f"{self.email}/token:{self.token}".encode()).decode()
        return "agent" if header == f"Basic {expected}" else "refused"

    async def _handle(self, request: web.Request) -> web.Response:
        who = self._authorization(request)
        self.requests.append(RecordedRequest(request.path, dict(request.query), who))
        status = self._failures.pop(0) if self._failures else None
        if status is not None:
            return web.json_response(_error_body(status), status=status)
        if who == "refused":
            return web.json_response(_error_body(401), status=401)
        locale = request.match_info.get("locale", DEFAULT_LOCALE).lower()
        if locale not in self.locales:
            return web.json_response(_error_body(404), status=404)
        kind = "sections" if "/sections" in request.path else "articles"
        items: list[Any]
        if kind == "sections":
            items = [section for section in self.sections if section.locale == locale]
        else:
            items = [
                article
                for article in self.articles
                if article.locale == locale and (who == "agent" or not (article.draft or article.restricted))
            ]
        return self._page(request, kind, items)

    async def _create_ticket(self, request: web.Request) -> web.Response:
        who = self._authorization(request)
        self.requests.append(RecordedRequest(request.path, dict(request.query), who))
        status = self._failures.pop(0) if self._failures else None
        if status is not None:
            return web.json_response(_error_body(status), status=status)
        if who != "agent":
            return web.json_response(_error_body(401), status=401)
        try:
            body = json.loads(await request.text())
        except ValueError:
            return web.json_response(_error_body(400), status=400)
        ticket = new_ticket(len(self.tickets) + 1, body)
        if ticket is None:
            return web.json_response(RECORD_INVALID, status=422)
        self.tickets.append(ticket)
        return web.json_response({"ticket": ticket.json(self.base_url)}, status=201)

    def _page(
        self, request: web.Request, kind: str, items: list[FakeArticle] | list[FakeSection]
    ) -> web.Response:
        url = URL(self.base_url).with_path(request.path)
        if self.cursor_pagination and "page[size]" in request.query:
            size = int(request.query["page[size]"])
            if not 1 <= size <= MAX_PAGE_SIZE:
                return web.json_response(_error_body(400), status=400)
            start = _decode_cursor(request.query.get("page[after]"))
            chunk = items[start : start + size]
            has_more = start + size < len(items)
            after = _encode_cursor(start + size) if chunk else None
            before = _encode_cursor(start) if chunk else None
            body: dict[str, object] = {
                kind: [item.json(self.base_url) for item in chunk],
                "meta": {"has_more": has_more, "after_cursor": after, "before_cursor": before},
                "links": {
                    "next": str(url.with_query({"page[size]": size, "page[after]": after}))
                    if has_more
                    else None,
                    "prev": str(url.with_query({"page[size]": size, "page[before]": before}))
                    if start
                    else None,
                },
            }
            return web.json_response(body)
        page = int(request.query.get("page", "1"))
        per_page = min(int(request.query.get("per_page", DEFAULT_PER_PAGE)), MAX_PAGE_SIZE)
        chunk = items[(page - 1) * per_page : page * per_page]
        page_count = max(1, -(-len(items) // per_page))
        body = {
            kind: [item.json(self.base_url) for item in chunk],
            "page": page,
            "per_page": per_page,
            "page_count": page_count,
            "count": len(items),
            "next_page": str(url.with_query({"page": page + 1, "per_page": per_page}))
            if page < page_count
            else None,
            "previous_page": str(url.with_query({"page": page - 1, "per_page": per_page}))
            if page > 1
            else None,
            "sort_by": "position",
            "sort_order": "asc",
        }
        return web.json_response(body)


def _encode_cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"index:{index}".encode()).decode()


def _decode_cursor(cursor: str | None) -> int:
    return int(base64.urlsafe_b64decode(cursor.encode()).decode().split(":")[1]) if cursor else 0


def _error_body(status: int) -> dict[str, object]:
    """The error bodies Zendesk answers with."""
    if status == 401:
        return {"error": "Couldn't authenticate you"}
    if status == 404:
        return {"error": "RecordNotFound", "description": "Not found"}
    if status == 429:
        return {"error": "TooManyRequests", "description": "Rate limit exceeded"}
    if status == 400:
        return {"error": "InvalidPaginationParameter", "description": "page[size] must be between 1 and 100"}
    return {"error": "InternalError", "description": "Something went wrong"}
