"""How a headless eval run shows its progress on stderr (and streams cells as JSONL)."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

import click

if TYPE_CHECKING:
    from promptdeck.core.evals.runner import CellFinished, RunFinished, RunStarted

__all__ = ["ProgressReporter"]


class ProgressReporter:
    """Prints a run's progress: a bar with ETA on a terminal, else a line per chunk."""

    def __init__(self, stream: IO[str], jsonl: IO[str] | None = None) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.jsonl = jsonl
        self._next = 0
        self._step = 1

    def started(self, event: RunStarted) -> None:
        """Say what the run will do: cells, calls to make, cached answers, estimated cost."""
        self._step = max(1, event.pending // 10)
        self._next = self._step
        click.echo(
            f"{event.suite}: {event.total} cells, {event.pending} to run "
            f"({event.cached} in the cache), estimated cost ${event.estimated_cost:.4f}  "
            f"run {event.run_uid}",
            file=self.stream,
        )
        if event.judge_warning:
            click.echo(f"note: {event.judge_warning}", file=self.stream)
        if event.unpriced:
            click.echo(
                f"note: cost unknown for calls to {', '.join(event.unpriced)} (no price known; "
                "not in the estimate)",
                file=self.stream,
            )

    def cell(self, event: CellFinished) -> None:
        """Move the bar (or print a line every tenth of the run); stream the cell as JSONL."""
        if self.jsonl is not None:
            from promptdeck.core.evals.reports import cell_jsonl

            self.jsonl.write(cell_jsonl(event.cell))
            self.jsonl.flush()
        graded = event.passed + event.failed
        rate = f"{event.passed / graded:.0%}" if graded else "-"
        if self.tty:
            width = 24
            filled = int(width * event.done / max(event.total, 1))
            per = event.elapsed / max(event.done, 1)
            eta = per * (event.total - event.done)
            line = (
                f"\r[{'#' * filled}{'.' * (width - filled)}] {event.done}/{event.total}"
                f"  pass {rate}  errors {event.errors}  ${event.cost_usd:.4f}  ETA {eta:4.0f} s"
            )
            self.stream.write(line)
            self.stream.flush()
        elif event.done >= self._next or event.done == event.total:
            self._next = event.done + self._step
            unchecked = f" · {event.unchecked} without assertions" if event.unchecked else ""
            click.echo(
                f"  {event.done}/{event.total} cells · {event.passed} passed · {event.failed} "
                f"failed · {event.errors} errors{unchecked} · ${event.cost_usd:.4f} · "
                f"{event.elapsed:.1f} s",
                file=self.stream,
            )

    def finished(self, event: RunFinished) -> None:
        """Print the outcome, and how to finish a run that did not finish."""
        if self.tty:
            self.stream.write("\n")
        s = event.summary
        interval = s.pass_rate
        unchecked = f", {s.unchecked} without assertions" if s.unchecked else ""
        rate = (
            f"pass rate {interval.rate:.0%} (95% CI {interval.low:.0%}–{interval.high:.0%})"
            if interval.trials
            else "no pass rate (no cell was graded)"
        )
        click.echo(
            f"{event.run_uid}: {s.state if s.status else event.status} · {s.passed} passed, "
            f"{s.failed} failed, {s.errors} errors{unchecked} · {rate} · ${s.cost_usd:.4f}",
            file=self.stream,
        )
        if event.status in ("interrupted", "stopped"):
            click.echo(
                f"finish it with `promptdeck --headless eval --resume {event.run_uid}`",
                file=self.stream,
            )
