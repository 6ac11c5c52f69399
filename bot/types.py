"""Core value types shared by every part of the bot (docs/architecture.md §3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal


class Role(StrEnum):
    CUSTOMER = "customer"
    EMPLOYEE = "employee"
    LEAD = "lead"
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.EMPLOYEE, Role.LEAD, Role.ADMIN})


@dataclass(frozen=True)
class ThreadRef:
    """The conversation key: Slack team/channel/thread_ts, Discord guild/parent/thread, console session."""

    platform: str
    space_id: str
    channel_id: str
    thread_id: str

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.space_id}:{self.channel_id}:{self.thread_id}"

    @property
    def space_key(self) -> str:
        return f"{self.platform}:{self.space_id}"


@dataclass(frozen=True)
class Principal:
    """Who is asking. Built by the adapter from the platform event, never from model output."""

    platform: str
    user_id: str
    display_name: str
    roles: frozenset[Role]
    customer_id: str | None = None

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)

    @property
    def is_lead(self) -> bool:
        return Role.LEAD in self.roles or Role.ADMIN in self.roles

    def describe(self) -> str:
        """A short, log-safe description, e.g. ``customer:C-1001`` or ``lead``."""
        top = max(self.roles, key=_ROLE_ORDER.index) if self.roles else Role.CUSTOMER
        if top is Role.CUSTOMER and self.customer_id:
            return f"customer:{self.customer_id}"
        return top.value


_ROLE_ORDER = [Role.CUSTOMER, Role.EMPLOYEE, Role.LEAD, Role.ADMIN]

TurnRole = Literal["user", "assistant"]


@dataclass(frozen=True)
class Turn:
    """One message of the history.

    ``exchange`` is set on the bot's own turns that used tools: the Messages API messages of that turn
    (assistant tool_use, user tool_result, …, final assistant text), so that a later turn can replay them.
    ``attachments`` are Messages API content blocks that go with a person's text (the images and PDFs
    they attached, ``bot.attachments``), read from the platform with the history; they are not stored.
    ``answered_for`` is the user id of the person a bot turn answered: its ``exchange`` holds what the
    tools let that person see, so it is replayed only in answers to that same person.
    ``user_id`` is the platform user id of the person who wrote a user turn, when the core knows it (the
    messages it took in); ``supportbot forget`` finds a person's turns by it.
    """

    role: TurnRole
    author: str
    text: str
    message_id: str
    sent_at: datetime
    exchange: tuple[dict[str, Any], ...] = ()
    attachments: tuple[dict[str, Any], ...] = ()
    answered_for: str | None = None
    user_id: str | None = None


@dataclass
class Conversation:
    """The history the model sees: ``summary`` of the older turns (None when there is none) and the newer
    ``turns`` word for word."""

    ref: ThreadRef
    turns: list[Turn] = field(default_factory=list)
    summary: str | None = None


@dataclass(frozen=True)
class Source:
    """A knowledge-base article cited under an answer. An article with no address (a published KB draft)
    has an empty ``url``: it is cited by its title alone, never as a link to nowhere."""

    title: str
    url: str

    def cited(self) -> str:
        """As plain text: the title, then the address in brackets when there is one."""
        return f"{self.title} ({self.url})" if self.url else self.title


@dataclass(frozen=True)
class Usage:
    """Tokens of one answer (all model rounds added up) and their cost in US dollars."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.cost_usd + other.cost_usd,
        )
