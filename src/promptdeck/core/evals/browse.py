"""What the Evals screen shows: suites, runs, a run as a grid, one cell in detail; ratings.

Read-only queries over the database plus :func:`rate_cell`, which stores a person's
rating of a cell as feedback.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Row
from sqlmodel import col, select

from promptdeck.core.evals.compare import baseline_of, compare_runs
from promptdeck.core.evals.leases import RunState, run_state
from promptdeck.core.evals.suites import SUITE_SUFFIX, load_suite, suite_files
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.errors import ConfigError, NotFoundError, UsageError
from promptdeck.identity import session_actor
from promptdeck.store import runs_repo
from promptdeck.store.tables import Feedback, Prompt, PromptVersion, Run, RunCell, ScoreRow

__all__ = [
    "CellDetail",
    "GridCell",
    "GridRow",
    "RunGrid",
    "SuiteRow",
    "cell_detail",
    "rate_cell",
    "run_grid",
    "suites_overview",
]

Filter = Literal["all", "failures", "errors", "flaky", "changed"]


@dataclass(frozen=True)
class SuiteRow:
    """One suite in the list, with its newest run."""

    name: str
    cases: int | None
    problem: str | None
    last_run: str | None
    last_status: str | None
    passed: int
    total: int
    last_state: RunState | None = None
    """The newest run's state (its failures and errors apart), when there is one."""


@dataclass(frozen=True)
class GridCell:
    """One (case, prompt × model) cell of the grid: its repeats folded together."""

    cell_ids: tuple[int, ...]
    passed: int
    failed: int
    errors: int
    score: float
    unchecked: int = 0
    grade: str = ""
    """The latest person's grade of the cell (``👍``, ``👎 2/5``, ``💬``), or ``""``."""

    @property
    def status(self) -> str:
        """pass, fail, error, flaky (both passes and fails), unchecked or pending.

        ``unchecked``: the case has no assertions, so its answers were not checked.
        """
        if self.errors and not (self.passed or self.failed or self.unchecked):
            return "error"
        if self.passed and self.failed:
            return "flaky"
        if self.failed:
            return "fail"
        if self.passed:
            return "pass"
        return "unchecked" if self.unchecked else "pending"


@dataclass(frozen=True)
class GridRow:
    """One case of the grid."""

    case_key: str
    case_index: int
    cells: dict[str, GridCell] = field(default_factory=dict)
    description: str | None = None


@dataclass(frozen=True)
class RunGrid:
    """A run as cases × (prompt@version · model)."""

    uid: str
    suite: str
    status: str
    columns: list[str]
    rows: list[GridRow]
    baseline: str | None


@dataclass(frozen=True)
class CellDetail:
    """One cell: what was asked, answered, and how it was graded."""

    cell_id: int
    run: str
    column: str
    case_key: str
    case_index: int
    repeat: int
    status: str
    output: str | None
    error: str | None
    score: float | None
    scores: list[tuple[str, float, bool, str]]
    trace: str | None
    latency_ms: float | None
    cost_usd: float
    vars: dict[str, object]
    expected: object
    description: str | None
    feedback: list[str]
    source: str = "fresh"
    similarity: float | None = None


def suites_overview(workspace: Workspace) -> list[SuiteRow]:
    """Every suite file with its case count (or why it does not load) and newest run."""
    rows = []
    with workspace.session() as session:
        for path in suite_files(workspace.paths):
            name = path.name.removesuffix(SUITE_SUFFIX)
            try:
                cases: int | None = len(load_suite(path, workspace.paths).cases)
                problem = None
            except ConfigError as error:
                cases, problem = None, error.title
            last = runs_repo.list_runs(session, name, limit=1)
            run = last[0] if last else None
            state = run_state(session, run) if run is not None else None
            rows.append(
                SuiteRow(
                    name,
                    cases,
                    problem,
                    run.uid if run else None,
                    state.status if state else None,
                    state.passed if state else 0,
                    (state.passed + state.failed + state.errors) if state else 0,
                    state,
                )
            )
    return rows


def _columns(workspace: Workspace, run_id: int) -> dict[int, str]:
    with workspace.session() as session:
        return {
            vid: f"{name}@{version}"
            for vid, name, version in session.exec(
                select(PromptVersion.id, Prompt.name, PromptVersion.version).join(
                    Prompt, col(Prompt.id) == col(PromptVersion.prompt_id)
                )
            ).all()
            if vid is not None
        }


def run_grid(workspace: Workspace, uid: str, view: Filter = "all", search: str = "") -> RunGrid:
    """Return a run as a grid, filtered (its status as people see it: see ``RunState``).

    Args:
        workspace: The workspace.
        uid: The run (or a unique prefix).
        view: all, failures, errors, flaky, or changed (since the suite's baseline).
        search: Keep only cases whose key, description or answer contains this text.
    """
    with workspace.session() as session:
        run = runs_repo.get_run(session, uid)
        if run is None or run.id is None:
            raise NotFoundError(f"no run {uid!r}", "see `promptdeck eval list`")
        run_id, full, suite = run.id, run.uid, run.suite or "?"
        status = run_state(session, run).label
    names = _columns(workspace, run_id)
    baseline = baseline_of(workspace, suite)
    changed: set[tuple[str, str]] = set()
    if view == "changed" and baseline and baseline != full:
        diff = compare_runs(workspace, baseline, full)
        changed = {(k[2], k[1]) for k in [*diff.regressions, *diff.improvements]}
    folded: dict[str, dict[str, list[Row[Any]]]] = defaultdict(lambda: defaultdict(list))
    index: dict[str, int] = {}
    stored_descriptions: dict[str, str | None] = {}
    text: dict[str, str] = defaultdict(str)
    columns: list[str] = []
    with workspace.session() as session:
        for cell, _ in runs_repo.iter_cells(session, run_id):
            column = f"{names.get(cell.prompt_version_id or -1, '?')} · {cell.model}"
            if column not in columns:
                columns.append(column)
            folded[cell.case_key][column].append(cell)
            index[cell.case_key] = cell.case_index
            stored_descriptions[cell.case_key] = cell.case_description
            text[cell.case_key] += f" {cell.output or ''} {cell.error or ''}"
    descriptions: dict[str, str | None] = {}
    try:
        loaded = load_suite(workspace.paths.suites / f"{suite}{SUITE_SUFFIX}", workspace.paths)
        descriptions = {c.key: c.description for c in loaded.cases}
    except (ConfigError, NotFoundError):
        pass
    grades = _grades(workspace, run_id)
    rows = []
    for key in sorted(folded, key=lambda k: index[k]):
        cells = {}
        for column, group in folded[key].items():
            done = [c for c in group if c.status != "pending"]
            checked = [c for c in done if c.status == "error" or c.passed is not None]
            graded = [grades[c.id] for c in group if c.id in grades]
            cells[column] = GridCell(
                tuple(c.id for c in group if c.id is not None),
                sum(1 for c in done if c.status == "done" and c.passed),
                sum(
                    1 for c in done if c.status == "done" and c.passed is not None and not c.passed
                ),
                sum(1 for c in done if c.status == "error"),
                sum(c.score or 0.0 for c in checked) / len(checked) if checked else 0.0,
                sum(1 for c in done if c.status == "done" and c.passed is None),
                max(graded)[1] if graded else "",
            )
        row = GridRow(key, index[key], cells, descriptions.get(key) or stored_descriptions.get(key))
        statuses = {c.status for c in cells.values()}
        keep = {
            "all": True,
            "failures": "fail" in statuses or "flaky" in statuses,
            "errors": "error" in statuses,
            "flaky": "flaky" in statuses,
            "changed": any((key, col_.split(" · ", 1)[1]) in changed for col_ in cells),
        }[view]
        if keep and (not search or search.lower() in (key + text[key]).lower()):
            rows.append(row)
    return RunGrid(full, suite, status, columns, rows, baseline)


def grade_label(thumbs: int | None, rating: int | None, comment: str | None) -> str:
    """A grade as the grid shows it: ``👍``, ``👎 2/5``, ``4/5``, ``💬`` (comment only)."""
    parts = [{1: "👍", -1: "👎"}.get(thumbs or 0, ""), f"{rating}/5" if rating else ""]
    return " ".join(p for p in parts if p) or ("💬" if comment else "")


def _grades(workspace: Workspace, run_id: int) -> dict[int, tuple[int, str]]:
    """Each graded cell of a run: (feedback id, label) of its latest grade."""
    found: dict[int, tuple[int, str]] = {}
    with workspace.session() as session:
        rows = session.exec(
            select(Feedback)
            .join(RunCell, col(RunCell.id) == col(Feedback.cell_id))
            .where(RunCell.run_id == run_id)
            .order_by(col(Feedback.id))
        ).all()
        for f in rows:
            label = grade_label(f.thumbs, f.rating, f.comment)
            if f.cell_id is not None and f.id is not None and label:
                found[f.cell_id] = (f.id, label)
    return found


def cell_detail(workspace: Workspace, cell_id: int) -> CellDetail:
    """Return one cell with its scores, its case's vars and expected answer, and feedback."""
    with workspace.session() as session:
        cell = session.get(RunCell, cell_id)
        if cell is None:
            raise NotFoundError(f"no cell {cell_id}", "pick a cell of a run")
        run = session.get(Run, cell.run_id)
        assert run is not None
        scores = [
            (s.name, s.value, s.passed, s.reason or "")
            for s in session.exec(
                select(ScoreRow).where(ScoreRow.cell_id == cell_id).order_by(col(ScoreRow.id))
            )
        ]
        feedback = [
            " ".join(
                part
                for part in (
                    {1: "👍", -1: "👎"}.get(f.thumbs or 0, ""),
                    f"{f.rating}/5" if f.rating else "",
                    f"“{f.comment}”" if f.comment else "",
                    f"(by {f.actor})" if f.actor else "",
                )
                if part
            )
            for f in session.exec(
                select(Feedback).where(Feedback.cell_id == cell_id).order_by(col(Feedback.id))
            )
        ]
        version = (
            session.get(PromptVersion, cell.prompt_version_id) if cell.prompt_version_id else None
        )
        prompt = session.get(Prompt, version.prompt_id) if version else None
        column = (
            f"{prompt.name}@{version.version} · {cell.model}" if prompt and version else cell.model
        )
        suite_name, key, cell_description = run.suite, cell.case_key, cell.case_description
        detail = dict(
            cell_id=cell_id,
            run=run.uid,
            column=column,
            case_key=key,
            case_index=cell.case_index,
            repeat=cell.repeat,
            status=_cell_status(cell),
            output=cell.output,
            error=cell.error,
            score=cell.score,
            scores=scores,
            trace=cell.trace_uid,
            latency_ms=cell.latency_ms,
            cost_usd=cell.cost_usd,
            feedback=feedback,
            source=cell.source or "fresh",
            similarity=cell.similarity,
        )
    case = None
    if suite_name:
        path = workspace.paths.suites / f"{suite_name}{SUITE_SUFFIX}"
        try:
            case = next((c for c in load_suite(path, workspace.paths).cases if c.key == key), None)
        except ConfigError:
            case = None
    return CellDetail(
        **detail,  # type: ignore[arg-type]
        vars=dict(case.vars) if case else {},
        expected=case.expected if case else None,
        description=case.description if case else cell_description,
    )


def _cell_status(cell: RunCell) -> str:
    if cell.status != "done":
        return cell.status
    if cell.passed is None:
        return "no assertions"
    return "pass" if cell.passed else "fail"


def rate_cell(
    workspace: Workspace,
    cell_id: int,
    *,
    thumbs: int | None = None,
    rating: int | None = None,
    comment: str | None = None,
    corrected: str | None = None,
) -> Feedback:
    """Store a person's rating of a cell (thumbs ±1, 1–5, a comment, a corrected answer)."""
    if thumbs not in (None, 1, -1):
        raise UsageError("thumbs must be up or down", "use --thumbs up or --thumbs down")
    if rating is not None and not 1 <= rating <= 5:
        raise UsageError(f"rating {rating} is not between 1 and 5", "rate 1 to 5")
    if thumbs is None and rating is None and not comment and not corrected:
        raise UsageError("nothing to record", "give a thumbs, a rating, a comment or a correction")
    with workspace.session() as session:
        cell = session.get(RunCell, cell_id)
        if cell is None:
            raise NotFoundError(f"no cell {cell_id}", "see `promptdeck eval show RUN_ID --json`")
        completion_id = cell.completion_id
        feedback = Feedback(
            cell_id=cell_id,
            completion_id=completion_id,
            thumbs=thumbs,
            rating=rating,
            comment=comment,
            corrected=corrected,
            actor=session_actor(session),
        )
        session.add(feedback)
        session.flush()
        return feedback
