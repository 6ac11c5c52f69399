"""JSON log lines with the thread and request id, and no secret in any log line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.errors import ConfigError
from bot.logs import REDACTED, JsonFormatter, RedactSecrets, configure_logging, log_context, secret_values
from bot.settings import Settings, load_settings

SECRET = "sk-ant-very-secret-value"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def capture(*filters: logging.Filter) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    for item in filters:
        handler.addFilter(item)
    logger = logging.getLogger(f"test.logs.{id(out)}")
    logger.propagate = False
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    return logger, out


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_json_object_per_line_with_the_thread_and_request_id_inside_a_context() -> None:
    logger, out = capture()
    logger.info("before")
    with log_context(thread="slack:T1:C1:1.0", request_id="r-1"):
        logger.warning("answering %s", "ORD-1")
    logger.info("after")
    before, inside, after = lines(out)
    assert inside["message"] == "answering ORD-1" and inside["level"] == "WARNING"
    assert (inside["thread"], inside["request_id"]) == ("slack:T1:C1:1.0", "r-1")
    assert "thread" not in before and "request_id" not in after
    assert set(before) == {"time", "level", "logger", "message"}
    assert str(before["time"]).endswith("+00:00")


def test_secrets_are_redacted_from_messages_and_tracebacks() -> None:
    logger, out = capture(RedactSecrets([SECRET, "short"]))
    logger.info("calling with key %s", SECRET)
    try:
        raise RuntimeError(f"bad key {SECRET}")
    except RuntimeError:
        logger.exception("failed")
    logger.info("a short value is left alone: short")
    first, second, third = lines(out)
    assert first["message"] == f"calling with key {REDACTED}"
    assert SECRET not in str(second["exc"]) and f"bad key {REDACTED}" in str(second["exc"])
    assert third["message"].endswith("short")  # type: ignore[union-attr]
    assert SECRET not in out.getvalue()


def test_fields_given_with_extra_are_json_keys_and_redacted_too() -> None:
    logger, out = capture(RedactSecrets([SECRET]))
    with log_context(thread="discord:G1:C1:T1", request_id="r-2"):
        logger.info(
            "answer", extra={"outcome": "answered", "input_tokens": 1200, "cost_usd": 0.01, "k": SECRET}
        )
    [entry] = lines(out)
    assert entry == {
        "time": entry["time"],
        "level": "INFO",
        "logger": logger.name,
        "message": "answer",
        "outcome": "answered",
        "input_tokens": 1200,
        "cost_usd": 0.01,
        "k": REDACTED,
        "thread": "discord:G1:C1:T1",
        "request_id": "r-2",
    }


def test_the_text_format_is_one_readable_line_with_the_extra_fields_at_its_end(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(_env_file=None, anthropic_api_key=SECRET)  # type: ignore[call-arg]
    configure_logging(settings, log_format="text", level="INFO")
    logging.getLogger("bot.service").info(
        "answer", extra={"outcome": "answered", "model": None, "first_text_s": 0.42, "note": f"a {SECRET}"}
    )
    try:
        raise RuntimeError(f"bad key {SECRET}")
    except RuntimeError:
        logging.getLogger("bot.service").exception("failed")
    err = capsys.readouterr().err
    first, *rest = err.splitlines()
    assert first.endswith(f'INFO bot.service: answer outcome=answered first_text_s=0.42 note="a {REDACTED}"')
    assert rest[0].endswith("ERROR bot.service: failed") and rest[-1] == f"RuntimeError: bad key {REDACTED}"
    assert SECRET not in err


def test_secret_values_are_every_secret_setting_and_url_passwords() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        anthropic_api_key=SECRET,
        slack_bot_token="xoxb-bot-token",
        database_url="postgresql://bot:db-password@db.example.com/support",
    )
    assert set(secret_values(settings)) == {SECRET, "xoxb-bot-token", "db-password"}


def test_configure_logging_installs_json_with_redaction(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(_env_file=None, anthropic_api_key=SECRET)  # type: ignore[call-arg]
    configure_logging(settings, log_format="json", level="INFO")
    logging.getLogger("bot.somewhere").info("key=%s", SECRET)
    [entry] = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert entry == {**entry, "logger": "bot.somewhere", "message": f"key={REDACTED}"}
    configure_logging(settings, log_format="text", level="INFO")
    logging.getLogger("bot.somewhere").info("plain")
    assert capsys.readouterr().err.rstrip().endswith("INFO bot.somewhere: plain")


def test_log_format_and_drain_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    monkeypatch.setenv("DRAIN_SECONDS", "5")
    settings = load_settings(_env_file=None)
    assert (settings.log_format, settings.drain_seconds) == ("json", 5.0)
    monkeypatch.setenv("LOG_FORMAT", "")
    assert load_settings(_env_file=None).log_format is None
    for name, value in (("LOG_FORMAT", "xml"), ("DRAIN_SECONDS", "-1")):
        monkeypatch.setenv(name, value)
        with pytest.raises(ConfigError, match=name):
            load_settings(_env_file=None)
        monkeypatch.delenv(name)
