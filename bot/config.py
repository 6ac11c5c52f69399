"""`config/bot.toml`: roles, channel overrides, limits, privacy, prices and platform facts, validated with
pydantic.

The file is data the support team edits; a mistake gives one line naming the key (exit status 2).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.errors import ConfigError
from bot.handoff.config import HandoffConfig
from bot.kb.sources.kinds import KnowledgeConfig
from bot.settings import describe_validation_error

#: The most characters one message may hold on each platform, and where the limit comes from.
PLATFORM_MESSAGE_LIMITS: dict[str, tuple[int, str]] = {
    "slack": (4000, "Slack shows about 4,000 characters of a message's text"),
    "discord": (2000, "Discord refuses message content over 2,000 characters"),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlackRoles(_Strict):
    lead_user_ids: tuple[str, ...] = ()
    lead_usergroup_id: str | None = None
    leads_channel: str | None = None


class DiscordRoles(_Strict):
    lead_role_ids: tuple[str, ...] = ()
    leads_channel_id: str | None = None


class ChannelOverride(_Strict):
    """Per-channel behaviour, keyed by channel id in `[channels."<id>"]`."""

    answer_bots: bool = False
    solved_tag: str | None = None
    forum: bool = False
    step_back: bool = True
    """When staff (a lead) writes in a thread the bot answers, the bot stops answering there until it is
    mentioned again or ``/support resume`` is run in the thread (Discord)."""
    prompt: str | None = Field(default=None, min_length=1, max_length=200)
    """A file beside the system prompt whose text follows it in this channel (its voice; bot.channels)."""
    kb: tuple[str, ...] | None = Field(default=None, min_length=1, max_length=100)
    """The knowledge sources this channel may search, by name; None: every source (bot.channels)."""

    @field_validator("prompt")
    @classmethod
    def _file_name(cls, value: str | None) -> str | None:
        if value is not None and (value.strip(".") == "" or "/" in value or "\\" in value):
            raise ValueError("must be a file name beside the system prompt, e.g. 'partner.md'")
        return value


class Limits(_Strict):
    messages_per_user_per_minute: int = Field(default=10, ge=1, le=10_000)
    daily_tokens_per_space: int = Field(default=2_000_000, ge=1000, le=1_000_000_000_000)
    max_input_chars: int = Field(default=4000, ge=100, le=100_000)
    leads_exempt: bool = True


class AgentLimits(_Strict):
    max_tool_rounds: int = Field(default=6, ge=1, le=50)
    tool_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    history_turns: int = Field(default=20, ge=2, le=1000)
    history_token_budget: int = Field(default=4000, ge=500, le=1_000_000)
    """Tokens (estimated: characters / 4) of history sent word for word; older turns are summarised."""
    max_model_calls_per_answer: int = Field(default=10, ge=2, le=100)
    """A hard stop: model requests one answer may make (tool rounds, continuations, retries)."""
    answer_timeout_seconds: float = Field(default=120.0, ge=1, le=900)
    """A hard stop: seconds one answer may take; then it ends with what it wrote and a notice."""

    @model_validator(mode="after")
    def _calls_after_rounds(self) -> AgentLimits:
        if self.max_model_calls_per_answer <= self.max_tool_rounds:
            raise ValueError(
                "max_model_calls_per_answer must be larger than max_tool_rounds "
                "(the answer after the last tool round is a model call too)"
            )
        return self


class Privacy(_Strict):
    retention_days: int = Field(default=90, ge=1, le=3650)
    """Messages, summaries, tool results and the tool audit older than this many days are pruned
    (``bot.privacy``); the rows the stats count stay, without text or person."""


class ModelPrice(_Strict):
    """US dollars per million tokens."""

    input: float = Field(ge=0, le=10_000)
    output: float = Field(ge=0, le=10_000)
    cache_read: float = Field(ge=0, le=10_000)
    cache_write: float = Field(ge=0, le=10_000)


class SuggestedPrompt(_Strict):
    """A prompt Slack offers when someone opens the bot in its agent view (``title`` shown, ``message``
    sent when clicked)."""

    title: str = Field(min_length=1, max_length=75)
    message: str = Field(min_length=1, max_length=1000)


class PlatformFacts(_Strict):
    """Rate and size facts of one platform (docs/architecture.md §5), overridable here.

    ``edit_burst`` is the burst of a token-bucket edit budget (Discord, console); ``edit_reserve`` is used
    where edits are counted per minute (Slack): the edits of each minute kept for first and final texts.
    ``requests_per_second`` limits all of the bot's calls together where the platform does (Discord's
    global limit); None: no such limit.
    """

    max_message_chars: int = Field(ge=200, le=100_000)
    """Also at most the platform's own limit (:data:`PLATFORM_MESSAGE_LIMITS`)."""
    edit_interval_seconds: float = Field(default=1.0, gt=0, le=60)
    edits_per_minute: float = Field(gt=0, le=100_000)
    edit_burst: int = Field(default=5, ge=1, le=10_000)
    edit_reserve: int = Field(default=0, ge=0, le=10_000)
    posts_per_second: float = Field(default=1.0, gt=0, le=10_000)
    requests_per_second: int | None = Field(default=None, ge=1, le=10_000)
    suggested_prompts: tuple[SuggestedPrompt, ...] = Field(default=(), max_length=4)
    """Slack only: the prompts shown when an assistant thread starts (Slack shows at most four)."""
    streaming: Literal["edit", "native"] = "edit"
    """Slack only: stream an answer by editing its messages, or with ``chat.startStream`` and the like."""

    @model_validator(mode="after")
    def _reserve_below_limit(self) -> PlatformFacts:
        if self.edit_reserve >= self.edits_per_minute:
            raise ValueError("edit_reserve must be smaller than edits_per_minute")
        return self


class BotConfig(_Strict):
    slack: SlackRoles = SlackRoles()
    discord: DiscordRoles = DiscordRoles()
    channels: dict[str, ChannelOverride] = {}
    limits: Limits = Limits()
    agent: AgentLimits = AgentLimits()
    privacy: Privacy = Privacy()
    prices: dict[str, ModelPrice] = {}
    platforms: dict[str, PlatformFacts] = {}
    kb: KnowledgeConfig = KnowledgeConfig()
    """The knowledge sources (``[[kb.sources]]``); none: the ``KB_PATH`` folder (bot.kb.sources.kinds)."""
    handoff: HandoffConfig = HandoffConfig()
    """Where escalations go besides the leads' channel (``[handoff]``; bot.handoff)."""

    @field_validator("platforms")
    @classmethod
    def _within_platform_limits(cls, platforms: dict[str, PlatformFacts]) -> dict[str, PlatformFacts]:
        for name, facts in platforms.items():
            limit = PLATFORM_MESSAGE_LIMITS.get(name)
            if limit is not None and facts.max_message_chars > limit[0]:
                raise ValueError(
                    f"{name}.max_message_chars must be at most {limit[0]:,} ({limit[1]}); "
                    "a longer message would be refused or cut"
                )
            if name != "slack" and (facts.suggested_prompts or facts.streaming != "edit"):
                raise ValueError(
                    f"{name}: suggested_prompts and streaming are settings of platforms.slack only"
                )
        return platforms

    def facts(self, platform: str) -> PlatformFacts:
        try:
            return self.platforms[platform]
        except KeyError:
            raise ConfigError(
                f"config/bot.toml: platforms.{platform}: missing; add a [platforms.{platform}] table"
            ) from None

    def price(self, model: str) -> ModelPrice | None:
        """The price of ``model`` by the longest configured prefix (``claude-sonnet`` covers dated names)."""
        matches = [name for name in self.prices if model.startswith(name)]
        return self.prices[max(matches, key=len)] if matches else None


def load_bot_config(path: Path) -> BotConfig:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"BOT_CONFIG_PATH: {path} does not exist; point it at a bot.toml file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"BOT_CONFIG_PATH: {path} cannot be read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    try:
        return BotConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, env=False, where=f"{path}: ")) from None
