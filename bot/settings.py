"""Process settings from the environment and `.env` (docs/architecture.md §8).

Every setting is listed in `.env.example`. Tokens are `SecretStr`, so they never reach a log line or an
error message. `load_settings()` turns pydantic's validation errors into one `ConfigError` line that
names the variable. Relative paths (and a relative ``sqlite:///`` URL) resolve against the project folder
(`bot.home`: ``SUPPORTBOT_HOME``, else the current folder with a ``config/bot.toml``, else the packaged
defaults with data in the user's data folder), so the settings always hold absolute paths.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError
from bot.home import find_home

STORE_SCHEMES = ("sqlite", "postgresql", "postgres", "postgresql+asyncpg")
REDIS_SCHEMES = ("redis", "rediss", "unix")
DISCORD_API_URL = "https://discord.com/api/v10"
DISCORD_GATEWAY_URL = "wss://gateway.discord.gg/"
DASHBOARD_SECRET_MIN_CHARS = 32
PATH_SETTINGS = (
    "kb_path",
    "kb_index_path",
    "bot_config_path",
    "system_prompt_path",
    "demo_orders_path",
    "orders_db_path",
)


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
    model_timeout_seconds: float = Field(default=60.0, gt=0, le=3600)

    # Storage and data
    database_url: str = "sqlite:///data/supportbot.db"
    kb_path: Path = Path("config/kb")
    kb_index_path: Path = Path("data/kb.sqlite3")
    bot_config_path: Path = Path("config/bot.toml")
    system_prompt_path: Path = Path("config/prompts/system.md")
    demo_orders_path: Path = Path("config/demo/orders.json")
    orders_db_path: Path = Path("data/orders.sqlite3")
    # PostgreSQL's connection pool per process (DATABASE_URL=postgresql://…; SQLite ignores them)
    database_pool_max_size: int = Field(default=10, ge=1, le=100)
    database_pool_min_size: int = Field(default=1, ge=0, le=100)  # after max: checked against it

    # Redis, shared by several instances: event dedup, thread locks, rate budgets, limits (unset: in-process)
    redis_url: SecretStr | None = None
    redis_prefix: str = Field(default="supportbot:", min_length=1, max_length=100)

    # Order service (optional; the demo SQLite orders are used when unset)
    orders_api_url: str | None = None
    orders_api_token: SecretStr | None = None

    # Slack (supportbot slack): tokens from the app's settings pages (README, "Slack")
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    port: int = Field(default=3000, ge=1, le=65535)
    slack_dm_history_hours: float = Field(default=24.0, gt=0, le=8760)
    slack_dm_history_turns: int = Field(default=20, ge=1, le=200)

    # Discord (supportbot discord): the bot token from the developer portal (README, "Discord")
    discord_token: SecretStr | None = None
    discord_api_url: str = DISCORD_API_URL
    """The REST base, API version included (a proxy, or a local fake in tests)."""
    discord_gateway_url: str = DISCORD_GATEWAY_URL
    discord_dms: bool = True
    """Answer direct messages to the bot."""
    discord_shard_count: int | None = Field(default=None, ge=1, le=10000)
    discord_shard_ids: tuple[int, ...] | None = None
    """The shards this process runs (with DISCORD_SHARD_COUNT); unset: all of them."""

    log_level: str = "INFO"
    # json (one object per line) or text; unset: json for `supportbot serve`, text for the other commands.
    log_format: Literal["json", "text"] | None = None

    # supportbot serve: on SIGTERM, how long the replies in progress get to finish before they are cut off
    # (and settled with a notice). Keep it under the platform's grace period (30 s on Heroku, Kubernetes).
    drain_seconds: float = Field(default=20.0, ge=0, le=600)

    # The leads' dashboard (/dashboard on `supportbot serve`'s port): DASHBOARD_SECRET signs its links and
    # sessions (the same on every instance; unset: the dashboard is off); PUBLIC_URL is where people reach
    # this server (the links /support dashboard hands out start with it).
    dashboard_secret: SecretStr | None = None
    public_url: str | None = None

    # supportbot chat at a terminal: the file that keeps the questions typed, for the arrow keys in later
    # sessions; unset: $XDG_DATA_HOME/supportbot/chat_history (~/.local/share/supportbot/chat_history).
    chat_history_path: Path | None = None

    @field_validator("chat_history_path", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _resolve_paths(self) -> Settings:
        """Every relative path setting against the one project folder (`bot.home`)."""
        home = find_home()
        for name in PATH_SETTINGS:
            setattr(self, name, home.resolve(getattr(self, name)))
        self.database_url = home.resolve_database_url(self.database_url)
        return self

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

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and urlsplit(value.get_secret_value()).scheme not in REDIS_SCHEMES:
            raise ValueError("must be a redis://, rediss:// or unix:// URL, e.g. redis://localhost:6379/0")
        return value

    @field_validator("redis_prefix")
    @classmethod
    def _redis_prefix(cls, value: str) -> str:
        if any(char.isspace() for char in value):
            raise ValueError("must not contain spaces")
        return value

    @field_validator("database_pool_min_size")
    @classmethod
    def _pool_sizes(cls, value: int, info: ValidationInfo) -> int:
        largest = info.data.get("database_pool_max_size")
        if isinstance(largest, int) and value > largest:
            raise ValueError(f"must not be larger than DATABASE_POOL_MAX_SIZE ({largest})")
        return value

    @field_validator("anthropic_base_url", "orders_api_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("dashboard_secret")
    @classmethod
    def _dashboard_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < DASHBOARD_SECRET_MIN_CHARS:
            raise ValueError(
                f"must be at least {DASHBOARD_SECRET_MIN_CHARS} characters; make one with "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        url = urlsplit(value)
        if url.scheme not in ("http", "https") or not url.netloc or url.query or url.fragment:
            raise ValueError(
                "must be the http:// or https:// address people reach this server at, "
                "e.g. https://support.example.com (no query, no fragment)"
            )
        return value.rstrip("/")

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
        "redis_url",
        "discord_token",
        "dashboard_secret",
        "discord_shard_count",
        "discord_shard_ids",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("discord_api_url")
    @classmethod
    def _discord_api(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http:// or https:// URL, e.g. https://discord.com/api/v10")
        return value.rstrip("/")  # discord.py appends the route's path

    @field_validator("discord_gateway_url")
    @classmethod
    def _discord_gateway(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("ws", "wss"):
            raise ValueError("must be a ws:// or wss:// URL, e.g. wss://gateway.discord.gg/")
        return value

    @field_validator("discord_shard_ids", mode="before")
    @classmethod
    def _shard_ids(cls, value: Any) -> Any:
        """``0,1,2`` (or a JSON list, or one number) as a tuple of shard ids; blank is unset."""
        if isinstance(value, int) and not isinstance(value, bool):
            return (value,)
        if isinstance(value, str) and not value.strip().startswith("["):
            parts = tuple(part.strip() for part in value.split(",") if part.strip())
            return parts or None
        return value

    @field_validator("discord_shard_ids")
    @classmethod
    def _shards_in_range(cls, value: tuple[int, ...] | None, info: ValidationInfo) -> tuple[int, ...] | None:
        if value is None:
            return None
        count = info.data.get("discord_shard_count")
        if not isinstance(count, int):
            raise ValueError("needs DISCORD_SHARD_COUNT (the total number of shards)")
        if not value or any(not 0 <= shard < count for shard in value):
            raise ValueError(f"must be shard ids from 0 to {count - 1}, comma-separated")
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value.strip().lower() or None
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return level


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, or raise ConfigError with one line naming the first bad variable."""
    overrides.setdefault("_env_file", find_home().env_file)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, env=True)) from None


def describe_validation_error(exc: ValidationError, *, env: bool, where: str = "") -> str:
    """One line: which setting is wrong and why. Never echoes the offending value (it may be a secret)."""
    error = exc.errors()[0]
    # A key with a line break (bot.toml keys are free text) must not break the one-line message.
    loc = ".".join(str(p) if str(p).isprintable() else repr(str(p)) for p in error["loc"])
    name = loc.upper() if env else loc
    message = error["msg"].removeprefix("Value error, ")
    hint = " (set it in the environment or .env; see .env.example)" if env else ""
    more = f" and {len(exc.errors()) - 1} more problem(s)" if len(exc.errors()) > 1 else ""
    return f"{where}{name}: {message}{hint}{more}"
