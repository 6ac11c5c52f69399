"""Versioned schema migrations, one list per database.

Each backend keeps its own list (``bot.store.migrations.sqlite``, ``bot.store.migrations.postgres``) with
the same version numbers and names, so that version ``n`` means the same logical schema everywhere; only
the SQL dialect differs (a test checks that the lists match). A migration is a tuple of single statements
(not a script) so that the runner can apply all of them inside one transaction and record the version in
that same transaction.

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


def check_recorded(recorded: Sequence[tuple[int, str]], migrations: Sequence[Migration]) -> None:
    """Raise ``MigrationError`` unless every ``(version, name)`` recorded in a database is in ``migrations``.

    A version this build does not know was written by a newer build; a known version under another name
    means a released migration was edited.
    """
    by_version = {migration.version: migration for migration in migrations}
    for version, name in recorded:
        known = by_version.get(version)
        if known is None:
            newest = max(by_version, default=0)
            raise MigrationError(
                f"the database has schema version {version} ({name}), which this build does "
                f"not know (it knows up to {newest}); it was written by a newer supportbot: upgrade this one"
            )
        if known.name != name:
            raise MigrationError(
                f"schema version {known.version} is recorded as {name!r} in the database but is "
                f"{known.name!r} in this build; released migrations must not be edited"
            )


__all__ = ["Migration", "MigrationError", "check_migrations", "check_recorded"]
