"""Who may read the dashboard: signed single-use links, sessions and CSRF tokens (docs/architecture.md §8).

Everything is signed with HMAC-SHA256 under ``DASHBOARD_SECRET``, which every instance shares, so a link
minted by one instance opens on another and a session started on one is good on all of them:

- a **link** (``/dashboard/login?t=TOKEN``) names a random nonce, the person it was made for and its
  expiry (``LINK_TTL``); opening it records the nonce as used in the store (``DashboardLinksUsed``, shared
  by the instances), so it works once;
- a **session** is a cookie holding a random session id, the person and its expiry (``SESSION_TTL``),
  signed, so no instance needs to look it up;
- a **CSRF token** is the session id signed for that purpose; every form carries it, and a POST without the
  session's token is refused (the cookie is also ``SameSite=Strict``).

Each purpose signs under its own label, so a session cookie is never taken for a link or a token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from urllib.parse import quote

from bot.settings import Settings
from bot.store import DashboardLinksUsed

LINK_TTL = timedelta(minutes=10)
SESSION_TTL = timedelta(hours=8)
LOGIN_PATH = "/dashboard/login"
MAX_TOKEN_CHARS = 2048
"""Longer tokens are refused before any work (a link or cookie is far shorter)."""

_LINK = b"supportbot dashboard link\n"
_SESSION = b"supportbot dashboard session\n"
_CSRF = b"supportbot dashboard csrf\n"


class Refusal(Enum):
    """Why a link does not open the dashboard; the value is what the person is told."""

    TAMPERED = "This link is not a valid dashboard link."
    EXPIRED = "This link has expired: links work for 10 minutes."
    USED = "This link has been used already: each link works once."


class LinkRefused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


@dataclass(frozen=True)
class Session:
    """A signed-in reader: ``who`` the link was made for (``slack:U123``, ``operator:ann``)."""

    id: str
    who: str
    expires_at: datetime


class DashboardAccess:
    """Mints and checks links, sessions and CSRF tokens under one secret."""

    def __init__(self, secret: str, public_url: str | None) -> None:
        self._key = hashlib.sha256(b"supportbot dashboard\n" + secret.encode()).digest()
        self.public_url = public_url

    @classmethod
    def from_settings(cls, settings: Settings) -> DashboardAccess | None:
        """None when ``DASHBOARD_SECRET`` is unset: the dashboard is off."""
        if settings.dashboard_secret is None:
            return None
        return cls(settings.dashboard_secret.get_secret_value(), settings.public_url)

    # Links.

    def link(self, who: str, *, base_url: str | None = None, now: datetime | None = None) -> str:
        """A sign-in link for ``who``, valid for ``LINK_TTL`` and once, under ``base_url`` (default: the
        public URL; ``ValueError`` when there is neither)."""
        base = base_url or self.public_url
        if base is None:
            raise ValueError("no public URL to build the link on (PUBLIC_URL)")
        expires = (now or datetime.now(UTC)) + LINK_TTL
        token = self._seal(_LINK, {"n": secrets.token_urlsafe(18), "u": who, "e": int(expires.timestamp())})
        return f"{base.rstrip('/')}{LOGIN_PATH}?t={quote(token)}"

    async def open_link(
        self, token: str, used: DashboardLinksUsed, *, now: datetime | None = None
    ) -> Session:
        """The session a link starts; ``LinkRefused`` saying why when it is forged, expired or used."""
        now = now or datetime.now(UTC)
        fields = self._unseal(_LINK, token)
        if fields is None:
            raise LinkRefused(Refusal.TAMPERED)
        nonce, who, expires = fields.get("n"), fields.get("u"), fields.get("e")
        if not (isinstance(nonce, str) and isinstance(who, str) and isinstance(expires, int)):
            raise LinkRefused(Refusal.TAMPERED)
        expires_at = datetime.fromtimestamp(expires, UTC)
        if now >= expires_at:
            raise LinkRefused(Refusal.EXPIRED)
        if not await used.use_dashboard_link(nonce, expires_at):
            raise LinkRefused(Refusal.USED)
        return Session(secrets.token_urlsafe(18), who, now + SESSION_TTL)

    # Sessions.

    def cookie_value(self, session: Session) -> str:
        return self._seal(
            _SESSION, {"s": session.id, "u": session.who, "e": int(session.expires_at.timestamp())}
        )

    def session(self, cookie: str | None, *, now: datetime | None = None) -> Session | None:
        """The session a cookie holds, or None when there is none, or it is forged or over."""
        fields = self._unseal(_SESSION, cookie) if cookie else None
        if fields is None:
            return None
        session_id, who, expires = fields.get("s"), fields.get("u"), fields.get("e")
        if not (isinstance(session_id, str) and isinstance(who, str) and isinstance(expires, int)):
            return None
        expires_at = datetime.fromtimestamp(expires, UTC)
        if (now or datetime.now(UTC)) >= expires_at:
            return None
        return Session(session_id, who, expires_at)

    # CSRF.

    def csrf_token(self, session: Session) -> str:
        return _b64(hmac.new(self._key, _CSRF + session.id.encode(), hashlib.sha256).digest())

    def csrf_ok(self, session: Session, token: str) -> bool:
        return hmac.compare_digest(self.csrf_token(session).encode(), token.encode())

    # Signing.

    def _seal(self, purpose: bytes, fields: dict[str, object]) -> str:
        payload = _b64(json.dumps(fields, separators=(",", ":")).encode())
        return f"{payload}.{_b64(self._mac(purpose, payload))}"

    def _unseal(self, purpose: bytes, token: str) -> dict[str, object] | None:
        if len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
            return None
        payload, mac = token.split(".")
        try:
            if not hmac.compare_digest(_unb64(mac), self._mac(purpose, payload)):
                return None
            fields = json.loads(_unb64(payload))
        except (binascii.Error, ValueError):
            return None
        return fields if isinstance(fields, dict) else None

    def _mac(self, purpose: bytes, payload: str) -> bytes:
        return hmac.new(self._key, purpose + payload.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode("ascii") + b"=" * (-len(text) % 4))
