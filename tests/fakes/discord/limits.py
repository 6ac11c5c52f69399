"""Discord's limits (:class:`DiscordLimits`), a hand-stepped clock, the per-bucket and global rate limiter."""

from __future__ import annotations

import fnmatch
import hashlib
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .routes import _NO_GLOBAL_LIMIT_PREFIXES
from .state import JSON, _Failure
from .validation import ApiError

# ---------------------------------------------------------------------------------------- limits


@dataclass
class DiscordLimits:
    """Discord's limits as the fake enforces them; mutable, so a test may change them mid-run."""

    max_content: int = 2000
    max_embed_description: int = 4096
    max_embed_title: int = 256
    max_embed_total: int = 6000
    max_embeds: int = 10
    message_create: tuple[int, float] = (5, 5.0)
    """``POST /channels/{id}/messages``: (requests, seconds) per channel."""
    message_edit: tuple[int, float] = (5, 5.0)
    """``PATCH /channels/{id}/messages/{mid}``: (requests, seconds) per channel."""
    default_route: tuple[int, float] = (50, 1.0)
    """Every other route, per route and major parameter."""
    route_overrides: dict[str, tuple[int, float]] = field(default_factory=dict)
    """``{"METHOD /route/{template}": (requests, seconds)}``."""
    global_per_second: int | None = 50
    """Requests per second for the whole bot (interaction routes exempt); None: no global limit."""
    send_ratelimit_headers: bool = True
    """False: no ``X-RateLimit-*`` headers on successful answers, so discord.py cannot pace itself
    and meets real 429s (a second process sharing the token has the same effect)."""
    interaction_deadline: float = 3.0
    """Seconds to answer or defer an interaction before the callback gets 404/10062."""
    interaction_token_ttl: float = 15 * 60.0

    def for_route(self, method: str, route: str) -> tuple[int, float]:
        key = f"{method} {route}"
        if key in self.route_overrides:
            return self.route_overrides[key]
        if key == "POST /channels/{channel_id}/messages":
            return self.message_create
        if key == "PATCH /channels/{channel_id}/messages/{message_id}":
            return self.message_edit
        return self.default_route


class ManualClock:
    """A clock for rate limits and interaction deadlines that moves only when told:
    ``FakeDiscord(clock=clock)``; ``clock.advance(5)`` opens the next window."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class RateLimitHit:
    method: str
    path: str
    route: str | None
    bucket: str | None
    scope: str
    retry_after: float
    injected: bool


@dataclass
class _Bucket:
    limit: int
    window: float
    count: int = 0
    resets_at: float = 0.0


# ---------------------------------------------------------------------------------------- rate limits


class RateLimiter:
    """Discord's rate limits: per-route buckets (fixed windows), the global limit and injected failures."""

    def __init__(self, limits: DiscordLimits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self.clock = clock
        self.hits: list[RateLimitHit] = []
        self._failures: list[_Failure] = []
        self._buckets: dict[str, _Bucket] = {}
        self._global_window: tuple[float, int] = (0.0, 0)

    def fail_next(
        self,
        method: str,
        route_pattern: str,
        status: int = 429,
        *,
        retry_after: float = 1.0,
        times: int = 1,
        scope: str = "user",
        is_global: bool = False,
        body: JSON | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` instead of handling them.

        ``route_pattern``: a route template, a concrete path or an ``fnmatch`` pattern over the path.
        429: ``retry_after`` seconds in the body and ``Retry-After``, ``X-RateLimit-Scope: scope``
        (``user``/``shared``/``global``), ``"global": true`` when ``is_global``.  Other statuses get
        Discord's plain error body unless ``body`` is given.  ``delay`` holds the answer back that long
        (client timeouts).  Failures queue in the order given."""
        if times < 1:
            raise ValueError("times must be at least 1")
        self._failures.append(
            _Failure(method.upper(), route_pattern, status, retry_after, times, scope, is_global, body, delay)
        )

    def take_failure(self, method: str, path: str, route: str | None) -> _Failure | None:
        for failure in self._failures:
            if failure.method != method:
                continue
            if (
                failure.pattern == route
                or failure.pattern == path
                or fnmatch.fnmatchcase(path, failure.pattern)
            ):
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    @staticmethod
    def _bucket_hash(method: str, route: str) -> str:
        return hashlib.sha1(f"{method} {route}".encode()).hexdigest()[:32]

    @staticmethod
    def _major(params: Mapping[str, str]) -> str:
        for key in ("channel_id", "guild_id"):
            if key in params:
                return f"{key}={params[key]}"
        if "webhook_id" in params:
            return f"webhook={params['webhook_id']}+{params.get('webhook_token', '')}"
        return ""

    def _ratelimit_headers(self, bucket: _Bucket, bucket_hash: str, now: float) -> dict[str, str]:
        reset_after = max(0.0, bucket.resets_at - now)
        return {
            "X-RateLimit-Limit": str(bucket.limit),
            "X-RateLimit-Remaining": str(max(0, bucket.limit - bucket.count)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket_hash,
        }

    def too_many(
        self,
        req_method: str,
        path: str,
        route: str | None,
        retry_after: float,
        *,
        scope: str,
        is_global: bool,
        bucket: str | None,
        injected: bool,
        headers: Mapping[str, str] | None = None,
    ) -> ApiError:
        retry_after = round(max(retry_after, 0.001), 3)
        self.hits.append(RateLimitHit(req_method, path, route, bucket, scope, retry_after, injected))
        all_headers = {
            **(headers or {}),
            "Retry-After": str(max(1, math.ceil(retry_after))),
            "X-RateLimit-Scope": scope,
        }
        if is_global:
            all_headers["X-RateLimit-Global"] = "true"
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global}
        return ApiError(429, 0, "You are being rate limited.", headers=all_headers, body=body)

    def check_global(self, method: str, path: str, route: str) -> None:
        limit = self.limits.global_per_second
        if limit is None or path.startswith(_NO_GLOBAL_LIMIT_PREFIXES):
            return
        now = self.clock()
        start, count = self._global_window
        if now >= start + 1.0:
            start, count = now, 0
        if count >= limit:
            raise self.too_many(
                method,
                path,
                route,
                start + 1.0 - now,
                scope="global",
                is_global=True,
                bucket=None,
                injected=False,
            )
        self._global_window = (start, count + 1)

    def take_bucket(self, method: str, path: str, route: str, params: Mapping[str, str]) -> dict[str, str]:
        limit, window = self.limits.for_route(method, route)
        bucket_hash = self._bucket_hash(method, route)
        key = f"{bucket_hash}:{self._major(params)}"
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None or now >= bucket.resets_at:
            bucket = _Bucket(limit, window, 0, now + window)
            self._buckets[key] = bucket
        bucket.limit = limit
        if bucket.count >= bucket.limit:
            headers = self._ratelimit_headers(bucket, bucket_hash, now)
            raise self.too_many(
                method,
                path,
                route,
                bucket.resets_at - now,
                scope="user",
                is_global=False,
                bucket=bucket_hash,
                injected=False,
                headers=headers,
            )
        bucket.count += 1
        return self._ratelimit_headers(bucket, bucket_hash, now)

    def injected(self, failure: _Failure, method: str, path: str, route: str | None) -> ApiError:
        if failure.status == 429:
            return self.too_many(
                method,
                path,
                route,
                failure.retry_after,
                scope="global" if failure.is_global else failure.scope,
                is_global=failure.is_global,
                bucket=None,
                injected=True,
            )
        if failure.body is not None:
            return ApiError(failure.status, int(failure.body.get("code", 0)), "", body=failure.body)
        reasons = {
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
            504: "Gateway Timeout",
        }
        return ApiError(failure.status, 0, f"{failure.status}: {reasons.get(failure.status, 'Error')}")
