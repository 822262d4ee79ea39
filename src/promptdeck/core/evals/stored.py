"""Read stored runs back as result records."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlmodel import select

from promptdeck.core.evals.leases import run_state
from promptdeck.core.evals.results import CellResult, RunSummary, summarize
from promptdeck.core.scorers import Score
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.errors import NotFoundError
from promptdeck.store import runs_repo
from promptdeck.store.tables import Prompt, PromptVersion

__all__ = ["run_report", "run_results", "score_from_row", "stored_result"]


def score_from_row(row: Any) -> Score:
    """A stored score row (ORM object or light row) as a :class:`Score`."""
    return Score(
        name=row.name,
        type=row.assertion_type,
        value=row.value,
        passed=bool(row.passed),
        reason=row.reason or "",
        weight=row.weight,
    )


def stored_result(
    suite: str, prompt: str, cell: Any, done: Any, scores: Iterable[Any]
) -> CellResult:
    """A finished cell as a result record, exactly as it reads back from the database.

    Args:
        suite: The suite's name.
        prompt: The prompt version as ``name@version``.
        cell: The cell's identity (``model``, ``case_key``, ``case_index``, ``repeat``,
            ``case_description``).
        done: What was stored for it (``output``, ``score``, ``passed``, ``error``,
            ``latency_ms``, ``ttft_ms``, ``tokens``, ``cost_usd``, ``source``,
            ``similarity``): a
            ``run_cell`` row, or the :class:`~promptdeck.store.runs_repo.CellWrite`
            that wrote one.
        scores: Its score rows, or the score writes that wrote them.
    """
    return CellResult(
        suite=suite,
        prompt=prompt,
        model=cell.model,
        case_key=cell.case_key,
        case_index=cell.case_index,
        case_source=cell.case_key.split("#")[0],
        case_description=cell.case_description,
        repeat=cell.repeat,
        output=done.output,
        scores=tuple(score_from_row(r) for r in scores),
        score=float(done.score or 0.0),
        passed=bool(done.passed),
        error=done.error,
        latency_ms=done.latency_ms,
        ttft_ms=done.ttft_ms,
        tokens=done.tokens,
        cost_usd=done.cost_usd,
        source=(done.source or "fresh"),
        similarity=done.similarity,
        # A done cell without a verdict had no assertions to check.
        asserted=done.passed is not None or done.error is not None,
    )


def run_results(workspace: Workspace, uid: str) -> Iterator[CellResult]:
    """Yield a stored run's finished cells as result records."""
    with workspace.session() as session:
        run = runs_repo.get_run(session, uid)
        if run is None or run.id is None:
            raise NotFoundError(f"no run {uid!r}", "see `promptdeck eval list`")
        suite = run.suite or "?"
        names = {
            vid: f"{name}@{version}"
            for vid, name, version in session.exec(
                select(PromptVersion.id, Prompt.name, PromptVersion.version).join(
                    Prompt,
                    Prompt.id == PromptVersion.prompt_id,  # type: ignore[arg-type]
                )
            ).all()
        }
        for cell, rows in runs_repo.iter_cells(session, run.id):
            if cell.status == "pending":
                continue
            yield stored_result(
                suite, names.get(cell.prompt_version_id or -1, "?"), cell, cell, rows
            )


def run_report(workspace: Workspace, uid: str) -> tuple[RunSummary, list[CellResult]]:
    """A stored run's summary (with its times, status and planned cells) and its cells.

    The status is the run's live state: a run stored as running that no process
    holds any more is ``interrupted``.
    """
    cells = list(run_results(workspace, uid))
    with workspace.session() as session:
        run = runs_repo.get_run(session, uid)
        if run is None:
            raise NotFoundError(f"no run {uid!r}", "see `promptdeck eval list`")
        state = run_state(session, run)
        full, started, ended = run.uid, run.started_at, run.finished_at
        judge = (run.config or {}).get("judge")
    summary = summarize(
        cells,
        run_id=full,
        judge=judge,
        started_at=started,
        finished_at=ended,
        status=state.status,
        total_cells=state.total,
    )
    return summary, cells
