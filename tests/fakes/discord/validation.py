"""Discord's checks on a message body (content, embeds, components, allowed_mentions) and its error shapes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .state import JSON, MessageFlag, _as_int

if TYPE_CHECKING:
    from .limits import DiscordLimits


def _field_error(code: str, message: str) -> JSON:
    return {"_errors": [{"code": code, "message": message}]}


def _set_error(errors: JSON, path: Sequence[str | int], code: str, message: str) -> None:
    node = errors
    for part in path:
        node = node.setdefault(str(part), {})
    node.setdefault("_errors", []).append({"code": code, "message": message})


def _max_length(errors: JSON, path: Sequence[str | int], value: object, limit: int) -> None:
    if isinstance(value, str) and len(value) > limit:
        _set_error(errors, path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: JSON | None = None,
        headers: Mapping[str, str] | None = None,
        body: JSON | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.body: JSON = body if body is not None else {"message": message, "code": code}
        if errors and body is None:
            self.body["errors"] = errors
        self.headers = dict(headers or {})


def _invalid_form(errors: JSON) -> ApiError:
    return ApiError(400, 50035, "Invalid Form Body", errors)


# ---------------------------------------------------------------------------------------- validation


def validate_allowed_mentions(errors: JSON, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        _set_error(
            errors,
            ["allowed_mentions"],
            "DICT_TYPE_CONVERT",
            "Only dictionaries may be used in a DictType",
        )
        return
    parse = value.get("parse") or []
    for i, item in enumerate(parse):
        if item not in ("users", "roles", "everyone"):
            _set_error(
                errors,
                ["allowed_mentions", "parse", i],
                "BASE_TYPE_CHOICES",
                "Value must be one of ('roles', 'users', 'everyone').",
            )
    for kind in ("users", "roles"):
        listed = value.get(kind) or []
        if kind in parse and listed:
            _set_error(
                errors,
                ["allowed_mentions"],
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
            )
        if len(listed) > 100:
            _set_error(
                errors,
                ["allowed_mentions", kind],
                "BASE_TYPE_MAX_LENGTH",
                "Must be 100 or fewer in length.",
            )


def validate_embeds(
    errors: JSON, embeds: Any, limits: DiscordLimits, prefix: Sequence[str | int] = ()
) -> None:
    if embeds is None:
        return
    if not isinstance(embeds, list):
        _set_error(
            errors, [*prefix, "embeds"], "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType"
        )
        return
    lim = limits
    if len(embeds) > lim.max_embeds:
        _set_error(
            errors,
            [*prefix, "embeds"],
            "BASE_TYPE_MAX_LENGTH",
            f"Must be {lim.max_embeds} or fewer in length.",
        )
    total = 0
    for i, embed in enumerate(embeds):
        if not isinstance(embed, dict):
            _set_error(
                errors,
                [*prefix, "embeds", i],
                "DICT_TYPE_CONVERT",
                "Only dictionaries may be used in a DictType",
            )
            continue
        path = [*prefix, "embeds", i]
        _max_length(errors, [*path, "title"], embed.get("title"), lim.max_embed_title)
        _max_length(errors, [*path, "description"], embed.get("description"), lim.max_embed_description)
        fields = embed.get("fields") or []
        if len(fields) > 25:
            _set_error(errors, [*path, "fields"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        texts = [embed.get("title"), embed.get("description")]
        for j, fld in enumerate(fields):
            if isinstance(fld, dict):
                _max_length(errors, [*path, "fields", j, "name"], fld.get("name"), 256)
                _max_length(errors, [*path, "fields", j, "value"], fld.get("value"), 1024)
                texts += [fld.get("name"), fld.get("value")]
        footer = embed.get("footer") or {}
        author = embed.get("author") or {}
        _max_length(errors, [*path, "footer", "text"], footer.get("text"), 2048)
        _max_length(errors, [*path, "author", "name"], author.get("name"), 256)
        texts += [footer.get("text"), author.get("name")]
        total += sum(len(t) for t in texts if isinstance(t, str))
    if total > lim.max_embed_total:
        _set_error(
            errors,
            [*prefix, "embeds"],
            "MAX_EMBED_SIZE_EXCEEDED",
            f"Embed size exceeds maximum size of {lim.max_embed_total}",
        )


def validate_components(errors: JSON, components: Any, flags: int, prefix: Sequence[str | int] = ()) -> None:
    if components is None:
        return
    if not isinstance(components, list):
        _set_error(
            errors,
            [*prefix, "components"],
            "LIST_TYPE_CONVERT",
            "Only iterables may be used in a ListType",
        )
        return
    if flags & MessageFlag.IS_COMPONENTS_V2:
        return
    if len(components) > 5:
        _set_error(errors, [*prefix, "components"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    seen: set[str] = set()
    for i, row in enumerate(components):
        path = [*prefix, "components", i]
        if not isinstance(row, dict) or row.get("type") != 1:
            _set_error(
                errors,
                [*path, "type"],
                "UNION_TYPE_CHOICES",
                'Value of field "type" must be one of (1,).',
            )
            continue
        children = row.get("components") or []
        if not 1 <= len(children) <= 5:
            _set_error(
                errors,
                [*path, "components"],
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 5 in length.",
            )
        for j, child in enumerate(children):
            if not isinstance(child, dict):
                continue
            cpath = [*path, "components", j]
            custom_id = child.get("custom_id")
            if child.get("type") == 2 and child.get("style") in (5, 6):
                pass
            elif not isinstance(custom_id, str) or not custom_id:
                _set_error(errors, [*cpath, "custom_id"], "BASE_TYPE_REQUIRED", "This field is required")
            else:
                _max_length(errors, [*cpath, "custom_id"], custom_id, 100)
                if custom_id in seen:
                    _set_error(
                        errors,
                        [*cpath, "custom_id"],
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        "Component custom id cannot be duplicated",
                    )
                seen.add(custom_id)
            _max_length(errors, [*cpath, "label"], child.get("label"), 80)


def validate_message_body(body: JSON, limits: DiscordLimits, *, prefix: Sequence[str | int] = ()) -> None:
    errors: JSON = {}
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        _set_error(errors, [*prefix, "content"], "BASE_TYPE_STRING", "Must be a string.")
    _max_length(errors, [*prefix, "content"], content, limits.max_content)
    validate_embeds(errors, body.get("embeds"), limits, prefix)
    flags = _as_int(body.get("flags")) or 0
    validate_components(errors, body.get("components"), flags, prefix)
    validate_allowed_mentions(errors, body.get("allowed_mentions"))
    if errors:
        raise _invalid_form(errors)


def is_empty_message(
    content: str, embeds: list[JSON], components: list[JSON], attachments: list[JSON], body: JSON
) -> bool:
    return not (content or embeds or components or attachments or body.get("sticker_ids") or body.get("poll"))
