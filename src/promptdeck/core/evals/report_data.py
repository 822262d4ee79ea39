"""Everything a full report of stored runs shows, read from the database in one go.

A run's cells (:func:`~promptdeck.core.evals.stored.run_results`) say what was answered
and how it was graded; the HTML report also shows what each cell asked (the rendered
messages), whether its cost is known, how the cache served it, people's ratings, and its
case's tags, variables and expected answer (from the suite file as it is now). With a
run to compare against, it also holds that run's cells that changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from promptdeck.core.evals.compare import Comparison, baseline_of, compare_runs
from promptdeck.core.evals.results import CellResult, RunSummary, summarize
from promptdeck.core.evals.stored import run_report, run_results
from promptdeck.core.evals.suites import SUITE_SUFFIX, load_suite
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.errors import ConfigError, NotFoundError
from promptdeck.store import runs_repo
from promptdeck.store.jsonsql import json_text
from promptdeck.store.tables import CompletionRow, Feedback, RunCell, Trace

__all__ = ["CaseInfo", "CellExtra", "CellId", "Rating", "ReportData", "cell_id", "load_report"]

CellId = tuple[str, str, str, int]
"""How runs are compared: prompt name, model, case key, repeat."""


@dataclass(frozen=True)
class Rating:
    """A person's rating of a cell (``promptdeck feedback`` or the Evals screen).

    ``actor`` is who rated it (None for ratings recorded before m013).
    """

    thumbs: int | None = None
    rating: int | None = None
    comment: str | None = None
    corrected: str | None = None
    actor: str | None = None


@dataclass(frozen=True)
class CellExtra:
    """What the report shows of a cell beyond its result record.

    Attributes:
        messages: The rendered request, as ``(role, content)`` pairs (empty when the
            call was not recorded).
        cost_known: False when the model's price is unknown (the cost shows as ``$?``).
        cache: How the gateway's cache served the call: ``exact``, ``semantic`` or None.
        prompt_tokens: Input tokens, when known.
        completion_tokens: Output tokens, when known.
        trace: The call's trace id.
        ratings: People's ratings of the cell.
    """

    messages: tuple[tuple[str, str], ...] = ()
    cost_known: bool = True
    cache: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    trace: str | None = None
    ratings: tuple[Rating, ...] = ()


@dataclass(frozen=True)
class CaseInfo:
    """A case as its suite file says now: where, tags, variables and expected answer."""

    source: str | None = None
    tags: tuple[str, ...] = ()
    vars: dict[str, Any] = field(default_factory=dict)
    expected: Any = None


@dataclass(frozen=True)
class ReportData:
    """One or more stored runs, ready to render.

    Attributes:
        summary: The runs' summary (pass rates, intervals, pass@k, latencies, cost).
        cells: Their cells.
        extras: Per cell (same order), what else the report shows.
        cases: Per (suite, case key), the case as its file says now.
        comparisons: Each run against the run it is compared with (``--compare``, or
            its suite's baseline), when there is one.
        before: The compared-with runs' cells that changed, by that run's id and the
            comparison key.
        runs: Per cell (same order), the id of its run (empty: all are the summary's).
    """

    summary: RunSummary
    cells: list[CellResult]
    extras: list[CellExtra]
    cases: dict[tuple[str, str], CaseInfo]
    comparisons: list[Comparison] = field(default_factory=list)
    before: dict[tuple[str, CellId], CellResult] = field(default_factory=dict)
    runs: list[str] = field(default_factory=list)


def cell_id(cell: CellResult) -> CellId:
    """The key runs are compared by (the prompt's name, not its version)."""
    return (cell.prompt.rsplit("@", 1)[0], cell.model, cell.case_key, cell.repeat)


def _extras(workspace: Workspace, uid: str) -> list[CellExtra]:
    """Per finished cell of the run (in ``run_results`` order: by id), its extras.

    One query joins each cell to its call's trace and completion; the request's
    messages are read as JSON text and parsed once per distinct request (the cells of
    one case share theirs across models and repeats).
    """
    with workspace.session() as session:
        run = runs_repo.get_run(session, uid)
        if run is None or run.id is None:
            raise NotFoundError(f"no run {uid!r}", "see `promptdeck eval list`")
        cell_t = RunCell.__table__  # type: ignore[attr-defined]
        trace_t = Trace.__table__  # type: ignore[attr-defined]
        done_t = CompletionRow.__table__  # type: ignore[attr-defined]
        query = (
            sa_select(
                cell_t.c.id,
                cell_t.c.trace_uid,
                trace_t.c.cost_known,
                json_text(done_t.c.request, "messages"),
                json_text(done_t.c.request, "cache"),
                done_t.c.prompt_tokens,
                done_t.c.completion_tokens,
            )
            .select_from(cell_t)
            .outerjoin(trace_t, trace_t.c.uid == cell_t.c.trace_uid)
            .outerjoin(done_t, done_t.c.id == trace_t.c.completion_id)
            .where(cell_t.c.run_id == run.id, cell_t.c.status != "pending")
            .order_by(cell_t.c.id)
        )
        rows: list[Row[Any]] = list(session.execute(query))
        ratings: dict[int, list[Rating]] = {}
        feedback = (
            select(Feedback)
            .join(RunCell, col(RunCell.id) == col(Feedback.cell_id))
            .where(col(RunCell.run_id) == run.id)
            .order_by(col(Feedback.id))
        )
        for f in session.exec(feedback):
            if f.cell_id is not None:
                ratings.setdefault(f.cell_id, []).append(
                    Rating(f.thumbs, f.rating, f.comment, f.corrected, f.actor)
                )
    parsed: dict[str, tuple[tuple[str, str], ...]] = {}
    extras = []
    for row in rows:
        c_id, trace, known, raw, cache, prompt_tokens, completion_tokens = tuple(row)
        messages = parsed.get(raw) if isinstance(raw, str) else ()
        if messages is None:
            messages = parsed[raw] = _messages(raw)
        extras.append(
            CellExtra(
                messages=messages or (),
                cost_known=known is None or bool(known),
                cache=cache if cache in ("exact", "semantic") else None,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                trace=trace,
                ratings=tuple(ratings.get(c_id, ())),
            )
        )
    return extras


def _messages(raw: str) -> tuple[tuple[str, str], ...]:
    from promptdeck.safeload.answers import parse_answer_json

    try:
        found = parse_answer_json(raw)
    except ValueError:
        return ()
    if not isinstance(found, list):
        return ()
    return tuple(
        (str(m.get("role", "")), _text(m.get("content"))) for m in found if isinstance(m, dict)
    )


def _text(content: Any) -> str:
    """A message's content as text (multi-part contents joined)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
    return "" if content is None else str(content)


def _cases(workspace: Workspace, suites: Iterable[str]) -> dict[tuple[str, str], CaseInfo]:
    found: dict[tuple[str, str], CaseInfo] = {}
    for suite in dict.fromkeys(suites):
        path = workspace.paths.suites / f"{suite}{SUITE_SUFFIX}"
        try:
            loaded = load_suite(path, workspace.paths)
        except (ConfigError, NotFoundError, OSError):
            continue  # the suite file changed or went away: the report goes without tags
        for case in loaded.cases:
            found[(suite, case.key)] = CaseInfo(
                case.source, tuple(case.tags), dict(case.vars), case.expected
            )
    return found


def _full_uid(workspace: Workspace, uid: str) -> str:
    with workspace.session() as session:
        run = runs_repo.get_run(session, uid)
        if run is None:
            raise NotFoundError(f"no run {uid!r}", "see `promptdeck eval list`")
        return run.uid


def load_report(
    workspace: Workspace,
    uids: Sequence[str],
    *,
    compare: str | None = None,
    judge: str | None = None,
) -> ReportData:
    """Read stored runs for a report, and what they are compared with.

    Args:
        workspace: The workspace.
        uids: The runs (ids or unique prefixes); one or more.
        compare: A run to compare against (the "before"); without it each run is
            compared with its suite's baseline, when it has one that is not itself.
        judge: The judge model, when several runs are summarised together.

    Returns:
        The runs' summary, cells and extras, and the comparisons.

    Raises:
        NotFoundError: A run does not exist.
    """
    full = list(dict.fromkeys(_full_uid(workspace, uid) for uid in uids))
    runs: list[str] = []
    if len(full) == 1:
        summary, cells = run_report(workspace, full[0])
        extras = _extras(workspace, full[0])
        runs = [full[0]] * len(cells)
    else:
        cells, extras = [], []
        for uid in full:
            got = list(run_results(workspace, uid))
            cells += got
            extras += _extras(workspace, uid)
            runs += [uid] * len(got)
        summary = summarize(cells, run_id=",".join(full), judge=judge)
    comparisons: list[Comparison] = []
    for uid in full:
        before = compare
        if before is None:
            with workspace.session() as session:
                run = runs_repo.get_run(session, uid)
                suite = run.suite if run else None
            before = baseline_of(workspace, suite) if suite else None
        if before is not None:
            comparison = compare_runs(workspace, before, uid)
            if comparison.before != comparison.after:
                comparisons.append(comparison)
    old: dict[tuple[str, CellId], CellResult] = {}
    for before_uid in dict.fromkeys(c.before for c in comparisons):
        wanted = {
            k
            for c in comparisons
            if c.before == before_uid
            for k in (*c.regressions, *c.improvements)
        }
        if wanted:
            for cell in run_results(workspace, before_uid):
                key = cell_id(cell)
                if key in wanted:
                    old[(before_uid, key)] = cell
    return ReportData(
        summary=summary,
        cells=cells,
        extras=extras,
        cases=_cases(workspace, (c.suite for c in cells)),
        comparisons=comparisons,
        before=old,
        runs=runs,
    )
