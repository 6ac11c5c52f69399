"""Checking a run against its case's expectations: each unmet expectation is one reason, in words."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.eval.cases import Case, Expectations, ToolMatch
from bot.eval.language import detect_language
from bot.types import Source

if TYPE_CHECKING:
    from bot.eval.runner import CaseRun, ToolUse, TurnResult

MAX_QUOTED = 80


def check_case(case: Case, run: CaseRun) -> list[str]:
    """Why the run fails its case (empty: it passes)."""
    if run.error is not None:
        return [f"the case could not run: {run.error}"]
    reasons: list[str] = []
    for number, (spec, turn) in enumerate(zip(case.turns, run.turns, strict=True), start=1):
        reasons += [f"turn {number}: {reason}" for reason in _check(spec.expect, [turn], turn)]
    last = run.turns[-1]
    reasons += _check(case.expect, run.turns, last)
    return reasons


def _check(expect: Expectations, turns: Sequence[TurnResult], last: TurnResult) -> list[str]:
    """``expect`` over ``turns`` (tools, escalation, ``not_*``) and ``last`` (what must be in the answer)."""
    reasons: list[str] = []
    uses = [use for turn in turns for use in turn.tools]
    for match in expect.tools.called:
        if not any(_matches(match, use) for use in uses):
            reasons.append(f"{match.describe()} was not called (called: {_calls(uses)})")
    for match in expect.tools.not_called:
        wrong = [use for use in uses if _matches(match, use)]
        if wrong:
            reasons.append(f"{match.describe()} was called: {_calls(wrong)}")
    sources = last.sources
    for wanted in expect.cites:
        if not any(_cites(source, wanted) for source in sources):
            reasons.append(f"did not cite {wanted!r} (cited: {_sources(sources)})")
    for unwanted in expect.not_cites:
        if any(_cites(source, unwanted) for turn in turns for source in turn.sources):
            reasons.append(f"cited {unwanted!r}")
    text = last.text
    for needle in expect.contains:
        if needle.casefold() not in text.casefold():
            reasons.append(f"the answer does not contain {needle!r}: {_quote(text)}")
    for pattern in expect.regex:
        if re.search(pattern, text) is None:
            reasons.append(f"the answer does not match /{pattern}/: {_quote(text)}")
    for turn in turns:
        for needle in expect.not_contains:
            if needle.casefold() in turn.text.casefold():
                reasons.append(f"an answer contains {needle!r}: {_quote(turn.text)}")
        for pattern in expect.not_regex:
            if re.search(pattern, turn.text) is not None:
                reasons.append(f"an answer matches /{pattern}/: {_quote(turn.text)}")
    if expect.escalates is not None:
        escalated = any(turn.escalated for turn in turns)
        if escalated != expect.escalates:
            reasons.append("expected an escalation; none was opened" if expect.escalates else "it escalated")
    if expect.language is not None:
        found = detect_language(text)
        if found != expect.language:
            reasons.append(f"the answer is in {found or 'an unknown language'}, expected {expect.language}")
    if expect.fallback is not None and last.fallback != expect.fallback:
        reasons.append("the fallback answered" if last.fallback else "the fallback did not answer")
    return reasons


def _matches(match: ToolMatch, use: ToolUse) -> bool:
    if use.name != match.name:
        return False
    args = use.input if isinstance(use.input, dict) else {}
    return all(key in args and value.matches(args[key]) for key, value in match.args.items())


def _cites(source: Source, wanted: str) -> bool:
    """``wanted`` is an article's URL (its section anchor optional) or its slug, the URL's last part."""
    url = source.url.split("#", 1)[0].rstrip("/")
    wanted = wanted.rstrip("/")
    return source.url == wanted or url == wanted.split("#", 1)[0] or url.rsplit("/", 1)[-1] == wanted


def _calls(uses: Sequence[ToolUse]) -> str:
    return ", ".join(use.describe() for use in uses) or "no tool"


def _sources(sources: Sequence[Source]) -> str:
    return ", ".join(source.url for source in sources) or "nothing"


def _quote(text: str) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= MAX_QUOTED else flat[: MAX_QUOTED - 1] + "…")
