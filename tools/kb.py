"""`search_kb`: knowledge-base search, filtered by what the asking principal may read.

Results go back to Claude as `search_result` blocks so answers cite their sources natively; `public`
articles are for everyone, `internal` ones for staff only, and in a channel with a ``kb`` list only the
articles of those sources (``ToolContext.kb_sources``; both filters are in the index query). When no
article is relevant enough the model is told so, and not to guess (:data:`NOTHING_FOUND`); so it is when
the index file is damaged (logged, one line per search, until an operator deletes it to rebuild it).
"""

from __future__ import annotations

import logging
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from bot.agent.toolbox import ToolContext, ToolResult
from bot.kb.hits import KbHit
from bot.kb.index import KnowledgeBase, UnreadableIndex
from bot.store import SearchRecord
from bot.store.records import SCORES_KEPT
from bot.types import Principal, Source

log = logging.getLogger(__name__)

NOTHING_FOUND = (
    "No help-center article matches this search. Do not guess or answer from general knowledge: tell the "
    "person that you found no article about it, and offer to hand the conversation to a person "
    "(escalate_to_human). If the question has other parts, search for those separately."
)
"""What the model is told when no article is relevant enough (the index abstains below its floor)."""


class SearchKbInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=500, description="What to search for, in a few words")


class SearchKb:
    name: ClassVar[str] = "search_kb"
    description: ClassVar[str] = (
        "Search the help-center knowledge base (shipping, returns, refunds, warranty, accounts, payments, "
        "and staff procedures for staff). Returns the most relevant articles to cite."
    )
    input_model: ClassVar[type[BaseModel]] = SearchKbInput

    def __init__(self, kb: KnowledgeBase, limit: int = 4) -> None:
        self._kb = kb
        self._limit = limit

    async def hits(
        self,
        query: str,
        principal: Principal,
        *,
        sources: frozenset[str] | None = None,
        limit: int | None = None,
    ) -> list[KbHit]:
        """The sections ``principal`` may read that answer ``query``, best first; ``[]`` when none is
        relevant enough. Internal ones for staff only; only of ``sources`` when given (the channel's
        ``kb``). Both filters are in the index query, before ranking."""
        return await self._kb.asearch(
            query, include_internal=principal.is_staff, sources=sources, limit=limit or self._limit
        )

    def subject(self, args: BaseModel) -> str | None:
        return None

    async def run(self, args: BaseModel, ctx: ToolContext) -> ToolResult:
        assert isinstance(args, SearchKbInput)
        try:
            hits = await self.hits(args.query, ctx.principal, sources=ctx.kb_sources)
        except UnreadableIndex as exc:  # the turn goes on: the answer is the one for no article found
            log.error("search_kb: %s", exc)
            hits = []
        found = SearchRecord(args.query, len(hits), tuple(hit.score for hit in hits[:SCORES_KEPT]))
        if not hits:
            return ToolResult(NOTHING_FOUND, outcome="not_found", search=found)
        blocks = tuple(
            {
                "type": "search_result",
                "source": hit.url or f"kb:{hit.source}/{hit.slug}",  # an article with no address: its id
                "title": hit.title,
                "content": [{"type": "text", "text": hit.snippet}],
                "citations": {"enabled": True},
            }
            for hit in hits
        )
        sources = tuple(Source(hit.title, hit.url) for hit in hits)
        text = "\n\n".join(
            f"{source.cited()}\n{hit.snippet}" for source, hit in zip(sources, hits, strict=True)
        )
        return ToolResult(text, blocks=blocks, sources=sources, search=found)
