"""Line editing for `supportbot chat` at a terminal (GNU readline or libedit, through the standard
``readline`` module): the arrow keys move in the line and recall earlier questions, which are kept between
sessions in a file only its owner can read, at most ``RECALLED_LINES`` of them. (readline calls this its
history; in this project "history" is what was said in a thread.)"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

RECALLED_LINES = 1000


def default_recall_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/supportbot/chat_history``, by default ``~/.local/share/supportbot/chat_history``."""
    environ = os.environ if environ is None else environ
    data = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "supportbot" / "chat_history"


class LineEditing:
    """The chat's recall file; ``enable`` turns line editing on (only when stdin is a terminal)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._enabled = False

    def enable(self) -> bool:
        """Load the earlier sessions' lines; False when this Python has no ``readline``."""
        try:
            import readline
        except ImportError:
            return False
        readline.set_history_length(RECALLED_LINES)
        # The first session, or a file that cannot be read: start with an empty history.
        with contextlib.suppress(OSError):
            readline.read_history_file(self.path)
        self._enabled = True
        return True

    def save(self) -> None:
        """Write the history (the last ``RECALLED_LINES`` lines), readable by its owner only."""
        if not self._enabled:
            return
        import readline

        with contextlib.suppress(OSError):  # a read-only home must not end the chat
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch(mode=0o600, exist_ok=True)
            readline.write_history_file(self.path)
