"""Append-only, named schema migrations recorded in a ``_migrations`` table.

Each migration is a function registered with :func:`migration`; its name is the
function's name and its place is the order of registration. A migration is never
edited or removed once released: a schema change is a new migration at the end.
Each runs in its own transaction (SQLite DDL is transactional), so a process killed
midway leaves the database at the previous migration.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from promptdeck.errors import RuntimeFailureError
from promptdeck.store.db import BUSY_TIMEOUT_MS, apply_pragmas
from promptdeck.timeutil import utcnow

__all__ = ["MIGRATIONS", "applied_migrations", "migrate", "migration"]

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[tuple[str, Migration]] = []
"""Every migration, in the order it must be applied."""


def migration(func: Migration) -> Migration:
    """Register ``func`` as the next migration, named after the function."""
    MIGRATIONS.append((func.__name__, func))
    return func


def _script(db: sqlite3.Connection, sql: str) -> None:
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)


@migration
def m001_prompt_registry(db: sqlite3.Connection) -> None:
    """Prompts, their immutable versions, labels and label history."""
    _script(
        db,
        """
        CREATE TABLE prompt (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL DEFAULT '',
            source_path TEXT NOT NULL,
            file_present INTEGER NOT NULL DEFAULT 1,
            last_error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX ix_prompt_updated_at ON prompt (updated_at);
        CREATE INDEX ix_prompt_source_path ON prompt (source_path);
        CREATE TABLE prompt_version (
            id INTEGER PRIMARY KEY,
            prompt_id INTEGER NOT NULL REFERENCES prompt (id),
            version INTEGER NOT NULL,
            content_hash TEXT NOT NULL,
            content TEXT NOT NULL,
            source_path TEXT NOT NULL,
            note TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (prompt_id, version),
            UNIQUE (prompt_id, content_hash)
        );
        CREATE INDEX ix_prompt_version_created_at ON prompt_version (created_at);
        CREATE TABLE label (
            id INTEGER PRIMARY KEY,
            prompt_id INTEGER NOT NULL REFERENCES prompt (id),
            name TEXT NOT NULL,
            version_id INTEGER NOT NULL REFERENCES prompt_version (id),
            updated_at TEXT NOT NULL,
            UNIQUE (prompt_id, name)
        );
        CREATE INDEX ix_label_version_id ON label (version_id);
        CREATE TABLE label_event (
            id INTEGER PRIMARY KEY,
            prompt_id INTEGER NOT NULL REFERENCES prompt (id),
            label TEXT NOT NULL,
            from_version_id INTEGER REFERENCES prompt_version (id),
            to_version_id INTEGER REFERENCES prompt_version (id),
            note TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX ix_label_event_prompt_created ON label_event (prompt_id, created_at)
        """,
    )


@migration
def m002_runs_traces_cache_feedback_spend(db: sqlite3.Connection) -> None:
    """Runs and cells with scores, completions, traces and spans, cache, feedback, spend."""
    _script(
        db,
        """
        CREATE TABLE run (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            suite TEXT,
            status TEXT NOT NULL,
            config TEXT NOT NULL DEFAULT '{}',
            total_cells INTEGER NOT NULL DEFAULT 0,
            passed INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0,
            errors INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL NOT NULL DEFAULT 0,
            is_baseline INTEGER NOT NULL DEFAULT 0,
            started_at TEXT NOT NULL,
            finished_at TEXT
        );
        CREATE INDEX ix_run_started_at ON run (started_at);
        CREATE INDEX ix_run_suite_started ON run (suite, started_at);
        CREATE INDEX ix_run_status ON run (status);
        CREATE TABLE completion (
            id INTEGER PRIMARY KEY,
            request_hash TEXT NOT NULL,
            model TEXT NOT NULL,
            answered_by TEXT,
            request TEXT NOT NULL DEFAULT '{}',
            text TEXT,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            cost_usd REAL NOT NULL DEFAULT 0,
            latency_ms REAL,
            ttft_ms REAL,
            finish_reason TEXT,
            error TEXT,
            cached INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        );
        CREATE INDEX ix_completion_request_hash ON completion (request_hash);
        CREATE INDEX ix_completion_model_created ON completion (model, created_at);
        CREATE INDEX ix_completion_created_at ON completion (created_at);
        CREATE TABLE run_cell (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES run (id) ON DELETE CASCADE,
            prompt_version_id INTEGER REFERENCES prompt_version (id),
            model TEXT NOT NULL,
            case_key TEXT NOT NULL,
            case_index INTEGER NOT NULL,
            repeat INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL,
            completion_id INTEGER REFERENCES completion (id),
            score REAL,
            passed INTEGER,
            error TEXT,
            source TEXT,
            started_at TEXT,
            finished_at TEXT,
            UNIQUE (run_id, prompt_version_id, model, case_key, repeat)
        );
        CREATE INDEX ix_run_cell_run_status ON run_cell (run_id, status);
        CREATE INDEX ix_run_cell_run_passed ON run_cell (run_id, passed);
        CREATE INDEX ix_run_cell_model ON run_cell (model);
        CREATE TABLE score (
            id INTEGER PRIMARY KEY,
            cell_id INTEGER NOT NULL REFERENCES run_cell (id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            assertion_type TEXT NOT NULL,
            value REAL NOT NULL,
            passed INTEGER NOT NULL,
            weight REAL NOT NULL DEFAULT 1,
            reason TEXT
        );
        CREATE INDEX ix_score_cell_id ON score (cell_id);
        CREATE INDEX ix_score_name ON score (name);
        CREATE TABLE trace (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            prompt_name TEXT,
            prompt_version_id INTEGER REFERENCES prompt_version (id),
            model TEXT,
            status TEXT NOT NULL,
            run_id INTEGER REFERENCES run (id) ON DELETE SET NULL,
            completion_id INTEGER REFERENCES completion (id),
            latency_ms REAL,
            total_tokens INTEGER,
            cost_usd REAL NOT NULL DEFAULT 0,
            error TEXT,
            started_at TEXT NOT NULL,
            ended_at TEXT
        );
        CREATE INDEX ix_trace_started_at ON trace (started_at);
        CREATE INDEX ix_trace_model_started ON trace (model, started_at);
        CREATE INDEX ix_trace_prompt_started ON trace (prompt_name, started_at);
        CREATE INDEX ix_trace_status_started ON trace (status, started_at);
        CREATE INDEX ix_trace_run_id ON trace (run_id);
        CREATE TABLE span (
            id INTEGER PRIMARY KEY,
            trace_id INTEGER NOT NULL REFERENCES trace (id) ON DELETE CASCADE,
            parent_id INTEGER REFERENCES span (id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            attributes TEXT NOT NULL DEFAULT '{}',
            started_at TEXT NOT NULL,
            ended_at TEXT,
            duration_ms REAL
        );
        CREATE INDEX ix_span_trace_id ON span (trace_id);
        CREATE TABLE cache_entry (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            model TEXT NOT NULL,
            scope TEXT NOT NULL DEFAULT '',
            completion_id INTEGER NOT NULL REFERENCES completion (id) ON DELETE CASCADE,
            hits INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            last_hit_at TEXT,
            UNIQUE (kind, key)
        );
        CREATE INDEX ix_cache_entry_model ON cache_entry (model);
        CREATE INDEX ix_cache_entry_created_at ON cache_entry (created_at);
        CREATE TABLE feedback (
            id INTEGER PRIMARY KEY,
            completion_id INTEGER REFERENCES completion (id) ON DELETE CASCADE,
            cell_id INTEGER REFERENCES run_cell (id) ON DELETE CASCADE,
            thumbs INTEGER,
            rating INTEGER,
            comment TEXT,
            corrected TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX ix_feedback_completion_id ON feedback (completion_id);
        CREATE INDEX ix_feedback_cell_id ON feedback (cell_id);
        CREATE INDEX ix_feedback_created_at ON feedback (created_at);
        CREATE TABLE spend (
            id INTEGER PRIMARY KEY,
            day TEXT NOT NULL,
            model TEXT NOT NULL,
            prompt_name TEXT,
            run_id INTEGER REFERENCES run (id) ON DELETE SET NULL,
            trace_id INTEGER REFERENCES trace (id) ON DELETE SET NULL,
            cost_usd REAL NOT NULL,
            tokens INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        );
        CREATE INDEX ix_spend_day_model ON spend (day, model);
        CREATE INDEX ix_spend_prompt_day ON spend (prompt_name, day);
        CREATE TABLE budget_event (
            id INTEGER PRIMARY KEY,
            budget TEXT NOT NULL,
            period_key TEXT NOT NULL,
            threshold REAL NOT NULL,
            spent_usd REAL NOT NULL,
            action TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX ix_budget_event_budget_created ON budget_event (budget, created_at)
        """,
    )


@migration
def m003_prompt_approvals(db: sqlite3.Connection) -> None:
    """Approvals of prompt versions, with the evidence runs they rest on."""
    _script(
        db,
        """
        CREATE TABLE approval (
            id INTEGER PRIMARY KEY,
            prompt_id INTEGER NOT NULL REFERENCES prompt (id),
            version_id INTEGER NOT NULL UNIQUE REFERENCES prompt_version (id),
            note TEXT,
            evidence TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL
        );
        CREATE INDEX ix_approval_prompt_created ON approval (prompt_id, created_at)
        """,
    )


@migration
def m004_semantic_cache(db: sqlite3.Connection) -> None:
    """Sentence vectors of semantic cache entries, and the shadow mode's observations."""
    _script(
        db,
        """
        CREATE TABLE semantic_vector (
            id INTEGER PRIMARY KEY,
            cache_entry_id INTEGER NOT NULL UNIQUE REFERENCES cache_entry (id) ON DELETE CASCADE,
            scope TEXT NOT NULL,
            vector BLOB NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX ix_semantic_vector_scope ON semantic_vector (scope);
        CREATE TABLE semantic_shadow (
            id INTEGER PRIMARY KEY,
            trace_uid TEXT NOT NULL,
            model TEXT NOT NULL,
            prompt_name TEXT,
            scope TEXT NOT NULL,
            candidate_completion_id INTEGER REFERENCES completion (id) ON DELETE SET NULL,
            fresh_completion_id INTEGER REFERENCES completion (id) ON DELETE SET NULL,
            similarity REAL NOT NULL,
            answer_similarity REAL,
            would_serve INTEGER NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX ix_semantic_shadow_model_created ON semantic_shadow (model, created_at)
        """,
    )


@migration
def m005_run_cell_results(db: sqlite3.Connection) -> None:
    """What a graded cell needs for reports and reruns: its answer, trace, timing, cost."""
    _script(
        db,
        """
        ALTER TABLE run_cell ADD COLUMN output TEXT;
        ALTER TABLE run_cell ADD COLUMN trace_uid TEXT;
        ALTER TABLE run_cell ADD COLUMN latency_ms REAL;
        ALTER TABLE run_cell ADD COLUMN ttft_ms REAL;
        ALTER TABLE run_cell ADD COLUMN tokens INTEGER;
        ALTER TABLE run_cell ADD COLUMN cost_usd REAL NOT NULL DEFAULT 0;
        ALTER TABLE run_cell ADD COLUMN grading_key TEXT;
        ALTER TABLE run ADD COLUMN summary TEXT NOT NULL DEFAULT '{}';
        CREATE INDEX ix_run_cell_grading
            ON run_cell (prompt_version_id, model, case_key, grading_key)
        """,
    )


@migration
def m006_prompt_file_sha(db: sqlite3.Connection) -> None:
    """The digest of each prompt file as last synced, so unchanged files are not re-parsed."""
    _script(db, "ALTER TABLE prompt ADD COLUMN file_sha TEXT")


@migration
def m007_run_leases_and_claims(db: sqlite3.Connection) -> None:
    """Leases of the processes running a run; cell claims; each cell's case description."""
    _script(
        db,
        """
        CREATE TABLE run_lease (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES run (id) ON DELETE CASCADE,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            started_at TEXT NOT NULL,
            heartbeat_at TEXT NOT NULL,
            ended_at TEXT
        );
        CREATE INDEX ix_run_lease_run_id ON run_lease (run_id);
        ALTER TABLE run_cell ADD COLUMN claimed_by INTEGER REFERENCES run_lease (id);
        ALTER TABLE run_cell ADD COLUMN case_description TEXT
        """,
    )


@migration
def m008_semantic_cache_by_values(db: sqlite3.Connection) -> None:
    """The semantic cache compares variable values: their canonical texts, guard verdicts.

    Vectors of the first scheme (whole prompts embedded) stay, in scopes no request
    asks for any more (so they are never served); their ``canon`` is NULL.
    """
    _script(
        db,
        """
        ALTER TABLE semantic_vector ADD COLUMN canon TEXT;
        ALTER TABLE semantic_shadow ADD COLUMN guarded INTEGER;
        ALTER TABLE run_cell ADD COLUMN similarity REAL
        """,
    )


@migration
def m009_approval_events(db: sqlite3.Connection) -> None:
    """Approvals and revocations as a history (like label moves), and who made each move."""
    _script(
        db,
        """
        CREATE TABLE approval_event (
            id INTEGER PRIMARY KEY,
            prompt_id INTEGER NOT NULL REFERENCES prompt (id),
            version_id INTEGER NOT NULL REFERENCES prompt_version (id),
            action TEXT NOT NULL,
            note TEXT,
            evidence TEXT NOT NULL DEFAULT '[]',
            actor TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX ix_approval_event_prompt_created ON approval_event (prompt_id, created_at);
        INSERT INTO approval_event (prompt_id, version_id, action, note, evidence, created_at)
            SELECT prompt_id, version_id, 'approved', note, evidence, created_at FROM approval;
        ALTER TABLE approval ADD COLUMN actor TEXT;
        ALTER TABLE label_event ADD COLUMN actor TEXT
        """,
    )


@migration
def m010_cost_known(db: sqlite3.Connection) -> None:
    """Whether a call's cost is known: a model with no known price costs "unknown", not 0."""
    _script(
        db,
        """
        ALTER TABLE completion ADD COLUMN cost_known INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE trace ADD COLUMN cost_known INTEGER NOT NULL DEFAULT 1
        """,
    )


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
