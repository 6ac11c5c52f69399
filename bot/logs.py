"""Logging: JSON lines for production, text for the terminal, and no secret in any line.

- :class:`JsonFormatter` writes one JSON object per line: ``time``, ``level``, ``logger``, ``message`` and,
  when known, ``thread`` (the conversation key) and ``request_id`` (one per inbound message), plus ``exc``
  with the traceback.
- :func:`log_context` sets the thread and request id for the code it wraps; the support service sets them
  for each message it handles, so every line logged while answering it carries them, in whichever module.
- :class:`RedactSecrets` is a safety net on the handler: every secret setting's value (and the password
  of a URL setting) is replaced by ``[redacted]`` in the message and the traceback, whatever logged it.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import urlsplit

from pydantic import SecretStr

from bot.settings import Settings

LogFormat = Literal["json", "text"]

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 6
"""Shorter values are not searched for: they would blank out ordinary words and are no secret anyway."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_thread: ContextVar[str | None] = ContextVar("supportbot_log_thread", default=None)
_request: ContextVar[str | None] = ContextVar("supportbot_log_request", default=None)


@contextmanager
def log_context(*, thread: str, request_id: str) -> Iterator[None]:
    """Tag the log lines of the code inside with ``thread`` and ``request_id`` (task-local)."""
    thread_token, request_token = _thread.set(thread), _request.set(request_id)
    try:
        yield
    finally:
        _request.reset(request_token)
        _thread.reset(thread_token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        thread, request_id = _thread.get(), _request.get()
        if thread is not None:
            entry["thread"] = thread
        if request_id is not None:
            entry["request_id"] = request_id
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class RedactSecrets(logging.Filter):
    """Replaces each of ``secrets`` in a record's message, traceback and stack with ``[redacted]``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        record.msg, record.args = self.redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def secret_values(settings: Settings) -> list[str]:
    """The values to keep out of the logs: every ``SecretStr`` setting and any password in a URL setting."""
    values: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            values.append(value.get_secret_value())
        elif isinstance(value, str) and "://" in value:
            try:
                password = urlsplit(value).password
            except ValueError:
                continue
            if password:
                values.append(password)
    return values


#: Libraries whose DEBUG lines carry what the bot was told or holds: the anthropic SDK logs its request
#: options (system prompt, messages, tool results), httpx/httpcore (``httpx2``/``httpcore2`` since SDK
#: 1.0) headers and bodies, aiosqlite and asyncpg every statement with its parameters (turns, orders),
#: the Slack and Discord clients and websockets their payloads. They log at INFO or above whatever
#: ``LOG_LEVEL`` says; ``LOG_LEVEL=DEBUG`` is for the bot's own lines, which carry ids, never content.
QUIET_LIBRARIES = (
    "anthropic",
    "httpx",
    "httpx2",
    "httpcore",
    "httpcore2",
    "hpack",
    "aiosqlite",
    "asyncpg",
    "redis",
    "aiohttp",
    "websockets",
    "slack_sdk",
    "slack_bolt",
    "discord",
    "urllib3",
)


def quiet_libraries(level: int) -> None:
    """Pin the :data:`QUIET_LIBRARIES` loggers (and any child already given a lower level) to ``level``."""
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(level)
    for name, child in list(logging.Logger.manager.loggerDict.items()):
        if (
            isinstance(child, logging.Logger)
            and name.startswith(tuple(f"{library}." for library in QUIET_LIBRARIES))
            and child.level != logging.NOTSET
            and child.level < level
        ):
            child.setLevel(level)


def configure_logging(settings: Settings, *, log_format: LogFormat, level: str | None = None) -> None:
    """One handler on stderr in ``log_format`` at ``level`` (default ``LOG_LEVEL``), redacting secrets;
    the :data:`QUIET_LIBRARIES` never below INFO."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RedactSecrets(secret_values(settings)))
    logging.basicConfig(level=level or settings.log_level, handlers=[handler], force=True)
    quiet_libraries(max(logging.INFO, logging.getLogger().level))
