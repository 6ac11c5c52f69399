"""Shared fixtures: the local fakes that stand in for the Anthropic, Slack and Discord APIs, and the real
PostgreSQL and Redis servers (``local_services``)."""

from fakes.anthropic import fake_anthropic  # noqa: F401
from fakes.discord import fake_discord  # noqa: F401
from fakes.slack import fake_slack  # noqa: F401
from local_services import pg_schema_url, postgres_url, redis_prefix, redis_url  # noqa: F401
