"""Database engine factory: SQLite in WAL mode, foreign keys on, a busy timeout."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlmodel import Session

__all__ = ["BUSY_TIMEOUT_MS", "apply_pragmas", "create_db_engine", "session_scope"]

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
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        apply_pragmas(dbapi_connection)

    return engine


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
