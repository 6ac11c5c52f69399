"""The fake Support API's tickets: ``POST /api/v2/tickets[.json]`` as Zendesk documents it.

An agent's request (Basic ``{email}/token:{token}``) with ``{"ticket": {"comment": {"body": …}, …}}``
creates a ticket and is answered 201 with ``{"ticket": {id, url, subject, description, status, …}}``;
a ticket without a comment body is 422 ``RecordInvalid``; anonymous or wrong credentials are 401.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FakeTicket:
    id: int
    subject: str
    description: str
    external_id: str | None
    tags: list[str] = field(default_factory=list)
    public: bool = True
    status: str = "new"

    def json(self, base_url: str) -> dict[str, object]:
        return {
            "id": self.id,
            "url": f"{base_url}/api/v2/tickets/{self.id}.json",
            "subject": self.subject,
            "raw_subject": self.subject,
            "description": self.description,
            "status": self.status,
            "external_id": self.external_id,
            "tags": self.tags,
        }


def new_ticket(ticket_id: int, body: Any) -> FakeTicket | None:
    """The ticket a request body asks for; None when Zendesk would refuse it (422)."""
    ticket = body.get("ticket") if isinstance(body, dict) else None
    comment = ticket.get("comment") if isinstance(ticket, dict) else None
    text = comment.get("body") if isinstance(comment, dict) else None
    if not isinstance(ticket, dict) or not isinstance(comment, dict) or not isinstance(text, str) or not text:
        return None
    subject = ticket.get("subject")
    external_id = ticket.get("external_id")
    tags = ticket.get("tags")
    return FakeTicket(
        id=ticket_id,
        subject=subject if isinstance(subject, str) else text[:80],
        description=text,
        external_id=str(external_id) if external_id is not None else None,
        tags=[str(tag) for tag in tags] if isinstance(tags, list) else [],
        public=bool(comment.get("public", True)),
    )


RECORD_INVALID = {
    "error": "RecordInvalid",
    "description": "Record validation errors",
    "details": {"description": [{"description": "Description: cannot be blank"}]},
}
