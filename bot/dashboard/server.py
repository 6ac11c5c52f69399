"""The dashboard's HTTP routes on ``supportbot serve``'s server: pages, CSV exports, sign-in, static files.

Every URL under ``/dashboard`` but the sign-in link and the style sheet wants a session: without one it
answers 401 with a page that says how to get a link. Without ``DASHBOARD_SECRET`` every URL answers 404
saying the dashboard is off. Pages are rendered by Jinja2 with autoescaping on; every response forbids
scripts, framing, caching and referrers; a POST must carry the session's CSRF token.

The session cookie is ``HttpOnly``, ``SameSite=Strict`` and, when the request came over HTTPS, ``Secure``.
HTTPS is read from the connection, from ``X-Forwarded-Proto`` (a TLS-terminating proxy in front, as on
Heroku) or from an ``https://`` ``PUBLIC_URL``. The header is taken on trust: a forged one can only add
``Secure``, which makes the cookie stricter, never weaker.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC
from importlib import resources
from typing import Any

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined

from bot.dashboard import pages
from bot.dashboard.auth import LOGIN_PATH, SESSION_TTL, DashboardAccess, LinkRefused, Session
from bot.dashboard.tables import Table, thread_cell
from bot.quality.drafts import DRAFTS_PATH, KbDrafting
from bot.store import DashboardStore

log = logging.getLogger(__name__)

PREFIX = "/dashboard"
DRAFTS = DRAFTS_PATH
TIME = "%Y-%m-%d %H:%M UTC"
DONE = {
    "saved": "Draft #{id} saved.",
    "published": "Draft #{id} published, {visibility}, as an article of the drafts source: searchable now.",
    "discarded": "Draft #{id} discarded.",
    "gone": "Draft #{id} is no longer waiting: another lead published or discarded it.",
    "empty": "Draft #{id} was not changed: it needs a title, a question and an article.",
}
"""What the KB drafts page says after a lead's action (``?done=…&draft=ID``)."""
COOKIE = "supportbot_dashboard"
STATIC = {"dashboard.css": "text/css"}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
NAV = (
    (PREFIX, "Overview"),
    (f"{PREFIX}/escalations", "Open escalations"),
    (f"{PREFIX}/not-helpful", "Not helpful"),
    (f"{PREFIX}/threads", "Costliest threads"),
    (f"{PREFIX}/gaps", "Coverage gaps"),
    (DRAFTS, "KB drafts"),
)
OFF = (
    "The dashboard is off: an operator sets DASHBOARD_SECRET (and PUBLIC_URL) to turn it on "
    "(README, Dashboard)."
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
TableSource = Callable[[DashboardStore, int], Awaitable[Table]]


def _escalations(store: DashboardStore, days: int) -> Awaitable[Table]:
    return pages.open_escalations(store)


def _drafts(store: DashboardStore, days: int) -> Awaitable[Table]:
    return pages.waiting_drafts(store)


TABLES: Mapping[str, TableSource] = {
    "escalations": _escalations,
    "threads": pages.costliest_threads,
    "not-helpful": pages.not_helpful,
    "gaps": pages.coverage_gaps,
    "kb-drafts": _drafts,
}
"""The list pages: each is ``/dashboard/NAME`` and ``/dashboard/NAME.csv``."""


class Dashboard:
    """The routes; ``access`` None: the dashboard is off and says so. ``drafts`` publishes KB drafts into the
    running bot's index (without one, the index picks them up when it next follows the store)."""

    def __init__(
        self, store: DashboardStore, access: DashboardAccess | None, drafts: KbDrafting | None = None
    ) -> None:
        self._store = store
        self._access = access
        self._drafts = drafts or KbDrafting(store)
        self._templates = Environment(
            loader=PackageLoader("bot.dashboard", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(LOGIN_PATH, self._login),
            web.get(PREFIX + "/static/{name}", self._static),
            web.get(PREFIX, self._signed_in(self._overview)),
            web.get(PREFIX + "/", self._signed_in(self._overview)),
            web.get(PREFIX + "/overview.csv", self._signed_in(self._overview_csv)),
            web.get(DRAFTS, self._signed_in(self._drafts_page)),
            web.post(DRAFTS + "/{id:[0-9]{1,12}}", self._signed_in(self._draft_action)),
            web.get(PREFIX + "/{name}.csv", self._signed_in(self._table_csv)),
            web.get(PREFIX + "/{name}", self._signed_in(self._table_page)),
            web.route("*", PREFIX + "/{tail:.*}", self._signed_in(self._not_found)),
        ]

    # Access.

    def _signed_in(self, handler: Callable[[web.Request, Session], Awaitable[web.StreamResponse]]) -> Handler:
        async def checked(request: web.Request) -> web.StreamResponse:
            if self._access is None:
                return self._page(
                    "Dashboard off", "message.html", status=404, message=OFF, how_to_sign_in=False
                )
            session = self._access.session(request.cookies.get(COOKIE))
            if session is None:
                return self._refused(
                    "You are not signed in, or your session is over (sessions last 8 hours)."
                )
            if request.method == "POST":
                form = await request.post()
                token = form.get("csrf")
                if not isinstance(token, str) or not self._access.csrf_ok(session, token):
                    return self._page(
                        "Refused",
                        "message.html",
                        status=403,
                        message="This form has expired: reload the page.",
                        how_to_sign_in=False,
                        session=session,
                    )
            return await handler(request, session)

        return checked

    async def _login(self, request: web.Request) -> web.StreamResponse:
        if self._access is None:
            return self._page("Dashboard off", "message.html", status=404, message=OFF, how_to_sign_in=False)
        try:
            session = await self._access.open_link(request.query.get("t", ""), self._store)
        except LinkRefused as refused:
            return self._refused(refused.refusal.value)
        log.info("dashboard: %s signed in", session.who)
        response = web.Response(status=303, headers={**SECURITY_HEADERS, "Location": PREFIX})
        response.set_cookie(
            COOKIE,
            self._access.cookie_value(session),
            max_age=int(SESSION_TTL.total_seconds()),
            path=PREFIX,
            httponly=True,
            samesite="Strict",
            secure=self._over_https(request),
        )
        return response

    def _over_https(self, request: web.Request) -> bool:
        forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
        public = self._access.public_url if self._access else None
        return request.secure or forwarded == "https" or (public or "").startswith("https://")

    def _refused(self, why: str) -> web.Response:
        return self._page("Sign-in needed", "message.html", status=401, message=why, how_to_sign_in=True)

    # Pages.

    async def _overview(self, request: web.Request, session: Session) -> web.StreamResponse:
        overview = await pages.overview(self._store, _days(request))
        return self._page(
            "Overview",
            "overview.html",
            session=session,
            here=PREFIX,
            overview=overview,
            max_days=pages.MAX_DAYS,
        )

    async def _overview_csv(self, request: web.Request, session: Session) -> web.StreamResponse:
        return _csv((await pages.overview(self._store, _days(request))).per_day)

    async def _table_page(self, request: web.Request, session: Session) -> web.StreamResponse:
        source = TABLES.get(request.match_info["name"])
        if source is None:
            return await self._not_found(request, session)
        table = await source(self._store, _days(request))
        return self._page(table.title, "list.html", session=session, here=request.path, table=table)

    async def _table_csv(self, request: web.Request, session: Session) -> web.StreamResponse:
        source = TABLES.get(request.match_info["name"])
        if source is None:
            return await self._not_found(request, session)
        return _csv(await source(self._store, _days(request)))

    async def _drafts_page(self, request: web.Request, session: Session) -> web.StreamResponse:
        assert self._access is not None  # signed in
        drafts = await self._drafts.waiting()
        done = DONE.get(request.query.get("done", ""))
        draft_id, visibility = request.query.get("draft", ""), request.query.get("visibility", "")
        message = None
        if done is not None and draft_id.isascii() and draft_id.isdigit():
            message = done.format(
                id=draft_id, visibility="internal" if visibility == "internal" else "public"
            )
        return self._page(
            "KB drafts",
            "drafts.html",
            session=session,
            here=DRAFTS,
            drafts=[(d, thread_cell(d.ref), d.updated_at.astimezone(UTC).strftime(TIME)) for d in drafts],
            table=pages.drafts_table(drafts),
            csrf=self._access.csrf_token(session),
            done=message,
        )

    async def _draft_action(self, request: web.Request, session: Session) -> web.StreamResponse:
        """Save, publish (saving the text first) or discard one draft; then back to the page, saying so."""
        draft_id = int(request.match_info["id"])
        form = await request.post()
        fields = {name: form.get(name) for name in ("action", "title", "question", "body", "visibility")}
        text = {name: value if isinstance(value, str) else "" for name, value in fields.items()}
        action, visibility = text["action"], text["visibility"]
        done = "gone"
        if action == "discard":
            done = "discarded" if await self._drafts.discard(draft_id, session.who) else "gone"
        elif action in ("save", "publish") and visibility in ("public", "internal"):
            if not all(text[name].strip() for name in ("title", "question", "body")):
                done = "empty"
            elif await self._drafts.edit(draft_id, text["title"], text["question"], text["body"]) is None:
                done = "gone"
            elif action == "save":
                done = "saved"
            else:
                published = await self._drafts.publish(
                    draft_id, "public" if visibility == "public" else "internal", session.who
                )
                done = "published" if published else "gone"
        else:
            return self._page(
                "Refused",
                "message.html",
                status=400,
                session=session,
                message="That is not something a draft can do.",
                how_to_sign_in=False,
            )
        location = f"{DRAFTS}?done={done}&draft={draft_id}&visibility={visibility}"
        return web.Response(status=303, headers={**SECURITY_HEADERS, "Location": location})

    async def _not_found(self, request: web.Request, session: Session) -> web.StreamResponse:
        return self._page(
            "Not found",
            "message.html",
            status=404,
            session=session,
            message="There is no such page.",
            how_to_sign_in=False,
        )

    async def _static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        body = resources.files("bot.dashboard").joinpath("static", name).read_bytes()
        headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=3600"}
        return web.Response(body=body, content_type=STATIC[name], headers=headers)

    def _page(self, title: str, template: str, *, status: int = 200, **context: Any) -> web.Response:
        context.setdefault("session", None)
        context.setdefault("here", "")
        html = self._templates.get_template(template).render(title=title, nav=NAV, **context)
        return web.Response(text=html, status=status, content_type="text/html", headers=SECURITY_HEADERS)


def _days(request: web.Request) -> int:
    """``?days=N`` within 1 to ``MAX_DAYS``; anything else is the default."""
    value = request.query.get("days", "")
    if value.isascii() and value.isdigit() and 1 <= int(value) <= pages.MAX_DAYS:
        return int(value)
    return pages.DEFAULT_DAYS


def _csv(table: Table) -> web.Response:
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{table.name}.csv"'}
    return web.Response(text=table.csv(), content_type="text/csv", charset="utf-8", headers=headers)
