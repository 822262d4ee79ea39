"""Append-only, named schema migrations recorded in a ``_migrations`` table.

Each migration is a function; its name is the function's name and its place is its
place in :data:`MIGRATIONS`: the base schema (:mod:`.migrations_base`), then every
change since (:mod:`.migrations_changes`). A migration is never edited or removed
once released: a schema change is a new migration at the end.
Each runs in its own transaction (SQLite DDL is transactional), so a process killed
midway leaves the database at the previous migration.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from promptdeck.errors import RuntimeFailureError
from promptdeck.store.db import BUSY_TIMEOUT_MS, apply_pragmas
from promptdeck.store.migrations_base import BASE
from promptdeck.store.migrations_changes import CHANGES
from promptdeck.timeutil import utcnow

__all__ = ["MIGRATIONS", "Migration", "applied_migrations", "migrate"]

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[tuple[str, Migration]] = [(func.__name__, func) for func in (*BASE, *CHANGES)]
"""Every migration, named after its function, in the order it must be applied."""


def applied_migrations(db: sqlite3.Connection) -> list[str]:
    """Return the names of the migrations already applied, in order."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    rows = db.execute("SELECT name FROM _migrations ORDER BY rowid").fetchall()
    return [str(row[0]) for row in rows]


def migrate(path: Path, upto: str | None = None) -> list[str]:
    """Bring the database at ``path`` up to date, creating it if needed.

    Args:
        path: The SQLite file.
        upto: Stop after the migration of this name (for tests of old schemas).

    Returns:
        The names of the migrations applied by this call.

    Raises:
        RuntimeFailureError: When the database is newer than this promptdeck, or
            cannot be opened or migrated.
    """
    known = [name for name, _ in MIGRATIONS]
    applied_now: list[str] = []
    try:
        db = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise RuntimeFailureError(
            f"{path}: cannot open the workspace database ({exc})",
            "check the folder is writable",
        ) from exc
    try:
        apply_pragmas(db)
        done = applied_migrations(db)
        unknown = [name for name in done if name not in known]
        if unknown:
            raise RuntimeFailureError(
                f"{path}: the database was migrated by a newer promptdeck ({unknown[0]})",
                "upgrade promptdeck to open this workspace",
            )
        for name, func in MIGRATIONS:
            if name in done:
                if name == upto:
                    break
                continue
            db.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have applied it while we waited for the lock.
                if db.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone():
                    db.execute("COMMIT")
                    continue
                func(db)
                db.execute(
                    "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                    (name, utcnow().isoformat(timespec="microseconds")),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            applied_now.append(name)
            if name == upto:
                break
    except sqlite3.DatabaseError as exc:
        raise RuntimeFailureError(
            f"{path}: cannot migrate the workspace database ({exc})",
            "if the file is damaged, move it aside; promptdeck makes a new one from your files",
        ) from exc
    finally:
        db.close()
    return applied_now
