"""The installed version: the one in pyproject.toml, read through the package's metadata."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any


def supportbot_version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # only when asked: it is slow to import

    try:
        return version("supportbot")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"


class VersionAction(argparse.Action):
    """``--version``: prints ``supportbot X.Y.Z`` and exits; the version is looked up only then."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        kwargs.setdefault("help", "print the version and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        print(f"{parser.prog} {supportbot_version()}")
        parser.exit()
