"""The checks the Messages API makes on a request body (:func:`validate_messages_request`)."""

from __future__ import annotations

from typing import Any

from .media import check_media_block
from .wire import _TOOL_NAME_RE, ACCEPTED_BLOCK_TYPES, JSON, MAX_CACHE_BREAKPOINTS, TOOL_RESULT_CONTENT_TYPES

# --------------------------------------------------------------------------------------------------------
# Validation


def validate_messages_request(body: Any, *, count_tokens: bool = False) -> list[str]:
    """The problems the Messages API would answer with 400 ``invalid_request_error`` (empty if none)."""
    if not isinstance(body, dict):
        return ["request body must be a JSON object"]
    errors: list[str] = []
    model = body.get("model")
    if "model" not in body:
        errors.append("model: Field required")
    elif not isinstance(model, str) or not model:
        errors.append("model: Input should be a non-empty string")
    if not count_tokens:
        max_tokens = body.get("max_tokens")
        if "max_tokens" not in body:
            errors.append("max_tokens: Field required")
        elif not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            errors.append("max_tokens: Input should be an integer greater than or equal to 1")
    if "stream" in body and not isinstance(body["stream"], bool):
        errors.append("stream: Input should be a valid boolean")

    breakpoints = [0]
    if "cache_control" in body and body["cache_control"] is not None:
        _check_cache_control(body, "cache_control", errors, breakpoints)

    _check_system(body.get("system"), errors, breakpoints)
    tool_names = _check_tools(body.get("tools"), errors, breakpoints)
    _check_tool_choice(body.get("tool_choice"), tool_names, errors)

    messages = body.get("messages")
    if "messages" not in body:
        errors.append("messages: Field required")
    elif not isinstance(messages, list):
        errors.append("messages: Input should be a valid list")
    elif not messages:
        errors.append("messages: at least one message is required")
    else:
        _check_messages(messages, "tools" in body and bool(body.get("tools")), errors, breakpoints)

    if breakpoints[0] > MAX_CACHE_BREAKPOINTS:
        errors.append(
            f"A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. "
            f"Found {breakpoints[0]}."
        )
    return errors


def _check_cache_control(obj: JSON, path: str, errors: list[str], breakpoints: list[int]) -> None:
    cc = obj.get("cache_control")
    if cc is None:
        return
    if not isinstance(cc, dict) or cc.get("type") != "ephemeral":
        errors.append(f"{path}.type: Input should be 'ephemeral'")
    elif "ttl" in cc and cc["ttl"] not in ("5m", "1h"):
        errors.append(f"{path}.ttl: Input should be '5m' or '1h'")
    breakpoints[0] += 1


def _check_text_block(block: JSON, path: str, errors: list[str]) -> None:
    text = block.get("text")
    if not isinstance(text, str):
        errors.append(f"{path}.text: Field required")
    elif not text:
        errors.append(f"{path}: text content blocks must be non-empty")
    elif not text.strip():
        errors.append(f"{path}: text content blocks must contain non-whitespace text")


def _check_system(system: Any, errors: list[str], breakpoints: list[int]) -> None:
    if system is None or isinstance(system, str):
        return
    if not isinstance(system, list):
        errors.append("system: Input should be a valid string or a list of text blocks")
        return
    for i, block in enumerate(system):
        path = f"system.{i}"
        if not isinstance(block, dict) or block.get("type") != "text":
            errors.append(f"{path}.type: Input should be 'text'")
            continue
        _check_text_block(block, path, errors)
        if "cache_control" in block:
            _check_cache_control(block, f"{path}.cache_control", errors, breakpoints)


def _check_tools(tools: Any, errors: list[str], breakpoints: list[int]) -> set[str]:
    names: set[str] = set()
    if tools is None:
        return names
    if not isinstance(tools, list):
        errors.append("tools: Input should be a valid list")
        return names
    for i, tool in enumerate(tools):
        path = f"tools.{i}"
        if not isinstance(tool, dict):
            errors.append(f"{path}: Input should be a valid dictionary")
            continue
        name = tool.get("name")
        if "name" not in tool:
            errors.append(f"{path}.name: Field required")
        elif not isinstance(name, str) or not _TOOL_NAME_RE.fullmatch(name):
            errors.append(f"{path}.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'")
        elif name in names:
            errors.append(f"tools: Tool names must be unique. Found duplicate: {name}")
        else:
            names.add(name)
        if tool.get("type") in (None, "custom"):  # server tools (web_search_…) carry no input_schema
            schema = tool.get("input_schema")
            if "input_schema" not in tool:
                errors.append(f"{path}.custom.input_schema: Field required")
            elif not isinstance(schema, dict) or schema.get("type") != "object":
                errors.append(f"{path}.custom.input_schema.type: Input should be 'object'")
            if "description" in tool and not isinstance(tool["description"], str):
                errors.append(f"{path}.custom.description: Input should be a valid string")
        if "cache_control" in tool:
            _check_cache_control(tool, f"{path}.cache_control", errors, breakpoints)
    return names


def _check_tool_choice(choice: Any, tool_names: set[str], errors: list[str]) -> None:
    if choice is None:
        return
    if not isinstance(choice, dict) or choice.get("type") not in ("auto", "any", "tool", "none"):
        errors.append("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'")
        return
    if choice["type"] == "tool" and choice.get("name") not in tool_names:
        errors.append(f"tool_choice.name: tool {choice.get('name')!r} is not defined in tools")
    elif choice["type"] in ("any", "tool") and not tool_names:
        errors.append("tool_choice: tool_choice may only be specified while providing tools")


def _check_block_shape(block: JSON, path: str, errors: list[str]) -> None:
    btype = block.get("type")
    if btype == "text":
        _check_text_block(block, path, errors)
    elif btype in ("image", "document"):
        source = block.get("source")
        if not isinstance(source, dict) or not isinstance(source.get("type"), str):
            errors.append(f"{path}.source: Field required")
        elif source["type"] == "base64" and not (source.get("media_type") and source.get("data")):
            errors.append(f"{path}.source: base64 sources need media_type and data")
    elif btype == "search_result":
        if not (isinstance(block.get("source"), str) and block["source"]) or not isinstance(
            block.get("title"), str
        ):
            errors.append(f"{path}: search_result blocks need a non-empty string source and a string title")
        content = block.get("content")
        if not isinstance(content, list) or not content:
            errors.append(f"{path}.content: search_result content must be a non-empty list of text blocks")
        else:
            for k, inner in enumerate(content):
                if not isinstance(inner, dict) or inner.get("type") != "text":
                    errors.append(f"{path}.content.{k}.type: Input should be 'text'")
                else:
                    _check_text_block(inner, f"{path}.content.{k}", errors)


_EMPTY_CONTENT = "all messages must have non-empty content except for the optional final assistant message"


def _missing_results(index: int, ids: list[str]) -> str:
    return (
        f"messages.{index}: `tool_use` ids were found without `tool_result` blocks immediately after: "
        f"{', '.join(ids)}. Each `tool_use` block must have a corresponding `tool_result` block "
        "in the next message."
    )


def _check_messages(messages: list[Any], has_tools: bool, errors: list[str], breakpoints: list[int]) -> None:
    expected_results: list[str] = []  # tool_use ids of the immediately preceding assistant message
    all_tool_use_ids: set[str] = set()
    prev_role: str | None = None
    uses_tools = False
    last = len(messages) - 1
    for i, message in enumerate(messages):
        path = f"messages.{i}"
        if not isinstance(message, dict):
            errors.append(f"{path}: Input should be a valid dictionary")
            continue
        role = message.get("role")
        if role not in ("user", "assistant"):
            errors.append(f"{path}.role: Input should be 'user' or 'assistant'")
            continue
        if i == 0 and role != "user":
            errors.append('messages: first message must use the "user" role')
        if prev_role == role:
            errors.append(
                f'messages: roles must alternate between "user" and "assistant", '
                f'but found multiple "{role}" roles in a row (at {path})'
            )
        prev_role = role

        content = message.get("content")
        blocks: list[Any]
        if isinstance(content, str):
            if not content and not (i == last and role == "assistant"):
                errors.append(f"{path}: {_EMPTY_CONTENT}")
            elif content and not content.strip():
                errors.append(f"{path}.content: text content blocks must contain non-whitespace text")
            blocks = []
        elif isinstance(content, list):
            if not content and not (i == last and role == "assistant"):
                errors.append(f"{path}: {_EMPTY_CONTENT}")
            blocks = content
        else:
            errors.append(f"{path}.content: Input should be a valid string or list of content blocks")
            blocks = []

        tool_use_ids: list[str] = []
        result_ids: list[tuple[int, str]] = []
        seen_other = False
        for j, block in enumerate(blocks):
            bpath = f"{path}.content.{j}"
            if not isinstance(block, dict):
                errors.append(f"{bpath}: Input should be a valid dictionary")
                continue
            btype = block.get("type")
            if btype not in ACCEPTED_BLOCK_TYPES:
                errors.append(
                    f"{bpath}.type: Input tag {btype!r} found using 'type' does not match any of the "
                    f"expected tags: {', '.join(sorted(ACCEPTED_BLOCK_TYPES))}"
                )
                continue
            if "cache_control" in block:
                _check_cache_control(block, f"{bpath}.cache_control", errors, breakpoints)
            if btype == "tool_use":
                uses_tools = True
                if role != "assistant":
                    errors.append(f"{bpath}: tool_use blocks may only appear in assistant messages")
                tid = block.get("id")
                if not isinstance(tid, str) or not tid:
                    errors.append(f"{bpath}.id: Field required")
                    continue
                if not isinstance(block.get("name"), str) or not block["name"]:
                    errors.append(f"{bpath}.name: Field required")
                if not isinstance(block.get("input"), dict):
                    errors.append(f"{bpath}.input: Input should be a valid dictionary")
                if tid in all_tool_use_ids:
                    errors.append(f"{bpath}: `tool_use` ids must be unique. Found duplicate: {tid}")
                all_tool_use_ids.add(tid)
                tool_use_ids.append(tid)
            elif btype == "tool_result":
                uses_tools = True
                if role != "user":
                    errors.append(f"{bpath}: tool_result blocks may only appear in user messages")
                if seen_other:
                    errors.append(
                        f"{bpath}: tool_result blocks must come first in the user message content, "
                        "before any other blocks"
                    )
                rid = block.get("tool_use_id")
                if not isinstance(rid, str) or not rid:
                    errors.append(f"{bpath}.tool_use_id: Field required")
                else:
                    result_ids.append((j, rid))
                if "is_error" in block and not isinstance(block["is_error"], bool):
                    errors.append(f"{bpath}.is_error: Input should be a valid boolean")
                inner_content = block.get("content")
                if isinstance(inner_content, list):
                    for k, inner in enumerate(inner_content):
                        ipath = f"{bpath}.content.{k}"
                        if not isinstance(inner, dict) or inner.get("type") not in TOOL_RESULT_CONTENT_TYPES:
                            itype = inner.get("type") if isinstance(inner, dict) else None
                            errors.append(
                                f"{ipath}.type: Input tag {itype!r} is not allowed in tool_result content"
                            )
                            continue
                        _check_block_shape(inner, ipath, errors)
                        if "cache_control" in inner:
                            _check_cache_control(inner, f"{ipath}.cache_control", errors, breakpoints)
                elif inner_content is not None and not isinstance(inner_content, str):
                    errors.append(
                        f"{bpath}.content: Input should be a valid string or list of content blocks"
                    )
            elif btype in ("image", "document"):
                seen_other = True
                check_media_block(block, role, bpath, errors)
            else:
                seen_other = True
                _check_block_shape(block, bpath, errors)

        if role == "user":
            answered: set[str] = set()
            for j, rid in result_ids:
                if rid not in expected_results:
                    errors.append(
                        f"{path}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: {rid}. "
                        "Each `tool_result` block must have a corresponding `tool_use` block "
                        "in the previous message."
                    )
                elif rid in answered:
                    errors.append(f"{path}.content.{j}: duplicate `tool_result` for tool_use_id {rid}")
                answered.add(rid)
            missing = [tid for tid in expected_results if tid not in answered]
            if missing:
                errors.append(_missing_results(i - 1, missing))
            expected_results = []
        else:
            expected_results = tool_use_ids
    if expected_results:
        errors.append(_missing_results(last, expected_results))
    if uses_tools and not has_tools:
        errors.append("Requests which include `tool_use` or `tool_result` blocks must define tools.")
