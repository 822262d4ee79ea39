"""Database engine factory: SQLite in WAL mode, foreign keys on, a busy timeout.

Every connection waits for another process's writer instead of failing with
"database is locked", which takes two things besides the busy timeout:

- A transaction that writes starts with ``BEGIN IMMEDIATE``: it takes the write
  lock at its start, waiting (busy handler) for the current writer. A *deferred*
  transaction that has read and then writes cannot wait: when another connection
  wrote meanwhile, SQLite answers SQLITE_BUSY at once, busy timeout or not.
  pysqlite opens the transaction itself before the first INSERT, UPDATE or DELETE,
  with ``isolation_level`` as its BEGIN mode; reads before it run in autocommit.
- A savepoint (``Session.begin_nested``) opened outside a transaction would start a
  deferred one; the engine opens an immediate transaction first.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlmodel import Session

from promptdeck.errors import RuntimeFailureError

__all__ = [
    "BUSY_TIMEOUT_MS",
    "apply_pragmas",
    "create_db_engine",
    "lock_error",
    "run_script",
    "session_scope",
]

BUSY_TIMEOUT_MS = 30_000
"""How long a writer waits for another process's lock before failing."""


def apply_pragmas(connection: sqlite3.Connection) -> None:
    """Set the pragmas every promptdeck connection runs with.

    Args:
        connection: A fresh DB-API connection.
    """
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_db_engine(path: Path) -> Engine:
    """Create an engine for the workspace database at ``path``.

    The database must already be migrated (see :func:`promptdeck.store.migrations.migrate`).

    Args:
        path: The SQLite file.

    Returns:
        A SQLAlchemy engine whose connections use WAL, foreign keys and a busy timeout.
    """
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={
            "timeout": BUSY_TIMEOUT_MS / 1000,
            "check_same_thread": False,
            # pysqlite's own BEGIN before the first write of a transaction.
            "isolation_level": "IMMEDIATE",
        },
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        apply_pragmas(dbapi_connection)

    @event.listens_for(engine, "savepoint")
    def _on_savepoint(connection: Any, _name: str | None) -> None:
        # Outside a transaction, SAVEPOINT would begin a deferred one (pysqlite does not
        # open one for it): take the write lock first, waiting for it.
        dbapi_connection = connection.connection.driver_connection
        if not dbapi_connection.in_transaction:
            dbapi_connection.execute("BEGIN IMMEDIATE")

    return engine


def lock_error(error: BaseException) -> RuntimeFailureError | None:
    """The user-facing error for SQLite's "database is locked" after the busy timeout.

    Args:
        error: An exception from a database call (SQLAlchemy's or sqlite3's).

    Returns:
        A one-line runtime error saying what held the database, or None when
        ``error`` is something else.
    """
    original = getattr(error, "orig", error)
    if not isinstance(original, sqlite3.OperationalError):
        return None
    message = str(original).lower()
    if "database is locked" not in message and "database is busy" not in message:
        return None
    return RuntimeFailureError(
        f"the workspace database stayed busy for {BUSY_TIMEOUT_MS // 1000} s "
        "(another promptdeck process kept writing)",
        "try again when the other command (an eval run?) has finished",
    )


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """Open a session that commits on success and rolls back on any error.

    Args:
        engine: The workspace engine.

    Yields:
        The session.
    """
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def run_script(db: sqlite3.Connection, sql: str) -> None:
    """Run the statements of ``sql``, split on ``;``, inside the current transaction.

    ``sqlite3``'s ``executescript`` would commit first; a migration runs whole or not at all.
    """
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)
