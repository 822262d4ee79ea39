"""The base schema: the prompt registry; runs, traces, cache, feedback and spend.

Released migrations are never edited; see :mod:`promptdeck.store.migrations` for the
order they run in and :mod:`promptdeck.store.migrations_changes` for every change since.
"""

from __future__ import annotations

from promptdeck.store.dialect import SqlConnection, run_script

__all__ = ["BASE"]


def m001_prompt_registry(db: SqlConnection) -> None:
    """Prompts, their immutable versions, labels and label history."""
    run_script(
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


def m002_runs_traces_cache_feedback_spend(db: SqlConnection) -> None:
    """Runs and cells with scores, completions, traces and spans, cache, feedback, spend."""
    run_script(
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


BASE = [m001_prompt_registry, m002_runs_traces_cache_feedback_spend]
"""The base schema's migrations, in order."""
