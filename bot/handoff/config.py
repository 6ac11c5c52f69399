"""``[handoff]`` in ``config/bot.toml``: where escalations go besides the leads' channel, and how.

The secrets are not in the file: ``webhook_secret_env``, ``zendesk_token_env`` and ``inbound_secret_env``
name the environment variables that hold them (``.env.example``). A target that is listed needs its URL,
and its secret set, else the start stops with exit status 2 naming the key or the variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from bot.errors import ConfigError

Target = Literal["webhook", "zendesk"]
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"


def _check_url(key: str, url: str) -> None:
    """An http(s) URL; plain http only to this machine (a secret or a token goes with every request)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{key} must be an http(s) URL, not {url!r}")
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        raise ValueError(f"{key} must use https (http only to localhost): its requests carry a secret")


class HandoffConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    targets: tuple[Target, ...] = ()
    """Where each escalation goes besides the leads' channel; none: nowhere else."""
    webhook_url: str | None = None
    webhook_secret_env: str = Field(default="HANDOFF_WEBHOOK_SECRET", pattern=ENV_NAME)
    zendesk_url: str | None = None
    """``https://{subdomain}.zendesk.com``; overridable, e.g. for a local fake."""
    zendesk_email: str | None = Field(default=None, pattern=r"^[^\s@/:]+@[^\s@/:]+$")
    zendesk_token_env: str = Field(default="ZENDESK_API_TOKEN", pattern=ENV_NAME)
    inbound_secret_env: str = Field(default="HANDOFF_INBOUND_SECRET", pattern=ENV_NAME)
    """Verifies ``POST /hooks/helpdesk``; unset in the environment: the route refuses every call."""
    retry_seconds: float = Field(default=5.0, gt=0, le=3600)
    """The first wait after a failed delivery; it doubles with each failure up to ``retry_max_seconds``."""
    retry_max_seconds: float = Field(default=900.0, gt=0, le=86400)
    poll_seconds: float = Field(default=5.0, gt=0, le=300)
    """How often ``serve`` looks for deliveries that are due (an escalation made here is sent at once)."""
    transcript_turns: int = Field(default=30, ge=0, le=200)
    transcript_chars: int = Field(default=12_000, ge=0, le=100_000)
    replay_seconds: int = Field(default=300, ge=10, le=3600)
    """How old an inbound call's timestamp may be, either way."""

    @model_validator(mode="after")
    def _targets_are_complete(self) -> HandoffConfig:
        if len(set(self.targets)) != len(self.targets):
            raise ValueError("targets: each target once")
        if "webhook" in self.targets:
            if self.webhook_url is None:
                raise ValueError('webhook_url: required when targets has "webhook"')
            _check_url("webhook_url", self.webhook_url)
        if "zendesk" in self.targets:
            if self.zendesk_url is None or self.zendesk_email is None:
                raise ValueError('zendesk_url and zendesk_email: required when targets has "zendesk"')
            _check_url("zendesk_url", self.zendesk_url)
        return self


@dataclass(frozen=True)
class HandoffSecrets:
    webhook: SecretStr | None
    zendesk_token: SecretStr | None
    inbound: SecretStr | None

    @classmethod
    def from_env(cls, config: HandoffConfig, environ: Mapping[str, str]) -> HandoffSecrets:
        """The secrets the listed targets need; ``ConfigError`` naming a variable that is not set."""

        def read(name: str, needed: bool, what: str) -> SecretStr | None:
            value = environ.get(name, "").strip()
            if not value and needed:
                raise ConfigError(f"{name}: not set ({what}; [handoff] in bot.toml names it)")
            return SecretStr(value) if value else None

        return cls(
            webhook=read(
                config.webhook_secret_env, "webhook" in config.targets, "signs the helpdesk webhook"
            ),
            zendesk_token=read(
                config.zendesk_token_env, "zendesk" in config.targets, "the Zendesk API token"
            ),
            inbound=read(config.inbound_secret_env, False, "verifies POST /hooks/helpdesk"),
        )
