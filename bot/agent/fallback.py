"""Answers without the model: the same tools, the same authorization, and a plain note
(docs/architecture.md §7).

Used when there is no API key, while the circuit breaker is open, or when the model stays unavailable
after the client's retries.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from bot.agent.events import AgentEvent, Completed, TextDelta, ToolFinished
from bot.agent.messages import last_user_text
from bot.agent.toolbox import ToolBox
from bot.types import Conversation, Principal, Source, Usage

MODEL_UNAVAILABLE_NOTE = (
    "The AI model is not available right now, so this answer comes straight from our order system "
    "and help articles."
)
NOTHING_FOUND_TEXT = (
    "I found no help article about this, so I can't answer it myself. Ask for a human and a support lead "
    "will help."
)
"""The fallback's answer when the knowledge base has nothing relevant: no unrelated articles are listed."""
_ORDER_IDS = re.compile(
    # ORD-10009, ORD 10009, ord10009, #10009, order #10009, order 10009, order no. 10009, order id: 10009
    r"(?<![\w#-])(?:ORD[-\s#]*|order\s*(?:(?:no\.?|number|num|id)\s*)?[:#]?\s*|#\s?)(\d{3,12})(?!\d)",
    re.IGNORECASE,
)
_MY_ORDERS = re.compile(r"\bmy\s+(?:recent\s+|last\s+)?orders?\b", re.IGNORECASE)


def order_ids_in(text: str) -> list[str]:
    """The order ids ``text`` mentions, in the demo's form (``ORD-10009``), each once, in order."""
    return list(dict.fromkeys(f"ORD-{digits}" for digits in _ORDER_IDS.findall(text)))


class FallbackResponder:
    def __init__(self, toolbox: ToolBox, max_orders: int = 3) -> None:
        self._toolbox = toolbox
        self._max_orders = max_orders

    async def answer(self, conversation: Conversation, principal: Principal) -> AsyncIterator[AgentEvent]:
        question = last_user_text(conversation.turns)
        parts: list[str] = []
        sources: tuple[Source, ...] = ()
        order_ids = order_ids_in(question)
        if order_ids:
            for order_id in order_ids[: self._max_orders]:
                result = await self._toolbox.call(
                    "lookup_order", {"order_id": order_id}, principal, conversation.ref
                )
                parts.append(result.text)
        elif _MY_ORDERS.search(question):
            result = await self._toolbox.call("list_my_orders", {}, principal, conversation.ref)
            parts.append(result.text)
        elif question.strip():
            result = await self._toolbox.call(
                "search_kb", {"query": question[:500]}, principal, conversation.ref
            )
            yield ToolFinished("fallback", "search_kb", ok=not result.is_error, search=result.search)
            if result.sources:
                parts.append("These help articles look relevant:\n\n" + result.text)
                sources = result.sources
            else:
                parts.append(NOTHING_FOUND_TEXT)
        text = "\n\n".join([f"_{MODEL_UNAVAILABLE_NOTE}_", *parts])
        yield TextDelta(text)
        yield Completed(text=text, sources=sources, usage=Usage(), stop_reason="fallback")
