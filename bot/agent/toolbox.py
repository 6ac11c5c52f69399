"""The tool interface and the toolbox that validates, times out, runs concurrently and audits every call.

Authorization lives in each tool (docs/architecture.md §6); the toolbox makes sure no call escapes the audit
log and
that bad input from the model is a tool error the model sees, never a crash.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ValidationError

from bot.channels import ChannelScopes
from bot.metrics import BotMetrics
from bot.store import AuditRecord, EscalationLog, SearchRecord, ToolboxStore
from bot.types import Principal, Source, ThreadRef

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ToolContext:
    principal: Principal
    thread: ThreadRef
    store: EscalationLog
    deadline: float
    """`time.monotonic()` value by which the tool must be done."""
    kb_sources: frozenset[str] | None = None
    """The knowledge sources the thread's channel may search (``kb`` in config/bot.toml); None: all."""


@dataclass(frozen=True)
class ToolResult:
    """What a tool returns.

    ``text`` is readable by people and the model alike (the fallback responder shows it as is).
    ``blocks``, when set, replace ``text`` as the tool_result content sent to the model (e.g. search_result
    blocks). ``outcome`` is the audit word: ok, denied, not_found, invalid_input, timeout, error.
    ``search`` is set by a knowledge-base search: what it found, recorded with the answer
    (``bot.quality.record``).
    """

    text: str
    outcome: str = "ok"
    is_error: bool = False
    blocks: tuple[dict[str, Any], ...] = ()
    sources: tuple[Source, ...] = ()
    search: SearchRecord | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome != "denied"

    def content(self) -> list[dict[str, Any]]:
        if self.blocks:
            return list(self.blocks)
        return [{"type": "text", "text": self.text}]


class Tool(Protocol):
    name: ClassVar[str]
    description: ClassVar[str]
    input_model: ClassVar[type[BaseModel]]

    async def run(self, args: BaseModel, ctx: ToolContext) -> ToolResult: ...

    def subject(self, args: BaseModel) -> str | None:
        """What a call with ``args`` is about, in a few words a person may see while it runs (an order
        id), or None; never anything the asker could not see anyway."""
        ...


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    input: object


@dataclass(frozen=True)
class ToolCallSeen:
    """A call as it ran: the tool's name, the input as the model sent it, the thread and the result."""

    name: str
    input: object
    thread: ThreadRef
    result: ToolResult


@dataclass
class ToolBox:
    """The agent's tools. `call` is the only way a tool runs."""

    tools: Sequence[Tool]
    store: ToolboxStore
    timeout: float = 10.0
    metrics: BotMetrics | None = None
    """Where tool calls are counted (None: not counted); each tool's series start at zero."""
    channels: ChannelScopes = field(default_factory=ChannelScopes)
    """Per-channel limits the tools enforce, e.g. the knowledge sources a channel may search."""
    observers: list[Callable[[ToolCallSeen], None]] = field(default_factory=list)
    """Told of every call once it ran, e.g. by `supportbot eval`, which checks the tools an answer used."""
    _by_name: dict[str, Tool] = field(init=False)

    _definitions: list[dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        self._by_name = {tool.name: tool for tool in self.tools}
        self._definitions = self._build_definitions()
        if self.metrics is not None:
            for tool in self.tools:
                self.metrics.add_tool(tool.name)

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def subject(self, name: str, raw_input: object) -> str | None:
        """What a call of ``name`` with ``raw_input`` is about (``Tool.subject``); None when the input is
        not valid for the tool, or the tool does not say."""
        tool = self._by_name.get(name)
        if tool is None:
            return None
        try:
            args = tool.input_model.model_validate(raw_input if raw_input is not None else {})
        except ValidationError:
            return None
        return tool.subject(args)

    def definitions(self) -> list[dict[str, Any]]:
        """Tool definitions for the Messages API; the last carries the cache breakpoint for the prefix.

        Built once: the tools are fixed for the toolbox's life, and schemas are costly to generate."""
        return self._definitions

    def _build_definitions(self) -> list[dict[str, Any]]:
        defs: list[dict[str, Any]] = [
            {
                "name": tool.name,
                "description": tool.description,
                "input_schema": tool.input_model.model_json_schema(),
            }
            for tool in self.tools
        ]
        if defs:
            defs[-1]["cache_control"] = {"type": "ephemeral"}
        return defs

    async def call(self, name: str, raw_input: object, principal: Principal, thread: ThreadRef) -> ToolResult:
        started = time.monotonic()
        result = await self._run(name, raw_input, principal, thread, started)
        await self._audit(name, raw_input, principal, thread, result, started)
        for observe in self.observers:
            observe(ToolCallSeen(name, raw_input, thread, result))
        if self.metrics is not None:
            # A name the model made up is not a label value: metrics keep a bounded set of series.
            self.metrics.observe_tool_call(name if name in self._by_name else "unknown", result.allowed)
        return result

    async def call_many(
        self, calls: Iterable[ToolCall], principal: Principal, thread: ThreadRef
    ) -> list[ToolResult]:
        """Run calls concurrently; results come back in the order of ``calls``."""
        return list(await asyncio.gather(*(self.call(c.name, c.input, principal, thread) for c in calls)))

    async def _run(
        self, name: str, raw_input: object, principal: Principal, thread: ThreadRef, started: float
    ) -> ToolResult:
        tool = self._by_name.get(name)
        if tool is None:
            return ToolResult(f"There is no tool named {name!r}.", outcome="invalid_input", is_error=True)
        try:
            args = tool.input_model.model_validate(raw_input if raw_input is not None else {})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors()[:3]
            )
            return ToolResult(
                f"Invalid input for {name}: {problems}.", outcome="invalid_input", is_error=True
            )
        scope = self.channels.for_thread(thread)
        ctx = ToolContext(principal, thread, self.store, started + self.timeout, kb_sources=scope.kb_sources)
        try:
            async with asyncio.timeout(self.timeout):
                return await tool.run(args, ctx)
        except TimeoutError:
            return ToolResult(f"{name} did not answer in time.", outcome="timeout", is_error=True)
        except Exception:
            log.exception("tool %s failed", name)
            return ToolResult(f"{name} failed unexpectedly.", outcome="error", is_error=True)

    async def _audit(
        self,
        name: str,
        raw_input: object,
        principal: Principal,
        thread: ThreadRef,
        result: ToolResult,
        started: float,
    ) -> None:
        record = AuditRecord(
            at=datetime.now(UTC),
            platform=principal.platform,
            user_id=principal.user_id,
            principal=principal.describe(),
            thread_key=thread.key,
            tool=name,
            args_digest=args_digest(raw_input),
            allowed=result.allowed,
            outcome=result.outcome,
            latency_ms=(time.monotonic() - started) * 1000,
        )
        await self.store.record_tool_call(record)


def args_digest(raw_input: object) -> str:
    """A short stable digest of tool arguments, so the audit log shows repeats without storing the values."""
    try:
        canonical = json.dumps(raw_input, sort_keys=True, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        canonical = repr(raw_input)
    return hashlib.sha256(canonical.encode("utf-8", "replace")).hexdigest()[:16]
