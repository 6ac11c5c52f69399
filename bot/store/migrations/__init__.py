"""Versioned schema migrations, one list per database.

Each backend keeps its own list (``bot.store.migrations.sqlite`` today, a ``postgres`` module later) with the
same version numbers and names, so that version ``n`` means the same logical schema everywhere; only the
SQL dialect differs. A migration is a tuple of single statements (not a script) so that the runner can
apply all of them inside one transaction and record the version in that same transaction.

Rules for adding a migration: append it with the next version number, never edit or renumber one that has
been released, and add the same version to every backend's list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class MigrationError(RuntimeError):
    """The migration list is malformed, or the database's schema cannot be brought to this build's version."""


@dataclass(frozen=True)
class Migration:
    """One schema step: applied once, in order, in its own transaction."""

    version: int
    name: str
    statements: tuple[str, ...]


def check_migrations(migrations: Sequence[Migration]) -> None:
    """Raise ``MigrationError`` unless versions are positive, strictly increasing and each has statements."""
    previous = 0
    for migration in migrations:
        if migration.version <= previous:
            raise MigrationError(
                f"migration {migration.version} ({migration.name}) is out of order: versions must be "
                f"positive and strictly increasing (previous: {previous})"
            )
        if not migration.statements:
            raise MigrationError(f"migration {migration.version} ({migration.name}) has no statements")
        previous = migration.version


__all__ = ["Migration", "MigrationError", "check_migrations"]
