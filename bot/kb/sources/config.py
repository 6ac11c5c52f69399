"""What every ``[[kb.sources]]`` table holds, whatever its kind; each kind's config model extends it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bot.kb.sources.base import Visibility

#: Shortest and longest re-sync interval in seconds (``sync_every``).
MIN_SYNC_EVERY = 1.0
MAX_SYNC_EVERY = 30 * 86_400.0


class SourceConfig(BaseModel):
    """The keys every kind of source shares. Unknown keys are refused, so a misspelt one is named."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64)
    #: The visibility of an article that does not say its own (``public`` for everyone, ``internal`` for
    #: staff).
    visibility: Visibility = "public"
    #: Seconds between scheduled syncs in ``supportbot serve``; None: only at start and on ``kb sync``.
    sync_every: float | None = Field(default=None, ge=MIN_SYNC_EVERY, le=MAX_SYNC_EVERY)
