"""Block Kit: the checks Slack makes on ``blocks``, and the text a user sees in them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .limits import SlackLimits

if TYPE_CHECKING:
    from .state import JSON


_TEXT_OBJECT_TYPES = frozenset({"plain_text", "mrkdwn"})
_KNOWN_BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "context_actions",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "table",
        "video",
    }
)
_MAX_MARKDOWN_BLOCK_CHARS = 12_000


# --------------------------------------------------------------------------------------------------
# Block Kit: validation (the limits that matter to a streaming bot) and visible text

_MENTION_RE = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


def _check_text_object(
    obj: Any, pointer: str, *, max_len: int, types: frozenset[str] = _TEXT_OBJECT_TYPES
) -> list[str]:
    if not isinstance(obj, dict):
        return [f"must be an object [json-pointer:{pointer}]"]
    errors: list[str] = []
    if obj.get("type") not in types:
        errors.append(f"must be one of {sorted(types)} [json-pointer:{pointer}/type]")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        errors.append(f"must be more than 0 characters [json-pointer:{pointer}/text]")
    elif len(text) > max_len:
        errors.append(f"must be less than {max_len + 1} characters [json-pointer:{pointer}/text]")
    return errors


def _check_context_actions(block: Mapping[str, Any], pointer: str) -> list[str]:
    """A ``context_actions`` block holds 1 to 5 elements, each feedback buttons or an icon button; feedback
    buttons need a positive and a negative button, each with plain text (75 characters) and a value."""
    elements = block.get("elements")
    if not isinstance(elements, list) or not 1 <= len(elements) <= 5:
        return [f"must have 1 to 5 items [json-pointer:{pointer}/elements]"]
    errors: list[str] = []
    for index, element in enumerate(elements):
        where = f"{pointer}/elements/{index}"
        kind = element.get("type") if isinstance(element, dict) else None
        if kind not in ("feedback_buttons", "icon_button"):
            errors.append(f"unsupported type: {kind} [json-pointer:{where}/type]")
            continue
        if kind == "icon_button":
            continue
        for side in ("positive_button", "negative_button"):
            button = element.get(side)
            if not isinstance(button, dict):
                errors.append(f"missing required field: {side} [json-pointer:{where}]")
                continue
            errors += _check_text_object(
                button.get("text"), f"{where}/{side}/text", max_len=75, types=frozenset({"plain_text"})
            )
            value = button.get("value")
            if not isinstance(value, str) or not 1 <= len(value) <= 2000:
                errors.append(f"must be 1 to 2000 characters [json-pointer:{where}/{side}/value]")
    return errors


def validate_blocks(blocks: Any, limits: SlackLimits | None = None) -> list[str]:
    """Block Kit errors in Slack's ``[json-pointer:...]`` style; empty when the blocks are acceptable."""
    limits = limits or SlackLimits()
    if not isinstance(blocks, list):
        return ["must be an array [json-pointer:/blocks]"]
    errors: list[str] = []
    if len(blocks) > limits.max_blocks:
        errors.append(f"no more than {limits.max_blocks} items allowed [json-pointer:/blocks]")
    markdown_chars = 0
    for index, block in enumerate(blocks):
        pointer = f"/blocks/{index}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(f"missing required field: type [json-pointer:{pointer}]")
            continue
        kind = block["type"]
        if kind not in _KNOWN_BLOCK_TYPES:
            errors.append(f"unsupported type: {kind} [json-pointer:{pointer}/type]")
        elif kind == "section":
            text, fields = block.get("text"), block.get("fields")
            if text is None and not fields:
                errors.append(f"must provide either text or fields [json-pointer:{pointer}]")
            if text is not None:
                errors += _check_text_object(text, f"{pointer}/text", max_len=limits.max_section_text_chars)
            if fields is not None:
                if not isinstance(fields, list) or len(fields) > 10:
                    errors.append(f"no more than 10 items allowed [json-pointer:{pointer}/fields]")
                else:
                    for i, item in enumerate(fields):
                        errors += _check_text_object(
                            item, f"{pointer}/fields/{i}", max_len=limits.max_section_field_chars
                        )
        elif kind == "header":
            errors += _check_text_object(
                block.get("text"),
                f"{pointer}/text",
                max_len=limits.max_header_text_chars,
                types=frozenset({"plain_text"}),
            )
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                errors.append(f"must have 1 to 10 items [json-pointer:{pointer}/elements]")
        elif kind == "context_actions":
            errors += _check_context_actions(block, pointer)
        elif kind == "markdown":
            text = block.get("text")
            if not isinstance(text, str) or not text:
                errors.append(f"must be more than 0 characters [json-pointer:{pointer}/text]")
            else:
                markdown_chars += len(text)
    if markdown_chars > _MAX_MARKDOWN_BLOCK_CHARS:
        errors.append(
            f"markdown blocks must have less than {_MAX_MARKDOWN_BLOCK_CHARS + 1} characters in total"
            " [json-pointer:/blocks]"
        )
    return errors


def _rich_inline_text(element: Mapping[str, Any]) -> str:
    kind = element.get("type")
    if kind == "text":
        return str(element.get("text", ""))
    if kind == "link":
        return str(element.get("text") or element.get("url", ""))
    if kind == "user":
        return f"<@{element.get('user_id', '')}>"
    if kind == "usergroup":
        return f"<!subteam^{element.get('usergroup_id', '')}>"
    if kind == "channel":
        return f"<#{element.get('channel_id', '')}>"
    if kind == "emoji":
        return f":{element.get('name', '')}:"
    if kind == "broadcast":
        return f"<!{element.get('range', '')}>"
    return ""


def _rich_text(block: Mapping[str, Any]) -> str:
    lines: list[str] = []
    for element in block.get("elements") or []:
        if not isinstance(element, dict):
            continue
        if element.get("type") == "rich_text_list":
            lines.append(_rich_text(element))
        else:
            lines.append("".join(_rich_inline_text(e) for e in element.get("elements") or []))
    return "\n".join(lines)


def blocks_text(blocks: Iterable[Mapping[str, Any]] | None) -> str:
    """The text a person reads in a list of blocks (one line per text-bearing part)."""
    parts: list[str] = []
    for block in blocks or []:
        kind = block.get("type")
        if kind in {"section", "header"}:
            text = block.get("text")
            if isinstance(text, dict):
                parts.append(str(text.get("text", "")))
            for item in block.get("fields") or []:
                if isinstance(item, dict):
                    parts.append(str(item.get("text", "")))
        elif kind == "context":
            for element in block.get("elements") or []:
                if isinstance(element, dict) and element.get("type") in _TEXT_OBJECT_TYPES:
                    parts.append(str(element.get("text", "")))
        elif kind == "markdown":
            parts.append(str(block.get("text", "")))
        elif kind == "rich_text":
            parts.append(_rich_text(block))
    return "\n".join(part for part in parts if part)


def rich_text_blocks(text: str) -> list[JSON]:
    """The ``rich_text`` block Slack's clients attach to a typed message (mentions as user elements)."""
    elements: list[JSON] = []
    position = 0
    for match in _MENTION_RE.finditer(text):
        if match.start() > position:
            elements.append({"type": "text", "text": text[position : match.start()]})
        elements.append({"type": "user", "user_id": match.group(1)})
        position = match.end()
    if position < len(text):
        elements.append({"type": "text", "text": text[position:]})
    block_id = hashlib.sha1(text.encode()).hexdigest()[:5]
    return [
        {
            "type": "rich_text",
            "block_id": block_id,
            "elements": [{"type": "rich_text_section", "elements": elements}],
        }
    ]
