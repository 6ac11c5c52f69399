"""`escalate_to_human`: record an escalation, tell the leads, and let the bot step back in the thread."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from bot.agent.toolbox import ToolContext, ToolResult
from bot.escalations import EscalationNotifier


class EscalateInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    summary: str = Field(
        min_length=1, max_length=2000, description="A short summary of the problem for the human agent"
    )


class EscalateToHuman:
    name: ClassVar[str] = "escalate_to_human"
    description: ClassVar[str] = (
        "Hand the conversation to a human support lead. Use it when the user asks for a person, when "
        "a refund or exception needs approval, or when you cannot solve the problem. The bot then stays "
        "quiet in this thread until a lead resolves it."
    )
    input_model: ClassVar[type[BaseModel]] = EscalateInput

    def __init__(self, notifier: EscalationNotifier) -> None:
        self._notifier = notifier

    def subject(self, args: BaseModel) -> str | None:
        return None

    async def run(self, args: BaseModel, ctx: ToolContext) -> ToolResult:
        assert isinstance(args, EscalateInput)
        escalation = await ctx.store.open_escalation(ctx.thread, ctx.principal.user_id, args.summary)
        if escalation is None:
            return ToolResult("This conversation is already with a human; a support lead will reply here.")
        await self._notifier.notify(escalation, ctx.principal)
        return ToolResult(
            f"Escalation #{escalation.id} is open. A support lead has been notified and will reply in "
            "this conversation; the bot will stay quiet here until then."
        )
