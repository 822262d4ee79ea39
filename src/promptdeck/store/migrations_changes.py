"""Every schema change after the base schema, one migration each, in order.

Append-only: a schema change is a new function at the end of this module, added at
the end of :data:`CHANGES` (when the module grows past ~400 lines, the next ones start
a module of their own, listed after it in :mod:`promptdeck.store.migrations`).
"""

from __future__ import annotations

from promptdeck.store.dialect import SqlConnection, run_script

__all__ = ["CHANGES"]


def m003_prompt_approvals(db: SqlConnection) -> None:
    """Approvals of prompt versions, with the evidence runs they rest on."""
    run_script(
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


def m004_semantic_cache(db: SqlConnection) -> None:
    """Sentence vectors of semantic cache entries, and the shadow mode's observations."""
    run_script(
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


def m005_run_cell_results(db: SqlConnection) -> None:
    """What a graded cell needs for reports and reruns: its answer, trace, timing, cost."""
    run_script(
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


def m006_prompt_file_sha(db: SqlConnection) -> None:
    """The digest of each prompt file as last synced, so unchanged files are not re-parsed."""
    run_script(db, "ALTER TABLE prompt ADD COLUMN file_sha TEXT")


def m007_run_leases_and_claims(db: SqlConnection) -> None:
    """Leases of the processes running a run; cell claims; each cell's case description."""
    run_script(
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


def m008_semantic_cache_by_values(db: SqlConnection) -> None:
    """The semantic cache compares variable values: their canonical texts, guard verdicts.

    Vectors of the first scheme (whole prompts embedded) stay, in scopes no request
    asks for any more (so they are never served); their ``canon`` is NULL.
    """
    run_script(
        db,
        """
        ALTER TABLE semantic_vector ADD COLUMN canon TEXT;
        ALTER TABLE semantic_shadow ADD COLUMN guarded INTEGER;
        ALTER TABLE run_cell ADD COLUMN similarity REAL
        """,
    )


def m009_approval_events(db: SqlConnection) -> None:
    """Approvals and revocations as a history (like label moves), and who made each move."""
    run_script(
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


def m010_cost_known(db: SqlConnection) -> None:
    """Whether a call's cost is known: a model with no known price costs "unknown", not 0."""
    run_script(
        db,
        """
        ALTER TABLE completion ADD COLUMN cost_known INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE trace ADD COLUMN cost_known INTEGER NOT NULL DEFAULT 1
        """,
    )


def m011_collected_traces(db: SqlConnection) -> None:
    """Traces received from applications (``promptdeck collect``): their source, span ids.

    A trace's ``source`` is ``promptdeck`` (its own calls) or ``otlp`` (collected); a
    collected span keeps its OpenTelemetry span id and its parent's, so a parent that
    arrives in a later request is still linked.
    """
    run_script(
        db,
        """
        ALTER TABLE trace ADD COLUMN source TEXT NOT NULL DEFAULT 'promptdeck';
        CREATE INDEX ix_trace_source_started ON trace (source, started_at);
        ALTER TABLE span ADD COLUMN span_uid TEXT;
        ALTER TABLE span ADD COLUMN parent_uid TEXT;
        CREATE INDEX ix_span_trace_span_uid ON span (trace_id, span_uid)
            WHERE span_uid IS NOT NULL
        """,
    )


def m013_actors(db: SqlConnection) -> None:
    """Who rated a result, and whose sync recorded a version.

    Label moves and approvals have had an actor since m009. Written on another branch
    as m011 was; the name m012 was never used.
    """
    run_script(
        db,
        """
        ALTER TABLE feedback ADD COLUMN actor TEXT;
        ALTER TABLE prompt_version ADD COLUMN author TEXT
        """,
    )


def m015_pending_cells(db: SqlConnection) -> None:
    """The pending cells of each run, by id: what runners and workers claim next.

    A partial index (both engines have them): it holds only the cells still to run, so
    a worker's look for work across runs and its claims stay quick however many
    finished cells the database holds.
    """
    run_script(
        db, "CREATE INDEX ix_run_cell_pending ON run_cell (run_id, id) WHERE status = 'pending'"
    )


def m016_list_indexes(db: SqlConnection) -> None:
    """Indexes two lists lacked, found by EXPLAINing every list on both engines.

    The review queue (ensemble answers to review) looked for ``kind = 'ensemble'``
    through every trace; the prompt list's pass rates read every graded cell from the
    table rather than from an index holding the three columns they use.
    """
    run_script(
        db,
        """
        CREATE INDEX ix_trace_kind ON trace (kind, id);
        CREATE INDEX ix_run_cell_version_run_passed ON run_cell (prompt_version_id, run_id, passed)
        """,
    )


CHANGES = [
    m003_prompt_approvals,
    m004_semantic_cache,
    m005_run_cell_results,
    m006_prompt_file_sha,
    m007_run_leases_and_claims,
    m008_semantic_cache_by_values,
    m009_approval_events,
    m010_cost_known,
    m011_collected_traces,
    m013_actors,
    m015_pending_cells,
    m016_list_indexes,
]
"""The schema's changes since the base, in order."""
