"""The run's last stage: assertions graded across a case's outputs.

``select-best`` and ``max-score`` (:mod:`promptdeck.core.scorers.across`) compare the
outputs of every prompt × model of one case, one repeat at a time. Each cell is first
graded on its other assertions as it finishes; once no cell of the run is pending,
this stage reads the cases' cells back, grades each group of outputs, adds the new
scores to its cells, scores them again and stores them through the run's writer.

A group already graded in this run (every answered cell holds a score for each of
the case's across-outputs assertions) is left as it is, so a resumed run gives the
same result and asks the judge nothing again; a group only part graded (the run was
interrupted meanwhile) is graded whole again. Cells that ended in an error take no
part.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from promptdeck.core.evals.stored import score_from_row
from promptdeck.core.evals.suites import AssertionSpec, Case
from promptdeck.core.evals.writer import CellWriter
from promptdeck.core.scorers import Score, case_score
from promptdeck.core.scorers.across import ACROSS, is_across, max_score, select_best
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.store import runs_repo
from promptdeck.store.runs_repo import CellWrite, ScoreWrite

__all__ = ["across_cases", "grade_across_outputs"]

_Cell = tuple[Any, list[Any]]
"""A stored cell row and its score rows."""


def across_cases(cases: Sequence[Case]) -> dict[str, list[AssertionSpec]]:
    """The cases that have assertions graded across their outputs, with those assertions."""
    found: dict[str, list[AssertionSpec]] = {}
    for case in cases:  # one pass, holding only the cases that have some
        specs = [spec for spec in case.asserts if is_across(spec)]
        if specs:
            found[case.key] = specs
    return found


def _stored_across(scores: Sequence[Any]) -> int:
    return sum(1 for s in scores if s.assertion_type.removeprefix("not-") in ACROSS)


def _pending(workspace: Workspace, run_id: int) -> bool:
    with workspace.session() as session:
        return runs_repo.cell_counts(session, run_id)["pending"] > 0


def _read(workspace: Workspace, run_id: int, keys: set[str]) -> dict[tuple[str, int], list[_Cell]]:
    groups: dict[tuple[str, int], list[_Cell]] = {}
    with workspace.session() as session:
        for cell, scores in runs_repo.iter_cells(session, run_id):
            if cell.case_key in keys:
                groups.setdefault((cell.case_key, cell.repeat), []).append((cell, scores))
    return groups


async def grade_across_outputs(
    workspace: Workspace,
    run_id: int,
    cases: Sequence[Case],
    *,
    threshold: float,
    judge: Any,
    writer: CellWriter,
) -> int:
    """Grade the run's across-outputs assertions; return how many cells changed.

    Args:
        workspace: The workspace.
        run_id: The run (nothing is graded while any of its cells is pending).
        cases: The suite's cases.
        threshold: The suite's threshold (each changed cell is scored again with it).
        judge: The suite's judge (``select-best`` asks it), or None.
        writer: The run's cell writer (flushed by the caller).
    """
    wanted = across_cases(cases)
    if not wanted or await asyncio.to_thread(_pending, workspace, run_id):
        return 0  # another process is finishing the run's cells: it grades them
    groups = await asyncio.to_thread(_read, workspace, run_id, set(wanted))
    changed = 0
    for (case_key, _repeat), cells in sorted(groups.items()):
        specs = wanted[case_key]
        answered = [
            (cell, scores)
            for cell, scores in cells
            if cell.status == "done" and cell.output is not None and cell.error is None
        ]
        if not answered or all(_stored_across(scores) == len(specs) for _, scores in answered):
            continue
        others = [
            [
                score_from_row(s)
                for s in scores
                if s.assertion_type.removeprefix("not-") not in ACROSS
            ]
            for _, scores in answered
        ]
        graded: list[list[Score]] = []
        for spec in specs:
            if spec.base_type == "select-best":
                outputs = [str(cell.output) for cell, _ in answered]
                graded.append(await select_best(spec, outputs, judge))
            else:
                graded.append(max_score(spec, others))
        for n, (cell, _) in enumerate(answered):
            scores = [*others[n], *(column[n] for column in graded)]
            score, passed = case_score(scores, threshold)
            writer.put(_rewrite(cell, scores, score, passed))
            changed += 1
    return changed


def _rewrite(cell: Any, scores: Sequence[Score], score: float, passed: bool) -> CellWrite:
    return CellWrite(
        cell.id,
        cell.status,
        cell.output,
        score,
        passed,
        cell.error,
        cell.source or "fresh",
        cell.trace_uid,
        cell.latency_ms,
        cell.ttft_ms,
        cell.tokens,
        cell.cost_usd,
        cell.grading_key,
        tuple(
            ScoreWrite(s.name, s.type, s.value, s.passed, s.weight, s.reason or s.error)
            for s in scores
        ),
        cell.similarity,
    )
