"""Process settings from the environment and `.env` (DESIGN.md §8).

Every setting is listed in `.env.example`. Tokens are `SecretStr`, so they never reach a log line or an
error message. `load_settings()` turns pydantic's validation errors into one `ConfigError` line that
names the variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError

STORE_SCHEMES = ("sqlite", "postgresql", "postgres")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Model
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    answer_model: str = "claude-sonnet-5-5"
    summary_model: str = "claude-haiku-5-5"
    answer_max_tokens: int = Field(default=1024, ge=64, le=64000)
    summary_max_tokens: int = Field(default=512, ge=64, le=8192)
    model_max_retries: int = Field(default=2, ge=0, le=10)
    model_timeout_seconds: float = Field(default=60.0, gt=0)

    # Storage and data
    database_url: str = "sqlite:///data/supportbot.db"
    kb_path: Path = Path("config/kb")
    kb_index_path: Path = Path("data/kb.sqlite3")
    bot_config_path: Path = Path("config/bot.toml")
    system_prompt_path: Path = Path("config/prompts/system.md")
    demo_orders_path: Path = Path("config/demo/orders.json")
    orders_db_path: Path = Path("data/orders.sqlite3")

    # Order service (optional; the demo SQLite orders are used when unset)
    orders_api_url: str | None = None
    orders_api_token: SecretStr | None = None

    # Slack (supportbot slack): tokens from the app's settings pages (README, "Slack")
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    port: int = Field(default=3000, ge=1, le=65535)
    slack_dm_history_hours: float = Field(default=24.0, gt=0)
    slack_dm_history_turns: int = Field(default=20, ge=1, le=200)

    log_level: str = "INFO"

    @field_validator("database_url")
    @classmethod
    def _known_store(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme not in STORE_SCHEMES:
            raise ValueError(
                f"unsupported scheme {scheme or '(none)'!r}; use sqlite:///path/to/file.db "
                "or postgresql://user@host/db"
            )
        return value

    @field_validator("anthropic_base_url", "orders_api_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_base(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http:// or https:// URL")
        return value if value.endswith("/") else value + "/"  # slack_sdk appends the method name

    @field_validator(
        "anthropic_api_key",
        "orders_api_token",
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return level


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, or raise ConfigError with one line naming the first bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, env=True)) from None


def describe_validation_error(exc: ValidationError, *, env: bool, where: str = "") -> str:
    """One line: which setting is wrong and why. Never echoes the offending value (it may be a secret)."""
    error = exc.errors()[0]
    loc = ".".join(str(part) for part in error["loc"])
    name = loc.upper() if env else loc
    message = error["msg"].removeprefix("Value error, ")
    hint = " (set it in the environment or .env; see .env.example)" if env else ""
    more = f" and {len(exc.errors()) - 1} more problem(s)" if len(exc.errors()) > 1 else ""
    return f"{where}{name}: {message}{hint}{more}"
