"""Copy a workspace's history from one database to another (SQLite ⇄ PostgreSQL).

Every table is copied row for row, ids included, in foreign-key order, as the stored
values (text, numbers, bytes: nothing is parsed and re-serialised). The target must be
empty; it is migrated first. Afterwards both sides are compared table by table: the
row count and a SHA-256 of the rows in id order must agree, or the copy is an error.
PostgreSQL's identity columns then continue after the highest id copied.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, column, func, select, table, text
from sqlalchemy.sql.expression import TableClause
from sqlmodel import SQLModel

from promptdeck.errors import RuntimeFailureError, UsageError

__all__ = ["TableCopy", "copy_database", "table_digest"]

_BATCH = 1000


@dataclass(frozen=True)
class TableCopy:
    """One table copied: its name, rows and the digest both sides agree on."""

    name: str
    rows: int
    digest: str


def _tables() -> list[TableClause]:
    """The workspace's tables in foreign-key order, as plain (untyped) columns."""
    import promptdeck.store.cache_tables
    import promptdeck.store.tables  # noqa: F401 - registers the table classes

    return [
        table(t.name, *(column(c.name) for c in t.columns)) for t in SQLModel.metadata.sorted_tables
    ]


def _rows(engine: Engine, t: TableClause) -> Iterator[Sequence[Any]]:
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=_BATCH).execute(
            select(*t.columns).order_by(t.c.id)
        )
        for row in result:
            yield tuple(row)


def _canonical(value: Any) -> bytes:
    if value is None:
        return b"\x00N"
    if isinstance(value, bytes | bytearray | memoryview):
        return b"\x00B" + bytes(value)
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, float):
        return b"\x00F" + repr(value).encode()
    if isinstance(value, int):
        return b"\x00I" + str(value).encode()
    return b"\x00S" + str(value).encode("utf-8", "surrogatepass")


def table_digest(engine: Engine, t: TableClause) -> tuple[int, str]:
    """Row count and SHA-256 of a table's rows in id order (values as stored)."""
    digest = hashlib.sha256()
    count = 0
    for row in _rows(engine, t):
        count += 1
        for value in row:
            digest.update(_canonical(value))
        digest.update(b"\x00R")
    return count, digest.hexdigest()


def _require_empty(target: Engine, tables: list[TableClause], shown: str) -> None:
    with target.connect() as conn:
        for t in tables:
            if conn.execute(select(func.count()).select_from(t)).scalar():
                raise UsageError(
                    f"{shown} already holds data (table {t.name})",
                    "copy into an empty database (a new one, or a new SQLite file)",
                )


def copy_database(source: Engine, target: Engine, shown_target: str) -> list[TableCopy]:
    """Copy every table of ``source`` into the empty, migrated ``target``; verify it.

    Args:
        source: The workspace's engine.
        target: The engine of the (migrated, empty) target database.
        shown_target: The target as messages name it (a redacted URL or a path).

    Returns:
        One entry per table, in the order copied.

    Raises:
        UsageError: When the target already holds data.
        RuntimeFailureError: When a table's count or digest differs after the copy.
    """
    tables = _tables()
    _require_empty(target, tables, shown_target)
    with target.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        for t in tables:
            batch: list[dict[str, Any]] = []
            names = [c.name for c in t.columns]
            for row in _rows(source, t):
                batch.append(dict(zip(names, row, strict=True)))
                if len(batch) >= _BATCH:
                    conn.execute(t.insert(), batch)
                    batch = []
            if batch:
                conn.execute(t.insert(), batch)
        if conn.dialect.name == "postgresql":
            for t in tables:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{t.name}', 'id'), "  # noqa: S608
                        f"COALESCE((SELECT max(id) FROM {t.name}), 0) + 1, false)"
                    )
                )
    copied: list[TableCopy] = []
    for t in tables:
        before, after = table_digest(source, t), table_digest(target, t)
        if before != after:
            raise RuntimeFailureError(
                f"{shown_target}: table {t.name} differs after the copy "
                f"({before[0]} rows here, {after[0]} there)",
                "the target is left as it is: drop it and copy again",
            )
        copied.append(TableCopy(t.name, before[0], before[1]))
    return copied
