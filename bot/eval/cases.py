"""Eval cases: golden conversations read from YAML files (`evals/README.md` describes the format).

A file holds a list of cases. Loading is strict: a YAML error or a case that does not fit the schema is a
`CaseFileError` naming the file and the line (from PyYAML's marks), so `supportbot eval` can say in one
line what to fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.types import Principal, Role

PLATFORMS = ("console", "slack", "discord")
_CUSTOMER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,79}")


class CaseFileError(Exception):
    """A case file that cannot be used; ``str()`` is one line: ``path:line: problem``."""

    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ValueMatch(_Strict):
    """How one tool argument must look: equal to ``exact``, containing ``contains`` (any case), or matching
    ``regex`` (searched)."""

    exact: Any = None
    contains: str | None = None
    regex: str | None = None

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        return _compiled(value)

    @model_validator(mode="after")
    def _one(self) -> ValueMatch:
        if sum(x is not None for x in (self.exact, self.contains, self.regex)) != 1:
            raise ValueError("give exactly one of exact, contains, regex")
        return self

    def matches(self, value: object) -> bool:
        if self.exact is not None:
            return bool(value == self.exact)
        text = value if isinstance(value, str) else str(value)
        if self.contains is not None:
            return self.contains.casefold() in text.casefold()
        assert self.regex is not None
        return re.search(self.regex, text) is not None

    def describe(self) -> str:
        if self.exact is not None:
            return repr(self.exact)
        if self.contains is not None:
            return f"containing {self.contains!r}"
        return f"matching /{self.regex}/"


class ToolMatch(_Strict):
    """A tool call: its name and, optionally, matchers for some of its arguments (a plain value means
    ``exact``)."""

    name: str = Field(min_length=1, max_length=128)
    args: dict[str, ValueMatch] = Field(default_factory=dict)

    @field_validator("args", mode="before")
    @classmethod
    def _plain_values_are_exact(cls, value: object) -> object:
        if isinstance(value, dict):
            return {k: v if isinstance(v, dict) else {"exact": v} for k, v in value.items()}
        return value

    def describe(self) -> str:
        if not self.args:
            return self.name
        return f"{self.name}({', '.join(f'{k} {m.describe()}' for k, m in self.args.items())})"


class ToolExpectations(_Strict):
    called: tuple[ToolMatch, ...] = ()
    not_called: tuple[ToolMatch, ...] = ()


class Expectations(_Strict):
    """What an answer must show. In a case's ``expect`` the text checks apply to the last answer (``not_*``
    to every answer), the tool checks and ``escalates`` to the whole conversation; under a turn, to that
    turn's answer only."""

    tools: ToolExpectations = ToolExpectations()
    cites: tuple[str, ...] = ()
    not_cites: tuple[str, ...] = ()
    contains: tuple[str, ...] = ()
    not_contains: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()
    not_regex: tuple[str, ...] = ()
    escalates: bool | None = None
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    fallback: bool | None = None
    """Whether the answer came from the built-in fallback (no model)."""

    @field_validator("regex", "not_regex")
    @classmethod
    def _compile_all(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            _compiled(pattern)
        return value

    @field_validator("cites", "not_cites", "contains", "not_contains", "regex", "not_regex", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class TurnSpec(_Strict):
    user: str = Field(min_length=1, max_length=4000)
    expect: Expectations = Expectations()


class Case(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str
    asker: str = Field(default="customer", alias="as")
    platform: Literal["console", "slack", "discord"] = "console"
    turns: tuple[TurnSpec, ...] = Field(min_length=1, max_length=20)
    expect: Expectations = Expectations()
    judge: str | None = Field(default=None, min_length=1, max_length=4000)
    """A rubric a model grades the conversation by (only with ``--judge`` and a model)."""
    tags: tuple[str, ...] = ()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError("must be lower-case letters, digits, '-', '_' or '.' (at most 80)")
        return value

    @field_validator("asker")
    @classmethod
    def _asker(cls, value: str) -> str:
        principal_of(value, "console")  # raises ValueError with what is wrong
        return value

    @field_validator("turns", mode="before")
    @classmethod
    def _plain_turns(cls, value: object) -> object:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            return [{"user": turn} if isinstance(turn, str) else turn for turn in value]
        return value

    def principal(self) -> Principal:
        return principal_of(self.asker, self.platform)


def principal_of(spec: str, platform: str) -> Principal:
    """``customer:C-1001``, ``customer`` (not linked), ``employee``, ``lead`` or ``admin`` on ``platform``."""
    kind, _, customer_id = spec.strip().partition(":")
    user_id = f"eval-{spec.strip().replace(':', '-')}"
    if kind == "customer":
        if customer_id and not _CUSTOMER_ID.fullmatch(customer_id):
            raise ValueError(f"{customer_id!r} is not a customer id")
        name = f"Customer {customer_id}" if customer_id else "Customer"
        return Principal(platform, user_id, name, frozenset({Role.CUSTOMER}), customer_id or None)
    roles = {
        "employee": {Role.EMPLOYEE},
        "lead": {Role.EMPLOYEE, Role.LEAD},
        "admin": {Role.ADMIN},
    }.get(kind)
    if roles is None or customer_id:
        raise ValueError(f"unknown asker {spec!r}; use customer:<id>, customer, employee, lead or admin")
    return Principal(platform, user_id, kind.capitalize(), frozenset(roles))


def _compiled(pattern: str | None) -> str | None:
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
    return pattern


@dataclass(frozen=True)
class LoadedCase:
    case: Case
    path: Path
    line: int
    """1-based line where the case starts in its file."""


def case_files(paths: Sequence[Path]) -> list[Path]:
    """The YAML files of ``paths`` (a folder stands for its ``*.yaml`` and ``*.yml``), sorted, each once."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            raise CaseFileError(path, None, "no such file or folder")
    return list(dict.fromkeys(found))


def load_cases(paths: Sequence[Path]) -> list[LoadedCase]:
    """Every case of ``paths``; a bad file or a name used twice is a `CaseFileError`."""
    cases: list[LoadedCase] = []
    seen: dict[str, LoadedCase] = {}
    for path in case_files(paths):
        for loaded in load_file(path):
            earlier = seen.get(loaded.case.name)
            if earlier is not None:
                raise CaseFileError(
                    path,
                    loaded.line,
                    f"case name {loaded.case.name!r} is used before, at {earlier.path}:{earlier.line}",
                )
            seen[loaded.case.name] = loaded
            cases.append(loaded)
    if not cases:
        raise CaseFileError(paths[0] if paths else Path("."), None, "no eval cases found")
    return cases


def load_file(path: Path) -> list[LoadedCase]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseFileError(path, None, f"cannot be read: {exc}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(filter(None, (exc.context, exc.problem))) or "not valid YAML"
        raise CaseFileError(path, line, f"YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise CaseFileError(path, None, f"YAML: {exc}") from None
    if root is None or not isinstance(data, list) or not isinstance(root, yaml.SequenceNode):
        line = root.start_mark.line + 1 if root is not None else 1
        raise CaseFileError(path, line, "a case file is a YAML list of cases (- name: ...)")
    return [
        _case(path, node, item, index)
        for index, (node, item) in enumerate(zip(root.value, data, strict=True))
    ]


def _case(path: Path, node: yaml.Node, item: object, index: int) -> LoadedCase:
    if not isinstance(item, dict):
        raise CaseFileError(
            path, node.start_mark.line + 1, f"case {index + 1}: a case is a mapping (name: ...)"
        )
    try:
        case = Case.model_validate(item)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc: Iterable[int | str] = error["loc"]
        inner, key_path = _node_at(node, loc)
        name = item.get("name") if isinstance(item.get("name"), str) else f"case {index + 1}"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        where = ".".join(str(part) for part in key_path)
        raise CaseFileError(
            path, inner.start_mark.line + 1, f"{name}: {where or 'case'}: {message}"
        ) from None
    return LoadedCase(case, path, node.start_mark.line + 1)


def _node_at(node: yaml.Node, loc: Iterable[int | str]) -> tuple[yaml.Node, list[int | str]]:
    """The deepest node along pydantic's error location ``loc`` (keys of mappings, indexes of lists), and
    the part of ``loc`` that was found."""
    found: list[int | str] = []
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    child = key if isinstance(value, yaml.ScalarNode) and value.value == "" else value
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            if isinstance(part, str) and isinstance(node, yaml.MappingNode):
                found.append(part)  # e.g. a missing key: the mapping's own line
            break
        node = child
        found.append(part)
    return node, found
