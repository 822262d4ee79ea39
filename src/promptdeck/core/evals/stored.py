"""Read stored runs back as result records."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlmodel import select

from promptdeck.core.evals.results import CellResult
from promptdeck.core.scorers import Score
from promptdeck.core.workspace import Workspace
from promptdeck.errors import NotFoundError
from promptdeck.store import runs_repo
from promptdeck.store.tables import Prompt, PromptVersion

__all__ = ["run_results", "score_from_row"]


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
            yield CellResult(
                suite=suite,
                prompt=names.get(cell.prompt_version_id or -1, "?"),
                model=cell.model,
                case_key=cell.case_key,
                case_index=cell.case_index,
                case_source=cell.case_key.split("#")[0],
                repeat=cell.repeat,
                output=cell.output,
                scores=tuple(score_from_row(r) for r in rows),
                score=float(cell.score or 0.0),
                passed=bool(cell.passed),
                error=cell.error,
                latency_ms=cell.latency_ms,
                ttft_ms=cell.ttft_ms,
                tokens=cell.tokens,
                cost_usd=cell.cost_usd,
                source=(cell.source or "fresh"),
            )
