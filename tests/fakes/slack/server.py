"""The fake Slack Web API: the aiohttp server, auth, injected failures and dispatch to the method handlers."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_asyncio
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from fakes.http_server import HttpFake

from .args import _ApiError, _opt_str
from .assistant import AssistantRoutes
from .chat import ChatRoutes
from .conversations import ConversationsRoutes
from .events import EventSender
from .files import FileRequest, FilesRoutes, add_file_routes
from .limits import RateLimits, SlackLimits
from .reactions import ReactionsRoutes
from .response_urls import ResponseUrls
from .socket_mode import SocketMode
from .state import (
    APP_TOKEN,
    BOT_ID,
    BOT_NAME,
    BOT_TOKEN,
    BOT_USER_ID,
    GENERAL_CHANNEL_ID,
    JSON,
    SIGNING_SECRET,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
    TS_START,
    AssistantStatus,
    Ephemeral,
    FakeChannel,
    FakeFile,
    FakeMessage,
    FakeUser,
    RecordedCall,
    ResponseUrlPost,
    _Failure,
    _ResponseUrl,
)
from .streams import StreamRoutes
from .users import UsersRoutes
from .views import ViewsRoutes
from .workspace import Workspace


class FakeSlack(
    Workspace,
    RateLimits,
    ChatRoutes,
    StreamRoutes,
    ConversationsRoutes,
    UsersRoutes,
    AssistantRoutes,
    ReactionsRoutes,
    ViewsRoutes,
    FilesRoutes,
    SocketMode,
    ResponseUrls,
    HttpFake,
):
    """An in-memory Slack workspace behind Slack's Web API, served by aiohttp on 127.0.0.1."""

    def __init__(
        self,
        *,
        limits: SlackLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
        team_id: str = TEAM_ID,
        team_domain: str = TEAM_DOMAIN,
        bot_token: str = BOT_TOKEN,
        app_token: str = APP_TOKEN,
        ts_start: float | None = TS_START,
        replies_parent_on_every_page: bool = True,
    ) -> None:
        """
        Args:
            limits: the enforced limits (defaults: :class:`SlackLimits`).
            clock: the rate limiters' clock (seconds); pass a :class:`ManualClock` to step time by hand.
            ts_start: the first message ``ts``; later ones grow by 100 µs. ``None``: follow the wall clock.
            replies_parent_on_every_page: ``conversations.replies`` repeats the parent message at the top of
                every page, not only the first (clients must de-duplicate by ``ts``; reports differ on
                whether Slack does this, so the stricter case is the default).
        """
        self.limits = limits or SlackLimits()
        self.team_id = team_id
        self.team_domain = team_domain
        self.bot_token = bot_token
        self.app_token = app_token
        self.valid_tokens: set[str] = {bot_token}
        self.revoked_tokens: set[str] = set()
        """Tokens :meth:`revoke` took back (the app was uninstalled): calls with them answer
        ``token_revoked``."""
        self.replies_parent_on_every_page = replies_parent_on_every_page
        self._clock = clock
        self._wall_ts = ts_start is None
        self._last_ts_micros = round((ts_start or time.time()) * 1_000_000) - 100

        self.users: dict[str, FakeUser] = {}
        self.channels: dict[str, FakeChannel] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.assistant_statuses: list[AssistantStatus] = []
        self._current_status: dict[tuple[str, str], str] = {}
        self.assistant_titles: dict[tuple[str, str], str] = {}
        self.suggested_prompts: dict[tuple[str, str], list[JSON]] = {}
        self.streaming: set[tuple[str, str]] = set()
        """(channel, ts) of the messages still streaming (``chat.startStream`` until stopped)."""
        self.home_views: dict[str, JSON] = {}
        """Each user's Home tab, as last published."""
        self._response_urls: dict[str, _ResponseUrl] = {}
        self.response_url_posts: list[ResponseUrlPost] = []
        self.files: dict[str, FakeFile] = {}
        self.file_requests: list[FileRequest] = []
        self._file_redirect: str | None = None

        self._calls: list[RecordedCall] = []
        self._rate_limited = 0
        self._failures: dict[str, deque[_Failure]] = {}
        self._post_buckets: dict[str, tuple[float, float]] = {}
        self._update_times: dict[str, deque[float]] = {}  # per workspace
        self._replies_times: deque[float] = deque()
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self.message_listeners: list[Callable[[str, FakeMessage], None]] = []
        """Called with (method, message) after every successful ``chat.postMessage`` and ``chat.update``
        (benchmarks watch replies this way instead of scanning every channel)."""

        self._sockets: list[web.WebSocketResponse] = []
        self._socket_acks: dict[str, asyncio.Future[JSON]] = {}
        self._handlers: dict[str, Callable[[JSON], JSON]] = {
            "api.test": self._api_test,
            "apps.connections.open": self._apps_connections_open,
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.replies": self._conversations_replies,
            "conversations.history": self._conversations_history,
            "conversations.info": self._conversations_info,
            "conversations.open": self._conversations_open,
            "users.info": self._users_info,
            "usergroups.users.list": self._usergroups_users_list,
            "assistant.threads.setStatus": self._assistant_set_status,
            "assistant.threads.setTitle": self._assistant_set_title,
            "assistant.threads.setSuggestedPrompts": self._assistant_set_suggested_prompts,
            "chat.startStream": self._chat_start_stream,
            "chat.appendStream": self._chat_append_stream,
            "chat.stopStream": self._chat_stop_stream,
            "views.publish": self._views_publish,
            "reactions.add": self._reactions_add,
            "reactions.remove": self._reactions_remove,
        }

        self.bot_user = self.add_user(
            BOT_USER_ID, name=BOT_NAME, real_name="Support", is_bot=True, bot_id=BOT_ID
        )
        self.general = self.add_channel(GENERAL_CHANNEL_ID, name="general")

    # ---------------------------------------------------------------- lifecycle

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{url_id}", self._handle_response_url)
        app.router.add_get("/socket/{socket_id}", self._handle_socket)
        add_file_routes(app, self._handle_file)
        return app

    async def close(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        await super().close()

    @property
    def api_url(self) -> str:
        """The Web API base URL for ``AsyncWebClient(base_url=...)``; ends in ``/``."""
        return f"{self.base_url}/api/"

    def client(self, **kwargs: Any) -> AsyncWebClient:
        """A real ``AsyncWebClient`` with the bot token pointed at this fake (default retry handlers)."""
        kwargs.setdefault("token", self.bot_token)
        return AsyncWebClient(base_url=self.api_url, **kwargs)

    def event_sender(
        self, url: str, signing_secret: str = SIGNING_SECRET, *, team_id: str | None = None
    ) -> EventSender:
        """An :class:`EventSender` for this workspace (or for workspace ``team_id`` of the same install)
        whose slash commands get a response_url here."""
        return EventSender(
            url,
            signing_secret,
            team_id=team_id or self.team_id,
            team_domain=self.team_domain if team_id in (None, self.team_id) else team_id.lower(),
            response_url_factory=self.new_response_url,
        )

    def calls(self, method: str | None = None) -> list[RecordedCall]:
        """Every request received (for ``method``), oldest first, failed and rate-limited ones included."""
        return [c for c in self._calls if method is None or c.method == method]

    def revoke(self, token: str) -> None:
        """Take ``token`` back, as uninstalling the app does: every later call with it answers
        ``token_revoked``."""
        self.valid_tokens.discard(token)
        self.revoked_tokens.add(token)

    def reset_calls(self) -> None:
        self._calls.clear()
        self._rate_limited = 0

    async def wait_for(
        self, predicate: Callable[[], bool], *, seconds: float = 5.0, what: str = "condition"
    ) -> None:
        """Wait until ``predicate()`` holds (the app under test runs in the same event loop).

        It is checked after every request the fake answers, and every 50 ms besides.
        """
        try:
            async with asyncio.timeout(seconds):
                while not predicate():
                    changed = self._changed
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(changed.wait(), 0.05)
        except TimeoutError:
            raise TimeoutError(f"fake Slack: {what} not reached within {seconds} s") from None

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for_calls(
        self, method: str, count: int = 1, *, seconds: float = 5.0
    ) -> list[RecordedCall]:
        """Wait until ``method`` has been answered ``count`` times; returns all its calls so far."""
        await self.wait_for(
            lambda: sum(1 for c in self.calls(method) if c.status) >= count,
            seconds=seconds,
            what=f"{count} {method} call(s)",
        )
        return self.calls(method)

    # ---------------------------------------------------------------- failure injection

    def fail_next(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        delay: float = 0.0,
        apply: bool = False,
        body: JSON | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with a failure instead of handling them.

        ``status=429`` sends ``Retry-After`` (default 1 s) and ``ratelimited``; ``status=500`` sends
        ``internal_error``; ``status=200`` needs ``error=`` (``{"ok": false, "error": error}``).
        ``delay`` holds the answer back (for client timeouts); ``apply=True`` performs the call before
        answering with the failure (a request that took effect although the client saw it fail).
        Failures queue up in the order given.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        if status == 429:
            error = error or "ratelimited"
            retry_after = 1 if retry_after is None else retry_after
        elif status >= 500:
            error = error or "internal_error"
        elif error is None and body is None:
            raise ValueError("a failure with status 200 needs error= or body=")
        response = body if body is not None else {"ok": False, "error": error}
        self._failures.setdefault(method, deque()).append(
            _Failure(status, response, retry_after, delay, apply, times)
        )

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining <= 0:
            queue.popleft()
        return failure

    # ---------------------------------------------------------------- HTTP

    async def _parse_args(self, request: web.Request) -> tuple[JSON, str | None]:
        args: JSON = dict(request.query)
        body_token = args.pop("token", None)
        if request.method == "POST" and request.body_exists:
            if request.content_type == "application/json":
                raw = await request.read()
                try:
                    data = json.loads(raw) if raw.strip() else {}
                except ValueError:
                    raise _ApiError("invalid_json") from None
                if not isinstance(data, dict):
                    raise _ApiError("invalid_json")
                data.pop("token", None)  # Slack takes the token of a JSON call from the header only
                args.update(data)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, str):
                        args[key] = value
                form_token = args.pop("token", None)
                body_token = form_token if form_token is not None else body_token
        return {k: v for k, v in args.items() if v is not None}, body_token

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call = RecordedCall(
            method=method,
            args={},
            time=self._clock(),
            wall_time=time.time(),
            http_method=request.method,
            content_type=request.content_type,
            token=None,
        )
        self._calls.append(call)
        status, body, headers = await self._answer(request, method, call)
        call.status, call.response = status, body
        self._notify()
        return web.json_response(body, status=status, headers=headers)

    async def _answer(
        self, request: web.Request, method: str, call: RecordedCall
    ) -> tuple[int, JSON, dict[str, str]]:
        try:
            args, body_token = await self._parse_args(request)
        except _ApiError as exc:
            return exc.status, {"ok": False, "error": exc.error, **exc.extra}, exc.headers
        call.args = copy.deepcopy(args)
        authorization = request.headers.get("Authorization", "")
        token = authorization[7:].strip() if authorization.startswith("Bearer ") else body_token
        call.token = token
        handler = self._handlers.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method", "req_method": method}, {}
        if not token:
            return 200, {"ok": False, "error": "not_authed"}, {}
        if (method == "apps.connections.open") != (token == self.app_token):
            # An app-level token opens Socket Mode connections and does nothing else.
            allowed = token == self.app_token or token in self.valid_tokens
            return 200, {"ok": False, "error": "not_allowed_token_type" if allowed else "invalid_auth"}, {}
        if token in self.revoked_tokens:
            return 200, {"ok": False, "error": "token_revoked"}, {}
        if token not in self.valid_tokens and token != self.app_token:
            return 200, {"ok": False, "error": "invalid_auth"}, {}

        failure = self._take_failure(method)
        if failure is not None:
            call.injected = True
            if failure.delay:
                await asyncio.sleep(failure.delay)
            if failure.apply:
                with contextlib.suppress(_ApiError):
                    handler(args)
            if failure.status == 429:
                self._rate_limited += 1
            headers = {} if failure.retry_after is None else {"Retry-After": str(failure.retry_after)}
            return failure.status, copy.deepcopy(failure.body), headers

        try:
            self._check_rate_limit(method, args)
            result = handler(args)
        except _ApiError as exc:
            if exc.status == 429:
                self._rate_limited += 1
            return exc.status, {"ok": False, "error": exc.error, **exc.extra}, exc.headers
        return 200, {"ok": True, **result}, {}

    # ---------------------------------------------------------------- helpers for methods

    def _channel(self, args: JSON, key: str = "channel") -> FakeChannel:
        channel_id = _opt_str(args, key)
        if not channel_id:
            raise _ApiError("channel_not_found")
        channel = self.channels.get(channel_id)
        if channel is None:
            raise _ApiError("channel_not_found")
        return channel

    # ---------------------------------------------------------------- methods

    def _api_test(self, args: JSON) -> JSON:
        return {"args": args} if args else {}

    def _auth_test(self, args: JSON) -> JSON:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": TEAM_NAME,
            "user": BOT_NAME,
            "team_id": self.team_id,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }


@pytest_asyncio.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """A started :class:`FakeSlack` with default limits."""
    async with FakeSlack() as fake:
        yield fake
