"""Logging: JSON lines for production, text for the terminal, and no secret in any line.

- :class:`JsonFormatter` (``python-json-logger``) writes one JSON object per line: ``time``, ``level``,
  ``logger``, ``message`` and, when known, ``thread`` (the conversation key) and ``request_id`` (one per
  inbound message), every field passed with ``extra=`` as a key of its own, plus ``exc`` with the traceback.
- :class:`TextFormatter` writes ``time LEVEL logger: message`` and the ``extra=`` fields as ``key=value``.
- :func:`log_context` sets the thread and request id for the code it wraps; the support service sets them
  for each message it handles, so every line logged while answering it carries them, in whichever module.
- :class:`RedactSecrets` is a safety net on the handler: every secret setting's value (and the password
  of a URL setting) is replaced by ``[redacted]`` in the message, the ``extra=`` fields and the traceback,
  whatever logged it.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import SecretStr
from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

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


_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
"""What every log record has; anything else on a record came with ``extra=``."""


def extra_fields(record: logging.LogRecord) -> dict[str, object]:
    """The fields ``record`` was given with ``extra=``, in the order given."""
    return {
        key: value
        for key, value in record.__dict__.items()
        if key not in _RECORD_ATTRIBUTES and not key.startswith("_")
    }


class JsonFormatter(_LibraryJsonFormatter):
    """One JSON object per line; the fields given with ``extra=`` are keys of their own."""

    def __init__(self) -> None:
        super().__init__(
            ["levelname", "name", "message"],
            rename_fields={
                "levelname": "level",
                "name": "logger",
                "exc_info": "exc",
                "stack_info": "stack",
            },
            json_ensure_ascii=False,
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["time"] = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        super().add_fields(log_data, record, message_dict)
        thread, request_id = _thread.get(), _request.get()
        if thread is not None:
            log_data["thread"] = thread
        if request_id is not None:
            log_data["request_id"] = request_id


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message key=value …``: a line for people, the ``extra=`` fields at its end."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        pairs = [
            f"{key}={_text_value(value)}" for key, value in extra_fields(record).items() if value is not None
        ]
        return " ".join([line, *pairs])


def _text_value(value: object) -> str:
    text = str(value)
    return (
        json.dumps(text, ensure_ascii=False)
        if not text or any(c.isspace() or c == '"' for c in text)
        else text
    )


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
        for key, value in extra_fields(record).items():
            if isinstance(value, str):
                setattr(record, key, self.redact(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            # The redacted text stands for the exception from here on: a formatter that would format the
            # exception anew (python-json-logger does) finds only the text.
            record.exc_text, record.exc_info = self.redact(record.exc_text), None
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
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RedactSecrets(secret_values(settings)))
    logging.basicConfig(level=level or settings.log_level, handlers=[handler], force=True)
    quiet_libraries(max(logging.INFO, logging.getLogger().level))
