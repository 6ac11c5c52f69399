"""docs/architecture.md stays true: every path it names exists, and it names every package."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
PACKAGE_ROOTS = ("bot", "integrations", "tools")
# A path in backticks that starts at a top-level folder, e.g. `bot/agent/loop.py`, `config/kb/`, or that
# names a module of a package named just before it in the same backticks list (handled below).
_PATH = re.compile(r"`((?:bot|integrations|tools|config|tests|bench|docs)/[\w./*-]*)`")


def named_paths(text: str) -> list[str]:
    return _PATH.findall(text)


def test_every_path_the_document_names_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    paths = named_paths(text)
    assert len(paths) > 40  # the document does name the tree
    missing = []
    for path in paths:
        if "*" in path:
            matches = list(ROOT.glob(path.rstrip("/")))
            if not matches:
                missing.append(path)
        elif not (ROOT / path).exists():
            missing.append(path)
    assert missing == []


def test_the_modules_a_package_row_lists_exist() -> None:
    """In the package table, ``x.py`` names after a package's path are modules of that package."""
    missing = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        row = re.match(r"\| `((?:bot|integrations|tools)/[\w/]*)` \|(.*)\|$", line)
        if row is None:
            continue
        package = ROOT / row.group(1)
        for module in re.findall(r"`(\w+\.py)`", row.group(2)):
            if not (package / module).exists():
                missing.append(f"{row.group(1)}{module}")
    assert missing == []


def test_every_package_is_named() -> None:
    text = DOC.read_text(encoding="utf-8")
    packages = sorted(
        init.parent.relative_to(ROOT).as_posix() + "/"
        for top in PACKAGE_ROOTS
        for init in (ROOT / top).rglob("__init__.py")
    )
    assert packages and [p for p in packages if f"`{p}`" not in text] == []
