"""What the Evals screen writes: its list rows, its status lines and a cell's detail.

Pure functions from the engine's records to Rich text and plain strings; the
screen puts them in its tables and labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text

from promptdeck.tui.widgets.result_grid import STYLES

if TYPE_CHECKING:
    from promptdeck.core.evals.browse import CellDetail, RunGrid, SuiteRow
    from promptdeck.core.evals.leases import RunState
    from promptdeck.core.evals.runner import CellFinished, RunStarted

__all__ = [
    "RunItem",
    "cell_detail_text",
    "cell_progress",
    "grid_status",
    "run_row",
    "run_started",
    "short_uid",
    "suite_row",
]


NARROW_NAME = 16
"""The widest a suite's name gets in the narrow list (the grid's status line names it)."""


@dataclass(frozen=True)
class RunItem:
    """One run in the list: its uid, suite, state (status and counts), and baseline mark."""

    uid: str
    suite: str
    state: RunState
    baseline: bool = False


def _outcome(status: str | None, complete: bool, passed: int, failed: int, errors: int) -> Text:
    """A run's mark and ``passed/total``: ✔ all passed, ✘ failures, ! errors, ◌ unfinished."""
    total = passed + failed + errors
    if status == "running":
        mark, style = STYLES["pending"]
    elif not complete:
        mark, style = "◌", "yellow"
    elif errors:
        mark, style = STYLES["error"]
    elif failed:
        mark, style = STYLES["fail"]
    elif total == 0:
        mark, style = STYLES["unchecked"]
    else:
        mark, style = STYLES["pass"]
    return Text(f"{mark} {passed}/{total}", style=style)


def suite_row(s: SuiteRow, narrow: bool = False) -> tuple[str, Text, str]:
    """One suite in the list: name, its last run's outcome (or its problem), case count.

    The outcome leads with its mark (``✘ 2/4``) and comes before the case count, so a
    narrow list still shows it whole (the name cut to :data:`NARROW_NAME` characters);
    a run that did not finish says how it ended.
    """
    if s.problem:
        last = Text(s.problem.split(": ", 1)[-1][:30], style="red")
    elif s.last_state is not None:
        state = s.last_state
        last = _outcome(state.status, state.complete, state.passed, state.failed, state.errors)
        if not state.complete:
            last.append(f" {state.status}")
    else:
        last = Text("never run", style="dim")
    name = s.name
    if narrow and len(name) > NARROW_NAME:
        name = name[: NARROW_NAME - 1] + "…"
    return name, last, "-" if s.cases is None else str(s.cases)


def short_uid(uid: str) -> str:
    """A run's uid as a narrow list shows it: ``20261120-180000-1a2b3c`` → ``11-20 18:00:00``.

    The status line over the grid names the selected run in full; a uid of another
    shape is kept whole.
    """
    day, _, rest = uid.partition("-")
    clock = rest.partition("-")[0]
    if len(day) != 8 or len(clock) != 6 or not (day + clock).isdigit():
        return uid
    return f"{day[4:6]}-{day[6:8]} {clock[0:2]}:{clock[2:4]}:{clock[4:6]}"


def run_row(run: RunItem, narrow: bool = False) -> tuple[Text, str, str, str]:
    """One run in the list: its outcome (★ for the baseline), uid, suite and status.

    The outcome leads, so the mark and the score stay whole on an 80-column terminal,
    where the uid is shortened (:func:`short_uid`).
    """
    state = run.state
    outcome = _outcome(state.status, state.complete, state.passed, state.failed, state.errors)
    if run.baseline:
        outcome.append(" ★", style="bold")
    return outcome, short_uid(run.uid) if narrow else run.uid, run.suite, state.label


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
