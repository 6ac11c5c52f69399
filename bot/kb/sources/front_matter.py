"""Front matter as docs generators write it, and what an article takes from it.

YAML between ``---`` lines (Docusaurus, Jekyll, MkDocs, Obsidian) is read by python-frontmatter's YAML
handler (PyYAML's safe loader: folded ``>`` titles, nested keys, ``'It''s'`` quoting, lists); TOML between
``+++`` lines (Hugo) by a handler of the same library on the standard library's ``tomllib``. Keys are
compared lower-cased; keys the bot does not use are ignored, as generators add many of their own.

Visibility never fails open: a ``visibility`` value other than ``public`` or ``internal`` is an error,
and so is a key that looks like a misspelling of it (``visibilty: internal``), which would otherwise leave
an internal article at the source's default. It is read at the top of the front matter or in Hugo's
``params`` table (where Hugo keeps a page's own keys); in any other table it is an error. Front matter
that is not a table of keys (a YAML line without its colon) is an error too, for the same reason.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from typing import Any

import yaml
from frontmatter.default_handlers import BaseHandler, YAMLHandler

from bot.kb.sources.base import Visibility

#: The longest title kept, in characters (longer ones are cut).
MAX_TITLE_CHARS = 300

#: How close a key must be to ``visibility`` to be taken for a misspelling of it (difflib's ratio).
_MISSPELLING_CUTOFF = 0.85

_VISIBILITIES: tuple[Visibility, ...] = ("public", "internal")


class FrontMatterError(ValueError):
    """The front matter is malformed, or says something the bot must not guess about."""


class TomlHandler(BaseHandler):
    """Hugo's TOML front matter between ``+++`` lines, read with ``tomllib`` (reading only)."""

    FM_BOUNDARY = re.compile(r"^\+{3,}\s*$", re.MULTILINE)
    START_DELIMITER = END_DELIMITER = "+++"

    def load(self, fm: str) -> dict[str, Any]:
        return tomllib.loads(fm)


_HANDLERS: tuple[BaseHandler, ...] = (YAMLHandler(), TomlHandler())


def parse_front_matter(text: str) -> tuple[dict[str, object], str]:
    """Split ``text`` into its front matter (keys lower-cased; empty when it has none) and its body.

    Raises :class:`FrontMatterError` naming the problem when a block is opened but not closed, cannot be
    parsed, or is not a table of keys.
    """
    text = text.removeprefix("\ufeff")
    handler = next((handler for handler in _HANDLERS if handler.detect(text)), None)
    if handler is None:
        return {}, text
    delimiter = handler.START_DELIMITER
    try:
        raw, body = handler.split(text)
    except ValueError:
        raise FrontMatterError(f"front matter is not closed by a {delimiter!r} line") from None
    try:
        fields = handler.load(raw)
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FrontMatterError(f"front matter cannot be parsed: {first_line}") from None
    if fields is None:  # an empty block
        fields = {}
    if not isinstance(fields, dict):
        raise FrontMatterError("front matter is not a table of 'key: value' lines")
    return {str(key).lower(): value for key, value in fields.items()}, body.lstrip("\n")


def visibility_of(fields: Mapping[str, object], default: Visibility) -> Visibility:
    """The article's visibility: its ``visibility`` key (at the top, or in Hugo's ``params`` table), else
    ``default``; see the module docstring. A ``visibility`` key in any other table is an error, not
    something to ignore."""
    _refuse_misspellings(fields, "")
    params = fields.get("params")
    found: dict[str, Visibility] = {}
    if "visibility" in fields:
        found["visibility"] = _visibility_value(fields["visibility"])
    if isinstance(params, dict):
        _refuse_misspellings(params, "params.")
        if "visibility" in params:
            found["params.visibility"] = _visibility_value(params["visibility"])
    nested = _nested_visibility(fields, "", depth=0)
    if nested is not None:
        raise FrontMatterError(f"{nested} is not read (visibility goes at the top of the front matter)")
    if len(set(found.values())) > 1:
        raise FrontMatterError("visibility and params.visibility disagree")
    return next(iter(found.values()), default)


def _refuse_misspellings(table: Mapping[Any, object], prefix: str) -> None:
    for key in table:
        lowered = str(key).lower()
        if lowered != "visibility" and difflib.get_close_matches(
            lowered, ["visibility"], 1, _MISSPELLING_CUTOFF
        ):
            raise FrontMatterError(
                f"unknown front matter key {prefix + str(key)!r} (did you mean 'visibility'?)"
            )


def _nested_visibility(table: Mapping[Any, object], path: str, depth: int) -> str | None:
    """The dotted path of a ``visibility`` key below the top (Hugo's ``params`` excepted), if any."""
    for key, value in table.items():
        if not isinstance(value, dict) or depth > 4 or (depth == 0 and key == "params"):
            continue
        inner = f"{path}{key}."
        if any(str(name).lower() == "visibility" for name in value):
            return f"{inner}visibility"
        found = _nested_visibility(value, inner, depth + 1)
        if found is not None:
            return found
    return None


def _visibility_value(value: object) -> Visibility:
    for visibility in _VISIBILITIES:
        if isinstance(value, str) and value.strip().lower() == visibility:
            return visibility
    raise FrontMatterError(f"visibility must be 'public' or 'internal', not {str(value)[:40]!r}")


def is_draft(fields: Mapping[str, object]) -> bool:
    """Whether the generator would not publish it: ``draft: true`` (all) or ``published: false`` (Jekyll)."""
    return fields.get("draft") is True or fields.get("published") is False


def clean_title(value: object) -> str:
    """A one-line title: whitespace (a folded ``>`` title's newline too) collapsed, control characters
    dropped, cut to :data:`MAX_TITLE_CHARS`."""
    text = "".join(char if char.isprintable() else " " for char in str(value))
    return " ".join(text.split())[:MAX_TITLE_CHARS]


def title_of(fields: Mapping[str, object]) -> str | None:
    """The ``title`` key as a clean one-line string, or None when there is none."""
    value = fields.get("title")
    if value is None or isinstance(value, dict | list):
        return None
    return clean_title(value) or None


def tags_of(fields: Mapping[str, object]) -> tuple[str, ...]:
    """``tags`` and ``categories`` as lower-case tags, in order, without repeats.

    A list (Docusaurus may give ``{label: …}`` tables), or a string: comma-separated when it has a comma,
    otherwise separated by spaces (Jekyll).
    """
    tags: list[str] = []
    for key in ("tags", "categories"):
        value = fields.get(key)
        if isinstance(value, str):
            tags.extend(value.split(",") if "," in value else value.split())
        elif isinstance(value, list):
            for item in value:
                label = item.get("label") if isinstance(item, dict) else item
                if isinstance(label, str | int | float):
                    tags.append(str(label))
    cleaned = (clean_title(tag).lower() for tag in tags)
    return tuple(dict.fromkeys(tag for tag in cleaned if tag))


def locale_of(fields: Mapping[str, object]) -> str | None:
    """``lang``, ``locale`` or ``language`` (a short language tag such as ``de`` or ``pt-BR``), if any."""
    for key in ("lang", "locale", "language"):
        value = fields.get(key)
        if isinstance(value, str) and re.fullmatch(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*", value.strip()):
            return value.strip()
    return None
