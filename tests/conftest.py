"""Shared fixtures: the local fakes that stand in for the Anthropic, Slack and Discord APIs."""

from fakes.anthropic_api import fake_anthropic  # noqa: F401
from fakes.discord_api import fake_discord  # noqa: F401
from fakes.slack_api import fake_slack  # noqa: F401
