"""SQLModel tables of the workspace database.

The schema itself is created by :mod:`promptdeck.store.migrations`; these classes
map it for queries. A test checks that both agree column for column.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict
from sqlmodel import Field, SQLModel

from promptdeck.store.types import IntBool, JSONText, UTCDateTime
from promptdeck.timeutil import utcnow

__all__ = [
    "Approval",
    "ApprovalEvent",
    "BudgetEvent",
    "CacheEntry",
    "CompletionRow",
    "Feedback",
    "Label",
    "LabelEvent",
    "Prompt",
    "PromptVersion",
    "Run",
    "RunCell",
    "RunLease",
    "ScoreRow",
    "Span",
    "Spend",
    "TableModel",
    "Trace",
]


class TableModel(SQLModel):
    """Base of every table class.

    pydantic builds a model's validator when the class is made, unless asked to defer
    it. Table rows are never validated (SQLModel builds them without validation), so
    deferring saves ~10 ms at every start; the validator is built if ever needed.
    """

    model_config = ConfigDict(defer_build=True)  # type: ignore[assignment]


def _now_field() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime)


class Prompt(TableModel, table=True):
    """A prompt, identified by name; its content lives in its versions."""

    __tablename__ = "prompt"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    description: str = ""
    source_path: str
    file_present: bool = Field(default=True, sa_type=IntBool)
    last_error: str | None = None
    created_at: datetime = _now_field()
    updated_at: datetime = _now_field()
    file_sha: str | None = None
    """Digest of the file's text at the last sync that parsed it (None: parse it again)."""


class PromptVersion(TableModel, table=True):
    """One immutable content of a prompt file."""

    __tablename__ = "prompt_version"
    id: int | None = Field(default=None, primary_key=True)
    prompt_id: int = Field(foreign_key="prompt.id")
    version: int
    content_hash: str
    content: str
    source_path: str
    note: str | None = None
    created_at: datetime = _now_field()
    author: str | None = None
    """Who synced this content first (see :mod:`promptdeck.identity`); None before m013."""


class Label(TableModel, table=True):
    """A named pointer (``production``, ``latest``…) at one version of a prompt."""

    __tablename__ = "label"
    id: int | None = Field(default=None, primary_key=True)
    prompt_id: int = Field(foreign_key="prompt.id")
    name: str
    version_id: int = Field(foreign_key="prompt_version.id")
    updated_at: datetime = _now_field()


class LabelEvent(TableModel, table=True):
    """One move of a label: from which version to which, when and why."""

    __tablename__ = "label_event"
    id: int | None = Field(default=None, primary_key=True)
    prompt_id: int = Field(foreign_key="prompt.id")
    label: str
    from_version_id: int | None = Field(default=None, foreign_key="prompt_version.id")
    to_version_id: int | None = Field(default=None, foreign_key="prompt_version.id")
    note: str | None = None
    created_at: datetime = _now_field()
    actor: str | None = None
    """Who moved it (:mod:`promptdeck.identity`); None for the moves of ``latest`` a sync makes."""


class Approval(TableModel, table=True):
    """A version approved now, with the runs that justified it (revoking deletes the row)."""

    __tablename__ = "approval"
    id: int | None = Field(default=None, primary_key=True)
    prompt_id: int = Field(foreign_key="prompt.id")
    version_id: int = Field(foreign_key="prompt_version.id", unique=True)
    note: str | None = None
    evidence: list[str] = Field(default_factory=list, sa_type=JSONText)
    created_at: datetime = _now_field()
    actor: str | None = None


class ApprovalEvent(TableModel, table=True):
    """One approval or revocation of a version: who, when, why, on what evidence."""

    __tablename__ = "approval_event"
    id: int | None = Field(default=None, primary_key=True)
    prompt_id: int = Field(foreign_key="prompt.id")
    version_id: int = Field(foreign_key="prompt_version.id")
    action: str
    """``approved`` or ``revoked``."""
    note: str | None = None
    evidence: list[str] = Field(default_factory=list, sa_type=JSONText)
    actor: str | None = None
    created_at: datetime = _now_field()


class Run(TableModel, table=True):
    """An eval, compare or single run."""

    __tablename__ = "run"
    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(unique=True)
    kind: str
    suite: str | None = None
    status: str
    config: dict[str, Any] = Field(default_factory=dict, sa_type=JSONText)
    total_cells: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    cost_usd: float = 0.0
    is_baseline: bool = Field(default=False, sa_type=IntBool)
    started_at: datetime = _now_field()
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    summary: dict[str, Any] = Field(default_factory=dict, sa_type=JSONText)


class CompletionRow(TableModel, table=True):
    """One model answer (or failure), with usage, cost and timing."""

    __tablename__ = "completion"
    id: int | None = Field(default=None, primary_key=True)
    request_hash: str
    model: str
    answered_by: str | None = None
    request: dict[str, Any] = Field(default_factory=dict, sa_type=JSONText)
    text: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float = 0.0
    cost_known: bool = Field(default=True, sa_type=IntBool)
    latency_ms: float | None = None
    ttft_ms: float | None = None
    finish_reason: str | None = None
    error: str | None = None
    cached: bool = Field(default=False, sa_type=IntBool)
    created_at: datetime = _now_field()


class RunCell(TableModel, table=True):
    """One prompt version × model × case × repeat of a run."""

    __tablename__ = "run_cell"
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id")
    prompt_version_id: int | None = Field(default=None, foreign_key="prompt_version.id")
    model: str
    case_key: str
    case_index: int
    repeat: int = 0
    status: str
    completion_id: int | None = Field(default=None, foreign_key="completion.id")
    score: float | None = None
    passed: bool | None = Field(default=None, sa_type=IntBool)
    error: str | None = None
    source: str | None = None
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    output: str | None = None
    trace_uid: str | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    tokens: int | None = None
    cost_usd: float = 0.0
    grading_key: str | None = None
    claimed_by: int | None = Field(default=None, foreign_key="run_lease.id")
    """The lease of the process working on this pending cell (see ``RunLease``)."""
    case_description: str | None = None
    similarity: float | None = None


class RunLease(TableModel, table=True):
    """A process running a run: it heartbeats while it works, and ends when it stops.

    A run whose leases are all ended or stale (no heartbeat for a while, or a process
    gone from this host) is no longer running, whatever its status says.
    """

    __tablename__ = "run_lease"
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id")
    pid: int
    host: str
    started_at: datetime = _now_field()
    heartbeat_at: datetime = _now_field()
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ScoreRow(TableModel, table=True):
    """One assertion's score for one cell."""

    __tablename__ = "score"
    id: int | None = Field(default=None, primary_key=True)
    cell_id: int = Field(foreign_key="run_cell.id")
    name: str
    assertion_type: str
    value: float
    passed: bool = Field(sa_type=IntBool)
    weight: float = 1.0
    reason: str | None = None


class Trace(TableModel, table=True):
    """One call's trace: the root of its spans."""

    __tablename__ = "trace"
    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(unique=True)
    name: str
    kind: str
    prompt_name: str | None = None
    prompt_version_id: int | None = Field(default=None, foreign_key="prompt_version.id")
    model: str | None = None
    status: str
    run_id: int | None = Field(default=None, foreign_key="run.id")
    completion_id: int | None = Field(default=None, foreign_key="completion.id")
    latency_ms: float | None = None
    total_tokens: int | None = None
    cost_usd: float = 0.0
    cost_known: bool = Field(default=True, sa_type=IntBool)
    error: str | None = None
    started_at: datetime = _now_field()
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    source: str = "promptdeck"
    """``promptdeck`` (its own calls) or ``otlp`` (received by ``promptdeck collect``)."""


class Span(TableModel, table=True):
    """One step of a trace (render, guardrail, cache lookup, model call, scoring)."""

    __tablename__ = "span"
    id: int | None = Field(default=None, primary_key=True)
    trace_id: int = Field(foreign_key="trace.id")
    parent_id: int | None = Field(default=None, foreign_key="span.id")
    name: str
    kind: str
    status: str
    attributes: dict[str, Any] = Field(default_factory=dict, sa_type=JSONText)
    started_at: datetime = _now_field()
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    duration_ms: float | None = None
    span_uid: str | None = None
    """A collected span's OpenTelemetry span id (hex); None for promptdeck's own spans."""
    parent_uid: str | None = None
    """A collected span's parent span id (hex), linked to ``parent_id`` once it arrives."""


class CacheEntry(TableModel, table=True):
    """An exact or semantic cache key pointing at a stored completion."""

    __tablename__ = "cache_entry"
    id: int | None = Field(default=None, primary_key=True)
    kind: str
    key: str
    model: str
    scope: str = ""
    completion_id: int = Field(foreign_key="completion.id")
    hits: int = 0
    created_at: datetime = _now_field()
    last_hit_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Feedback(TableModel, table=True):
    """A person's rating of a completion or a run cell."""

    __tablename__ = "feedback"
    id: int | None = Field(default=None, primary_key=True)
    completion_id: int | None = Field(default=None, foreign_key="completion.id")
    cell_id: int | None = Field(default=None, foreign_key="run_cell.id")
    thumbs: int | None = None
    rating: int | None = None
    comment: str | None = None
    corrected: str | None = None
    created_at: datetime = _now_field()
    actor: str | None = None
    """Who rated it (see :mod:`promptdeck.identity`); None for ratings before m013."""


class Spend(TableModel, table=True):
    """Money spent by one call, for budgets and the Stats screen."""

    __tablename__ = "spend"
    id: int | None = Field(default=None, primary_key=True)
    day: str
    model: str
    prompt_name: str | None = None
    run_id: int | None = Field(default=None, foreign_key="run.id")
    trace_id: int | None = Field(default=None, foreign_key="trace.id")
    cost_usd: float
    tokens: int = 0
    created_at: datetime = _now_field()


class BudgetEvent(TableModel, table=True):
    """A budget threshold crossed, and the action taken."""

    __tablename__ = "budget_event"
    id: int | None = Field(default=None, primary_key=True)
    budget: str
    period_key: str
    threshold: float
    spent_usd: float
    action: str
    created_at: datetime = _now_field()
