"""Migrations: from a blank database, from each previous schema with data, and atomically."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import SQLModel

from promptdeck.errors import RuntimeFailureError, WorkspaceError
from promptdeck.store import migrations, tables
from promptdeck.store.db import create_db_engine
from promptdeck.store.migrations import MIGRATIONS, applied_migrations, migrate
from tests.pg import EngineChoice, PgServer, blank_target, columns, connect, table_names

ALL = [name for name, _ in MIGRATIONS]


def _tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {r[0] for r in rows}


def test_blank_database_gets_every_migration_once(engine: EngineChoice, tmp_path: Path) -> None:
    target = blank_target(engine, tmp_path)
    assert migrate(target) == ALL
    assert migrate(target) == []
    db = connect(target)
    recorded = [r[0] for r in db.execute("SELECT name FROM _migrations").fetchall()]
    assert applied_migrations(db) == ALL
    assert sorted(recorded) == sorted(ALL)
    if not engine.is_postgres:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    expected = {t.name for t in SQLModel.metadata.sorted_tables} | {"_migrations"}
    assert expected <= table_names(db)


def test_migrated_schema_matches_the_table_classes(engine: EngineChoice, tmp_path: Path) -> None:
    target = blank_target(engine, tmp_path)
    migrate(target)
    db = connect(target)
    for table in SQLModel.metadata.sorted_tables:
        in_db = {name: not_null for name, (_type, not_null) in columns(db, table.name).items()}
        in_model = {c.name: (not c.nullable) for c in table.columns}
        assert set(in_db) == set(in_model), table.name
        for column, not_null in in_model.items():
            if column != "id":
                assert in_db[column] == not_null, f"{table.name}.{column} nullability"


def test_postgres_gets_its_own_types_for_ids_floats_and_bytes(pg_server: PgServer) -> None:
    """SQLite's INTEGER PRIMARY KEY, REAL and BLOB become identity, double and bytea."""
    target = pg_server.create_database()
    migrate(target)
    db = connect(target)
    assert columns(db, "completion")["cost_usd"][0] == "DOUBLE PRECISION"
    assert columns(db, "semantic_vector")["vector"][0] == "BYTEA"
    identity = db.execute(
        "SELECT is_identity FROM information_schema.columns "
        "WHERE table_name = 'run' AND column_name = 'id'"
    ).fetchone()[0]
    assert identity == "YES"


def _fill(db: Any, table: str) -> None:
    """Insert one row with a plausible value for every column."""
    names, values = [], []
    for name, (type_, _not_null) in columns(db, table).items():
        if name == "id":
            continue
        names.append(name)
        if name.endswith("_at"):
            values.append("2026-01-01T00:00:00.000000+00:00")
        elif type_ == "BYTEA" or type_ == "BLOB":
            values.append(b"\x00\x01")
        elif (
            name.endswith("_id")
            or name == "claimed_by"
            or type_ in ("INTEGER", "REAL", "DOUBLE PRECISION", "BIGINT")
        ):
            values.append(1)
        elif name in ("config", "request", "attributes"):
            values.append("{}")
        else:
            values.append(f"{table}-{name}")
    marks = ", ".join("?" for _ in names)
    db.execute(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", values)


@pytest.mark.parametrize("previous", ALL[:-1])
def test_upgrade_from_each_previous_schema_keeps_rows(
    engine: EngineChoice, tmp_path: Path, previous: str
) -> None:
    target = blank_target(engine, tmp_path)
    applied = migrate(target, upto=previous)
    assert applied[-1] == previous
    db = connect(target)
    # Rows that reference each other by id 1 in any order: no foreign key checks.
    if engine.is_postgres:
        db.execute("SET session_replication_role = replica")
    else:
        db.execute("PRAGMA foreign_keys=OFF")
    existing = sorted(table_names(db) - {"_migrations"})
    for table in existing:
        _fill(db, table)
    db.raw.close()
    rest = migrate(target)
    assert rest == ALL[ALL.index(previous) + 1 :]
    db = connect(target)
    for table in existing:
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 1, table
        # The identity goes on after the rows there (PostgreSQL: a sequence of its own).
    if engine.is_postgres and "prompt" in existing:
        db.execute("SET session_replication_role = replica")
        db.execute(
            "INSERT INTO prompt (name, source_path, created_at, updated_at) "
            "VALUES ('other', 'p', '', '')"
        )


def test_approvals_made_before_the_history_existed_are_in_it(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    migrate(db, upto=ALL[ALL.index("m009_approval_events") - 1])
    at = "2026-01-01T00:00:00.000000+00:00"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO prompt (id, name, source_path, created_at, updated_at) "
            "VALUES (1, 'p', 'prompts/p.prompt.yaml', ?, ?)",
            (at, at),
        )
        for version in (1, 2):
            conn.execute(
                "INSERT INTO prompt_version (id, prompt_id, version, content_hash, content, "
                "source_path, created_at) VALUES (?, 1, ?, ?, '', 'p', ?)",
                (version, version, f"h{version}", at),
            )
        conn.execute(
            "INSERT INTO approval (prompt_id, version_id, note, evidence, created_at) "
            "VALUES (1, 2, 'ok', '[\"r-1\"]', ?)",
            (at,),
        )
        conn.commit()
    migrate(db)
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT prompt_id, version_id, action, note, evidence, actor, created_at "
            "FROM approval_event"
        ).fetchall()
    assert rows == [(1, 2, "approved", "ok", '["r-1"]', None, at)]


def test_a_failing_migration_leaves_the_previous_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def m999_broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half_done (id INTEGER)")
        raise sqlite3.OperationalError("disk full (simulated)")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*MIGRATIONS, ("m999_broken", m999_broken)])
    db = tmp_path / "w.db"
    with pytest.raises(RuntimeFailureError, match="cannot migrate"):
        migrate(db)
    assert "half_done" not in _tables(db)
    with sqlite3.connect(db) as conn:
        recorded = [r[0] for r in conn.execute("SELECT name FROM _migrations")]
    assert recorded == ALL


def test_a_database_from_a_newer_promptdeck_is_refused(
    engine: EngineChoice, tmp_path: Path
) -> None:
    target = blank_target(engine, tmp_path)
    migrate(target)
    connect(target).execute("INSERT INTO _migrations VALUES ('m900_future', '2030-01-01')")
    with pytest.raises(WorkspaceError, match=r"newer promptdeck \(m900_future\)") as caught:
        migrate(target)
    assert caught.value.exit_code == 2


def test_a_damaged_file_is_a_runtime_error_not_a_traceback(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    db.write_bytes(b"this is not a database" * 100)
    with pytest.raises(RuntimeFailureError, match="cannot migrate"):
        migrate(db)


def test_connections_enforce_foreign_keys_and_wal(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    migrate(db)
    engine = create_db_engine(db)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    engine.dispose()


def test_every_listed_column_has_an_index(tmp_path: Path) -> None:
    """Columns the screens sort or filter by lead an index."""
    db = tmp_path / "w.db"
    migrate(db)
    listed = {
        "prompt": ["name", "updated_at"],
        "prompt_version": ["prompt_id", "created_at"],
        "run": ["started_at", "suite", "status"],
        "run_cell": ["run_id", "model"],
        "trace": ["started_at", "model", "prompt_name", "status", "run_id", "source"],
        "span": ["trace_id"],
        "completion": ["request_hash", "model", "created_at"],
        "feedback": ["completion_id", "cell_id", "created_at"],
        "spend": ["day", "prompt_name"],
        "cache_entry": ["model", "created_at"],
    }
    with sqlite3.connect(db) as conn:
        for table, columns in listed.items():
            leading = set()
            for index in conn.execute(f"PRAGMA index_list({table})").fetchall():
                first = conn.execute(f"PRAGMA index_info({index[1]})").fetchone()
                leading.add(first[2])
            for column in columns:
                assert column in leading, f"{table}.{column} has no index"
    assert tables.Prompt.__tablename__ == "prompt"


def test_traces_stored_before_collect_are_promptdeck_s_own(
    engine: EngineChoice, tmp_path: Path
) -> None:
    """m011: existing traces get the source ``promptdeck``; spans get empty OTLP ids."""
    target = blank_target(engine, tmp_path)
    migrate(target, upto="m010_cost_known")
    db = connect(target)
    if engine.is_postgres:
        db.execute("SET session_replication_role = replica")
    else:
        db.execute("PRAGMA foreign_keys=OFF")
    _fill(db, "trace")
    _fill(db, "span")
    db.raw.close()
    assert migrate(target)[0] == "m011_collected_traces"
    db = connect(target)
    assert db.execute("SELECT source FROM trace").fetchall() == [("promptdeck",)]
    assert db.execute("SELECT span_uid, parent_uid FROM span").fetchall() == [(None, None)]
