"""`supportbot init [DIR]`: an editable copy of the packaged defaults for a new deployment.

It writes ``DIR/config/`` (the system prompt, ``bot.toml``, the demo knowledge base and orders, the Slack
manifest) and ``DIR/.env`` (every setting with its default and what it does, from ``.env.example``). It never
overwrites: when any of those files exists already, it names them and writes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from bot.home import PACKAGED_CONFIG

ENV_EXAMPLE = Path(__file__).resolve().parents[1] / "env.example"
"""The packaged ``.env.example`` (in a checkout, a link to the repository's)."""
ENV_HEADER = """\
# The settings of this deployment, written by `supportbot init` from .env.example: every setting the bot
# reads, with its default. Relative paths are inside this folder when the bot runs here or with
# SUPPORTBOT_HOME pointing here. Keep this file private: it will hold tokens.
"""


def project_files(folder: Path) -> dict[Path, bytes]:
    """What `init` writes into ``folder``: each path and its content."""
    files: dict[Path, bytes] = {}
    for source in sorted(PACKAGED_CONFIG.rglob("*")):
        if source.is_file() and "__pycache__" not in source.parts:
            files[folder / "config" / source.relative_to(PACKAGED_CONFIG)] = source.read_bytes()
    example = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    body = "".join(example[_first_non_comment(example) :])
    files[folder / ".env"] = (ENV_HEADER + body).encode("utf-8")
    return files


def _first_non_comment(lines: list[str]) -> int:
    """The end of the example's opening comment (which tells to copy it), kept out of the written .env."""
    for number, text in enumerate(lines):
        if not text.startswith("#"):
            return number
    return len(lines)


def init_project(folder: Path, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Write the copy; 0 when written, 1 (and nothing written) when a file is in the way."""
    files = project_files(folder)
    existing = [path for path in files if path.exists() or path.is_symlink()]
    if existing:
        names = ", ".join(str(path) for path in existing[:5])
        more = f" and {len(existing) - 5} more" if len(existing) > 5 else ""
        print(
            f"supportbot init: {names}{more} already exist(s); nothing was written (init never overwrites)",
            file=err,
        )
        return 1
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    (folder / ".env").chmod(0o600)
    shown = folder if folder.is_absolute() else Path(".") / folder
    print(f"wrote {len(files) - 1} file(s) in {shown / 'config'} and {shown / '.env'}", file=out)
    print(
        f"next: edit them, then `cd {shown}` and run `supportbot doctor` "
        f"(or set SUPPORTBOT_HOME={folder.resolve()} to run from anywhere)",
        file=out,
    )
    return 0
