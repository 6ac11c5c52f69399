"""`supportbot doctor`: checks run in order, one line each, with what to do about each problem.

A check ends ``ok`` (✓), ``warn`` (!: works, but maybe not as meant), ``fail`` (✗) or ``skip`` (-: not
configured). The exit status is 1 when any check failed, else 0 (bad settings stop before the checks, with
status 2). Checks never print a secret: results name settings, not their values.

The checks themselves: ``bot.run.doctor_checks`` (files, store, knowledge base, orders, model) and each
platform's own (``bot.run.platforms``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.errors import ConfigError

log = logging.getLogger(__name__)

Status = Literal["ok", "warn", "fail", "skip"]
MARKS: dict[Status, str] = {"ok": "✓", "warn": "!", "fail": "✗", "skip": "-"}
CHECK_TIMEOUT = 20.0


@dataclass(frozen=True)
class Result:
    status: Status
    detail: str
    fix: str | None = None


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[], Awaitable[Result]]


def line(name: str, result: Result) -> str:
    fix = f" → {result.fix}" if result.fix else ""
    return f"{MARKS[result.status]} {name}: {result.detail}{fix}"


async def run_checks(checks: Sequence[Check], write: Callable[[str], None]) -> int:
    """Run ``checks`` in order, writing one line each; the exit status (1 if any failed)."""
    failed = False
    for check in checks:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                result = await check.run()
        except TimeoutError:
            result = Result(
                "fail", f"no answer within {CHECK_TIMEOUT:.0f} s", "check the network and the URL"
            )
        except ConfigError as exc:
            result = Result("fail", str(exc))
        except Exception as exc:
            log.debug("check %s failed", check.name, exc_info=True)
            result = Result("fail", f"{type(exc).__name__}: {exc}")
        failed = failed or result.status == "fail"
        write(line(check.name, result))
    return 1 if failed else 0
