"""The kinds of knowledge source ``[[kb.sources]]`` may name, as one union discriminated by ``kind``.

Adding a kind: its module defines a ``XxxSourceConfig`` (a :class:`~bot.kb.sources.config.SourceConfig`
with ``kind: Literal["xxx"]`` and ``open(base_dir) -> KnowledgeSource``); add it to :data:`SourceConfigs`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.kb.sources.config import FolderSourceConfig, WebsiteSourceConfig, ZendeskSourceConfig

#: One ``[[kb.sources]]`` table, its model chosen by its ``kind``.
SourceConfigs = Annotated[
    FolderSourceConfig | WebsiteSourceConfig | ZendeskSourceConfig, Field(discriminator="kind")
]

#: The source published KB drafts become (``bot.quality.drafts``), which no configured source may be named.
DRAFTS_SOURCE = "drafts"
#: The name of the source that the ``KB_PATH`` folder is when ``[[kb.sources]]`` names none.
DEFAULT_SOURCE_NAME = "help-center"


class KnowledgeConfig(BaseModel):
    """``[kb]`` in config/bot.toml: the knowledge sources, each with a name no other one has."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: tuple[SourceConfigs, ...] = Field(default=(), max_length=100)

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: tuple[SourceConfigs, ...]) -> tuple[SourceConfigs, ...]:
        seen: set[str] = set()
        for source in sources:
            if source.name == DRAFTS_SOURCE:
                raise ValueError(f"{DRAFTS_SOURCE!r} is the published KB drafts' source; choose another name")
            if source.name in seen:
                raise ValueError(f"two sources are named {source.name!r}; each needs a name of its own")
            seen.add(source.name)
        return sources

    def configured(self, kb_path: Path) -> tuple[SourceConfigs, ...]:
        """The sources to sync: those of ``[[kb.sources]]``, or else the ``KB_PATH`` folder as
        :data:`DEFAULT_SOURCE_NAME`."""
        if self.sources:
            return self.sources
        return (FolderSourceConfig(name=DEFAULT_SOURCE_NAME, kind="folder", path=kb_path),)


__all__ = ["DEFAULT_SOURCE_NAME", "DRAFTS_SOURCE", "KnowledgeConfig", "SourceConfigs"]
