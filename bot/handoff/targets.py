"""Where an escalation is delivered: a signed webhook, or a Zendesk ticket (Support API).

A target takes the escalation's JSON (``bot.handoff.payload``) and returns the ticket it made, if any; it
raises :class:`DeliveryFailed` (the status, or what went wrong, never a secret) when the helpdesk did not
take it, and the outbox tries again later.

Zendesk: ``POST {zendesk_url}/api/v2/tickets.json`` with API-token auth as Zendesk documents it (Basic
``{email}/token:{token}``); the ticket's ``external_id`` is the escalation's id, so a Zendesk trigger can
send it back to ``POST /hooks/helpdesk`` when the ticket is solved. Its link is the agent view,
``{zendesk_url}/agent/tickets/{id}``.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from bot.handoff.config import HandoffConfig, HandoffSecrets
from bot.handoff.signing import signed_headers

if TYPE_CHECKING:  # aiohttp loads with the delivery loop (``Helpdesk.run``), not with every command
    import aiohttp

DELIVERY_HEADER = "X-Supportbot-Delivery"
"""The outbox row's id: the same on every retry of one delivery, so a receiver can drop duplicates."""
SUBJECT_CHARS = 80
ERROR_CHARS = 200


class DeliveryFailed(Exception):
    """The helpdesk did not take the escalation; the message is safe to log and keep."""


@dataclass(frozen=True)
class Ticket:
    id: str
    url: str


class Target(Protocol):
    name: str

    async def deliver(
        self, session: aiohttp.ClientSession, delivery_id: int, payload: str
    ) -> Ticket | None: ...


async def _post(
    session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]
) -> dict[str, Any]:
    """POST ``body``; the JSON answer (empty when not JSON); ``DeliveryFailed`` unless 2xx."""
    import aiohttp

    try:
        async with session.post(url, data=body, headers=headers, allow_redirects=False) as response:
            text = await response.text()
            if response.status // 100 != 2:
                raise DeliveryFailed(f"HTTP {response.status}: {text[:ERROR_CHARS]}")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {str(exc)[:ERROR_CHARS]}") from None
    try:
        answer = json.loads(text)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


class WebhookTarget:
    """POSTs the escalation's JSON, signed (``bot.handoff.signing``), to ``webhook_url``."""

    name = "webhook"

    def __init__(self, url: str, secret: str) -> None:
        self._url = url
        self._secret = secret

    async def deliver(self, session: aiohttp.ClientSession, delivery_id: int, payload: str) -> Ticket | None:
        body = payload.encode()
        headers = {
            "Content-Type": "application/json",
            DELIVERY_HEADER: str(delivery_id),
            **signed_headers(self._secret, int(time.time()), body),
        }
        await _post(session, self._url, body, headers)
        return None


def ticket_request(escalation: dict[str, Any]) -> dict[str, Any]:
    """The Support API's ticket for an escalation's JSON."""
    thread = escalation["thread"]
    asker = escalation["asker"]
    lines = [
        escalation["summary"],
        "",
        f"Asker: {asker['display_name']} ({asker['role']}, {thread['platform']} user {asker['user_id']})",
        f"Thread: {thread['link'] or thread['platform'] + ' ' + thread['channel_id']}",
        "",
        "Transcript:",
        *(f"{turn['author']} ({turn['role']}): {turn['text']}" for turn in escalation["transcript"]),
    ]
    if escalation["transcript_truncated"]:
        lines.append("(earlier messages left out)")
    return {
        "ticket": {
            "subject": f"Escalation #{escalation['escalation_id']}: {escalation['summary'][:SUBJECT_CHARS]}",
            "comment": {"body": "\n".join(lines), "public": False},
            "external_id": str(escalation["escalation_id"]),
            "tags": ["supportbot", f"supportbot_{thread['platform']}"],
        }
    }


class ZendeskTarget:
    """Creates a ticket through the Support API."""

    name = "zendesk"

    def __init__(self, url: str, email: str, token: str) -> None:
        self._base = url.rstrip("/")
        credentials = base64.b64encode(f"{email}/token:{token}".encode()).decode()
        self._authorization = f"Basic {credentials}"

    async def deliver(self, session: aiohttp.ClientSession, delivery_id: int, payload: str) -> Ticket | None:
        body = json.dumps(ticket_request(json.loads(payload))).encode()
        headers = {"Content-Type": "application/json", "Authorization": self._authorization}
        answer = await _post(session, f"{self._base}/api/v2/tickets.json", body, headers)
        ticket = answer.get("ticket")
        ticket_id = ticket.get("id") if isinstance(ticket, dict) else None
        if not isinstance(ticket_id, int | str) or isinstance(ticket_id, bool):
            raise DeliveryFailed("Zendesk answered without a ticket id")
        return Ticket(str(ticket_id), f"{self._base}/agent/tickets/{ticket_id}")


def open_targets(config: HandoffConfig, secrets: HandoffSecrets) -> dict[str, Target]:
    """The configured targets by name (``HandoffConfig`` and ``HandoffSecrets`` checked they are complete)."""
    targets: dict[str, Target] = {}
    if "webhook" in config.targets and config.webhook_url and secrets.webhook:
        targets["webhook"] = WebhookTarget(config.webhook_url, secrets.webhook.get_secret_value())
    if "zendesk" in config.targets and config.zendesk_url and config.zendesk_email and secrets.zendesk_token:
        targets["zendesk"] = ZendeskTarget(
            config.zendesk_url, config.zendesk_email, secrets.zendesk_token.get_secret_value()
        )
    return targets
