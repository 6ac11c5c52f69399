"""A request as the fake received it (:class:`RecordedRequest`), and the ``Responder`` type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from .cache import CacheUse
from .replies import Reply
from .wire import JSON

# --------------------------------------------------------------------------------------------------------
# Recording


@dataclass
class RecordedRequest:
    """One HTTP request the fake received, and how it was answered."""

    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    raw: bytes
    body: Any  # parsed JSON, or None when the body was not JSON
    status: int | None = None  # status of the answer
    errors: list[str] = field(default_factory=list)  # validation errors of this request
    reply: Reply | None = None  # the scripted reply used, if any
    cache: CacheUse | None = None  # what the prompt cache model made of it (answered requests only)

    @property
    def stream(self) -> bool:
        return isinstance(self.body, dict) and self.body.get("stream") is True

    @property
    def messages(self) -> list[JSON]:
        return list(self.body.get("messages") or []) if isinstance(self.body, dict) else []

    @property
    def system(self) -> Any:
        return self.body.get("system") if isinstance(self.body, dict) else None

    @property
    def tools(self) -> list[JSON]:
        return list(self.body.get("tools") or []) if isinstance(self.body, dict) else []

    @property
    def model(self) -> str | None:
        model = self.body.get("model") if isinstance(self.body, dict) else None
        return model if isinstance(model, str) else None


Responder: TypeAlias = Callable[[RecordedRequest], "Reply | Awaitable[Reply]"]
