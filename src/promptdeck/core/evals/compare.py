"""Compare two runs case by case; baselines and regressions.

Cells are matched by prompt name (not version: comparing versions is the point),
model, case key and repeat. A cell that errored counts as not passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import select

from promptdeck.core.evals.stats import PairedTest, mcnemar_exact
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.errors import NotFoundError
from promptdeck.store import runs_repo
from promptdeck.store.tables import Prompt, PromptVersion, Run

__all__ = ["Comparison", "baseline_of", "bless", "compare_runs"]

CellId = tuple[str, str, str, int]


@dataclass(frozen=True)
class Comparison:
    """Two runs side by side: which cells changed, and whether the change is significant."""

    before: str
    after: str
    regressions: list[CellId] = field(default_factory=list)
    improvements: list[CellId] = field(default_factory=list)
    unchanged: int = 0
    only_before: int = 0
    only_after: int = 0
    test: PairedTest | None = None


def _outcomes(workspace: Workspace, uid: str) -> tuple[Run, dict[CellId, bool]]:
    with workspace.session() as session:
        run = runs_repo.get_run(session, uid)
        if run is None or run.id is None:
            raise NotFoundError(f"no run {uid!r}", "see `promptdeck eval list`")
        names = dict(
            session.exec(
                select(PromptVersion.id, Prompt.name).join(
                    Prompt,
                    Prompt.id == PromptVersion.prompt_id,  # type: ignore[arg-type]
                )
            ).all()
        )
        outcomes: dict[CellId, bool] = {}
        for cell, _ in runs_repo.iter_cells(session, run.id):
            if cell.status == "pending" or (cell.status == "done" and cell.passed is None):
                continue  # not run, or nothing to check (a case without assertions)
            name = names.get(cell.prompt_version_id or -1, "?")
            outcomes[(name, cell.model, cell.case_key, cell.repeat)] = bool(
                cell.passed and cell.status == "done"
            )
        return run, outcomes


def compare_runs(workspace: Workspace, before: str, after: str) -> Comparison:
    """Compare run ``after`` against run ``before``."""
    run_a, a = _outcomes(workspace, before)
    run_b, b = _outcomes(workspace, after)
    shared = sorted(set(a) & set(b))
    regressions = [k for k in shared if a[k] and not b[k]]
    improvements = [k for k in shared if b[k] and not a[k]]
    test = mcnemar_exact(a, b) if shared else None
    return Comparison(
        before=run_a.uid,
        after=run_b.uid,
        regressions=regressions,
        improvements=improvements,
        unchanged=len(shared) - len(regressions) - len(improvements),
        only_before=len(set(a) - set(b)),
        only_after=len(set(b) - set(a)),
        test=test,
    )


def bless(workspace: Workspace, uid: str) -> Run:
    """Make a run the baseline of its suite."""
    with workspace.session() as session:
        run = runs_repo.get_run(session, uid)
        if run is None:
            raise NotFoundError(f"no run {uid!r}", "see `promptdeck eval list`")
        runs_repo.set_baseline(session, run)
        session.refresh(run)
        return run


def baseline_of(workspace: Workspace, suite: str) -> str | None:
    """Return the uid of a suite's baseline run, if it has one."""
    with workspace.session() as session:
        run = session.exec(
            select(Run).where(Run.suite == suite, Run.is_baseline == True)  # noqa: E712
        ).first()
        return run.uid if run else None
