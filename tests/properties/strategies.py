"""Hypothesis strategies and small helpers shared by the property tests."""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Examples are few on purpose: the whole folder must stay well under a minute.
QUICK = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SHARED_FIXTURE = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
"""For async tests whose (function-scoped) app fixture is meant to be shared by every example."""

# Text without surrogates (they cannot be encoded) and without NUL (no environment variable holds it).
ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
EDGE_STRINGS = st.sampled_from(
    [
        "",
        " ",
        "\n",
        "\t\r\n",
        "\x00",
        "\u200b",
        "\u202e",
        "\ufeff",
        "𝕆ℝ𝔻-𝟙𝟘𝟘𝟘𝟙",
        "ORD-10001",
        "ord 10001",
        "#10001",
        "ОRD-10001",
        "x" * 65,
        "x" * 501,
        "x" * 2001,
        "🙂" * 40,
        "<!channel>",
        "@everyone",
        '"; DROP TABLE orders; --',
        "NEAR(a b) OR c*",
        "\\u0000",
    ]
)
STRINGS = st.one_of(ANY_TEXT, EDGE_STRINGS, ANY_TEXT.map(lambda s: s * 200))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(),
    STRINGS,
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(ANY_TEXT, EDGE_STRINGS), inner, max_size=4),
    ),
    max_leaves=12,
)
"""Any JSON value (NaN and infinities included, as a lenient parser would give them)."""


# ---- mutating real payloads --------------------------------------------------------------------------


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            paths += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths += _paths(item, (*prefix, index))
    return paths


@st.composite
def mutated(draw: st.DrawFn, base: Mapping[str, Any], max_mutations: int = 3) -> dict[str, Any]:
    """``base`` with a few values replaced by arbitrary JSON, keys deleted, or keys added."""
    doc = copy.deepcopy(dict(base))
    for _ in range(draw(st.integers(1, max_mutations))):
        paths = _paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = doc
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        operation = draw(st.sampled_from(["replace", "delete", "add", "retype"]))
        if operation == "replace":
            parent[key] = draw(JSON_VALUES)
        elif operation == "delete":
            del parent[key]
        elif operation == "add" and isinstance(parent, dict):
            parent[draw(ANY_TEXT)] = draw(JSON_VALUES)
        elif operation == "retype":
            value = parent[key]
            parent[key] = [value] if not isinstance(value, list) else {"0": value}
    return doc


# ---- TOML --------------------------------------------------------------------------------------------


def toml_key(key: str) -> str:
    return toml_string(key)


def toml_string(text: str) -> str:
    out = ['"']
    for char in text:
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def toml_value(value: Any) -> str:
    """An inline TOML value; tables inside lists become inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no TOML for {value!r}")


def toml_dumps(doc: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> str:
    """A TOML document for ``doc``: scalars and lists first, then one ``[table]`` per nested dict."""
    scalars = {k: v for k, v in doc.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in doc.items() if isinstance(v, dict)}
    lines = []
    if prefix and (scalars or not tables):
        lines.append("[" + ".".join(toml_key(part) for part in prefix) + "]")
    lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in scalars.items()]
    text = "\n".join(lines) + ("\n\n" if lines else "")
    for key, table in tables.items():
        text += toml_dumps(table, (*prefix, key))
    return text


def same_toml(a: Any, b: Any) -> bool:
    """Equality that treats NaN as equal to NaN (what a TOML round trip keeps)."""
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)
