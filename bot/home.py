"""Where the bot's files are: one project folder that every relative path setting resolves against.

1. ``SUPPORTBOT_HOME``, when it is set (read from the process environment, never from ``.env``, which
   lives in that folder): ``config/…`` and ``data/…`` are inside it, and so is its ``.env``;
2. else the current folder, when it holds a ``config/bot.toml`` (a checkout, or a folder made by
   ``supportbot init``);
3. else the defaults packaged with the bot: ``config/…`` is the copy shipped in the package
   (``bot/defaults``, in a checkout a link to the repository's ``config/``), ``data/…`` the user's data
   folder (``$XDG_DATA_HOME/supportbot``, by default ``~/.local/share/supportbot``), and any other relative
   path the current folder.

Absolute paths are kept as they are. ``sqlite:///relative.db`` database URLs resolve the same way.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "SUPPORTBOT_HOME"
PACKAGED_CONFIG = Path(__file__).resolve().parent / "defaults"
"""The defaults shipped with the package: the system prompt, bot.toml, demo KB and orders, Slack manifest."""
MARKER = Path("config") / "bot.toml"


@dataclass(frozen=True)
class Home:
    """The resolved project folder; ``folder`` is None when the packaged defaults are used."""

    folder: Path | None
    data: Path
    """Where ``data/…`` paths go."""
    cwd: Path

    @property
    def env_file(self) -> Path:
        """The ``.env`` that is read: the project folder's, else the current folder's."""
        return (self.folder or self.cwd) / ".env"

    @property
    def description(self) -> str:
        if self.folder is None:
            return f"packaged defaults, data in {self.data}"
        return str(self.folder)

    def resolve(self, path: Path) -> Path:
        """``path`` as an absolute path, by the rules in this module's docstring."""
        if path.is_absolute():
            return path
        if self.folder is not None:
            return self.folder / path
        head, *rest = path.parts or (".",)
        if head == "config":
            return PACKAGED_CONFIG.joinpath(*rest)
        if head == "data":
            return self.data.joinpath(*rest)
        return self.cwd / path

    def resolve_database_url(self, url: str) -> str:
        """A relative ``sqlite:///path`` made absolute; any other URL unchanged."""
        scheme, sep, rest = url.partition("://")
        if scheme.lower() != "sqlite" or not sep or not rest.startswith("/") or rest.startswith("//"):
            return url
        relative = rest[1:]
        if relative in ("", ":memory:") or "?" in relative:
            return url  # in memory, or not a file: the store's own parser explains what is wrong
        return f"{scheme}:///{self.resolve(Path(relative))}"


def user_data_folder(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/supportbot``, or ``~/.local/share/supportbot``."""
    env = os.environ if environ is None else environ
    xdg = env.get("XDG_DATA_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "supportbot"


def find_home(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Home:
    """The project folder for this process (see the module docstring)."""
    env = os.environ if environ is None else environ
    here = (cwd or Path.cwd()).resolve()
    explicit = env.get(HOME_ENV, "").strip()
    if explicit:
        folder = (here / explicit).resolve()
        return Home(folder=folder, data=folder / "data", cwd=here)
    if (here / MARKER).is_file():
        return Home(folder=here, data=here / "data", cwd=here)
    return Home(folder=None, data=user_data_folder(env), cwd=here)
