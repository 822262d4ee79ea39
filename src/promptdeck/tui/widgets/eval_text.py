"""What the Evals screen writes: its list rows, its status lines and a cell's detail.

Pure functions from the engine's records to Rich text and plain strings; the
screen puts them in its tables and labels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

if TYPE_CHECKING:
    from promptdeck.core.evals.browse import CellDetail, RunGrid, SuiteRow
    from promptdeck.core.evals.runner import CellFinished, RunStarted

__all__ = [
    "RunItem",
    "cell_detail_text",
    "cell_progress",
    "grid_status",
    "run_row",
    "run_started",
    "suite_row",
]

RunItem = tuple[str, str, str, int, int, bool]
"""One run in the list: uid, suite, status, passed, total, is baseline."""


def suite_row(s: SuiteRow) -> tuple[str, str, str | Text]:
    """One suite in the list: name, case count, and its last run (or its problem)."""
    last = (
        Text(s.problem.split(": ", 1)[-1][:30], style="red")
        if s.problem
        else (f"{s.passed}/{s.total} {s.last_status}" if s.last_run else "never run")
    )
    return s.name, "-" if s.cases is None else str(s.cases), last


def run_row(run: RunItem) -> tuple[str, str, str, str]:
    """One run in the list: uid, suite, status, and passed/total (★ for the baseline)."""
    uid, suite, status, passed, total, baseline = run
    return uid, suite, status, f"{passed}/{total}" + (" ★" if baseline else "")


def grid_status(grid: RunGrid) -> str:
    """The status line over a run's grid."""
    base = f" · baseline {grid.baseline}" if grid.baseline else ""
    return f"run {grid.uid} · {grid.suite} · {grid.status} · {len(grid.rows)} cases shown{base}"


def run_started(event: RunStarted) -> str:
    """The status line once a run has started."""
    note = f" · note: {event.judge_warning}" if event.judge_warning else ""
    return f"running {event.suite}: {event.pending} calls, {event.cached} cached{note}"


def cell_progress(event: CellFinished) -> str:
    """The status line after each finished cell of a run."""
    unchecked = f" · {event.unchecked} without assertions" if event.unchecked else ""
    return (
        f"{event.done}/{event.total} · {event.passed} passed · {event.failed} failed · "
        f"{event.errors} errors{unchecked} · ${event.cost_usd:.4f}"
    )


_SOURCES = {
    "cached": "from the cache, with the grades it had",
    "regraded": "from the cache, graded again",
}


def cell_detail_text(d: CellDetail) -> Text:
    """A cell's detail: the case, the answer and where it came from, every score, ratings."""
    text = Text()
    text.append(f"{d.column} · case-{d.case_index} #r{d.repeat}", style="bold")
    text.append(f" · {d.status}\n")
    if d.description:
        text.append(f"{d.description}\n", style="italic")
    for key, value in d.vars.items():
        text.append(f"{key}: ", style="bold")
        text.append(f"{str(value)[:300]}\n")
    if d.expected is not None:
        text.append("expected: ", style="bold")
        text.append(f"{str(d.expected)[:300]}\n")
    text.append("\nanswer", style="bold")
    if d.source == "semantic":
        similarity = f"{d.similarity:.3f}" if d.similarity is not None else "?"
        text.append(
            f"  semantic cache, similarity {similarity}: the answer to a reworded request",
            style="bold yellow",
        )
    elif d.source in _SOURCES:
        text.append(f"  {_SOURCES[d.source]}", style="dim")
    text.append(f"\n{d.output if d.output is not None else d.error}\n")
    text.append("\nassertions\n", style="bold")
    for name, value, passed, reason in d.scores:
        text.append("✔ " if passed else "✘ ", style="green" if passed else "red")
        text.append(f"{name} {value:.2f}  {reason}\n")
    if d.feedback:
        text.append("\nratings: " + " · ".join(d.feedback) + "\n")
    latency = f"{d.latency_ms:.0f} ms" if d.latency_ms is not None else "-"
    text.append(f"\ntrace {d.trace or '-'} · {latency} · ${d.cost_usd:.4f}", style="dim")
    return text
