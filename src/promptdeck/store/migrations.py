"""Append-only, named schema migrations recorded in a ``_migrations`` table.

Each migration is a function; its name is the function's name and its place is its
place in :data:`MIGRATIONS`: the base schema (:mod:`.migrations_base`), then every
change since (:mod:`.migrations_changes`). A migration is never edited or removed
once released: a schema change is a new migration at the end.
Each runs in its own transaction (DDL is transactional on SQLite and PostgreSQL), so
a process killed midway leaves the database at the previous migration.

The same migrations run on both engines, written in SQLite's dialect and translated
for PostgreSQL by :class:`promptdeck.store.dialect.SqlConnection`. Concurrent
migrators wait for each other: ``BEGIN IMMEDIATE`` on SQLite, an advisory lock on
PostgreSQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from promptdeck.errors import RuntimeFailureError, WorkspaceError
from promptdeck.store.db import BUSY_TIMEOUT_MS, apply_pragmas
from promptdeck.store.dialect import POSTGRES, SQLITE, SqlConnection
from promptdeck.store.engines import DatabaseTarget, is_postgres_url, redact_url
from promptdeck.store.migrations_base import BASE
from promptdeck.store.migrations_changes import CHANGES
from promptdeck.timeutil import utcnow

__all__ = [
    "MIGRATIONS",
    "Migration",
    "applied_migrations",
    "migrate",
    "newer_than_known",
    "pending_migrations",
    "require_current",
]

Migration = Callable[[SqlConnection], None]
MIGRATIONS: list[tuple[str, Migration]] = [(func.__name__, func) for func in (*BASE, *CHANGES)]
"""Every migration, named after its function, in the order it must be applied."""

PG_LOCK_KEY = 0x70D3C0DE
"""The advisory lock (``pg_advisory_xact_lock``) migrators of one database take in turn."""

_CREATE = "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"


def applied_migrations(db: SqlConnection) -> list[str]:
    """Return the names of the migrations already applied, in order."""
    db.execute(_CREATE)
    order = "rowid" if db.dialect == SQLITE else "applied_at, name"
    rows = db.execute(f"SELECT name FROM _migrations ORDER BY {order}").fetchall()  # noqa: S608
    return [str(row[0]) for row in rows]


def newer_than_known(where: str, done: list[str]) -> WorkspaceError | None:
    """The refusal for a database migrated by a newer promptdeck (None when it is not)."""
    known = {name for name, _ in MIGRATIONS}
    unknown = [name for name in done if name not in known]
    if not unknown:
        return None
    return WorkspaceError(
        f"{where}: the database was migrated by a newer promptdeck ({unknown[0]})",
        "upgrade promptdeck to open this workspace",
    )


def _begin(db: SqlConnection) -> None:
    if db.dialect == POSTGRES:
        db.execute("BEGIN")
        db.execute(f"SELECT pg_advisory_xact_lock({PG_LOCK_KEY})")
    else:
        db.execute("BEGIN IMMEDIATE")


def _apply(db: SqlConnection, where: str, upto: str | None) -> list[str]:
    if db.dialect == POSTGRES:
        # Creating _migrations races with another migrator: take the lock for it too.
        _begin(db)
        done = applied_migrations(db)
        db.execute("COMMIT")
    else:
        done = applied_migrations(db)
    refusal = newer_than_known(where, done)
    if refusal is not None:
        raise refusal
    applied_now: list[str] = []
    for name, func in MIGRATIONS:
        if name in done:
            if name == upto:
                break
            continue
        _begin(db)
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
    return applied_now


def migrate(target: DatabaseTarget, upto: str | None = None) -> list[str]:
    """Bring the database at ``target`` up to date, creating it if needed.

    Args:
        target: The SQLite file, or a ``postgresql://`` URL.
        upto: Stop after the migration of this name (for tests of old schemas).

    Returns:
        The names of the migrations applied by this call.

    Raises:
        WorkspaceError: When the database is newer than this promptdeck.
        RuntimeFailureError: When the database cannot be opened or migrated.
    """
    if is_postgres_url(target):
        from promptdeck.store.migrate_pg import migrate_postgres

        url = str(target)
        return migrate_postgres(url, lambda db: _apply(db, redact_url(url), upto))
    path = Path(target)
    try:
        raw = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise RuntimeFailureError(
            f"{path}: cannot open the workspace database ({exc})",
            "check the folder is writable",
        ) from exc
    try:
        apply_pragmas(raw)
        return _apply(SqlConnection(raw, SQLITE), str(path), upto)
    except sqlite3.DatabaseError as exc:
        raise RuntimeFailureError(
            f"{path}: cannot migrate the workspace database ({exc})",
            "if the file is damaged, move it aside; promptdeck makes a new one from your files",
        ) from exc
    finally:
        raw.close()


def _recorded(db: SqlConnection) -> list[str]:
    """The applied migrations' names, without creating anything (none: a blank database)."""
    if db.dialect == POSTGRES:
        exists = db.execute("SELECT to_regclass('_migrations')").fetchone()[0] is not None
    else:
        exists = bool(
            db.execute("SELECT 1 FROM sqlite_master WHERE name = '_migrations'").fetchone()
        )
    return applied_migrations(db) if exists else []


def pending_migrations(target: DatabaseTarget) -> tuple[list[str], list[str]]:
    """What a database has applied, and what this promptdeck would still apply (read only).

    Returns:
        The applied names, in order, and the pending ones.

    Raises:
        WorkspaceError: When the database is newer than this promptdeck.
        RuntimeFailureError: When it cannot be read.
    """
    if is_postgres_url(target):
        from promptdeck.store.migrate_pg import migrate_postgres

        url = str(target)
        done = migrate_postgres(url, _recorded)
        where = redact_url(url)
    else:
        path = Path(target)
        if not path.exists():
            done, where = [], str(path)
        else:
            raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                done, where = _recorded(SqlConnection(raw, SQLITE)), str(path)
            except sqlite3.DatabaseError as exc:
                raise RuntimeFailureError(
                    f"{path}: cannot read the workspace database ({exc})",
                    "if the file is damaged, move it aside",
                ) from exc
            finally:
                raw.close()
    refusal = newer_than_known(where, done)
    if refusal is not None:
        raise refusal
    return done, [name for name, _ in MIGRATIONS if name not in done]


def require_current(url: str) -> None:
    """Refuse a shared (PostgreSQL) database whose schema is not this promptdeck's.

    A shared database is migrated on purpose, with ``promptdeck db upgrade``, never by
    whichever teammate's promptdeck opens it first.

    Raises:
        WorkspaceError: When it is newer, or needs ``promptdeck db upgrade``.
    """
    done, pending = pending_migrations(url)
    if pending:
        state = f"is at {done[-1]}" if done else "has no promptdeck tables yet"
        raise WorkspaceError(
            f"the workspace database {redact_url(url)} {state}; this promptdeck needs "
            f"{MIGRATIONS[-1][0]}",
            "run `promptdeck db upgrade` (once, for everyone sharing it)",
        )
