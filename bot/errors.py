"""Errors that end the program with a clear one-line message instead of a traceback."""

from __future__ import annotations


class ConfigError(Exception):
    """A missing or bad setting. The message names the setting and says what to do; exit status 2."""

    exit_status = 2
