"""An eval worker: takes queued runs' pending cells, calls, grades and writes them.

``promptdeck worker`` processes, on any machines sharing the workspace's database
(and holding the model keys), find the oldest queued run with cells free to take
(:func:`~promptdeck.core.evals.queue.next_queued_run`) and work on it the way a
resumed run is worked on (:class:`~promptdeck.core.evals.runner.EvalRunner`): a
lease with a heartbeat, cells claimed in chunks before they are called (on
PostgreSQL ``FOR UPDATE SKIP LOCKED``), answers written as they arrive. A worker
killed mid-chunk loses nothing: when its lease expires its cells are free again and
another worker does them. :meth:`Worker.stop` (Ctrl+C, SIGTERM) finishes the cells
in hand, hands the rest of the run back and ends the lease.

A worker's gateway shares with the other workers what lives in the database: the
exact cache (a miss read ahead is looked up again before the call) and the budgets
(their spend summed in the database, alerts recorded once).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from promptdeck.core.evals.events import CellFinished, Reporter, RunFinished, RunStarted
from promptdeck.core.evals.queue import QueuedRun, next_queued_run
from promptdeck.core.gateway.engine import CacheMode, Gateway
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.errors import PromptdeckError

__all__ = ["Worker", "WorkerStats"]


@dataclass
class WorkerStats:
    """What a worker did: the runs it worked on and the cells it finished."""

    runs: list[str] = field(default_factory=list)
    cells: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    """Runs it could not work on (their id, and why: e.g. a suite missing here)."""


class _Counting:
    """Counts the cells a worker finishes, passing every event on."""

    def __init__(self, inner: Reporter | None, stats: WorkerStats) -> None:
        self.inner = inner
        self.stats = stats

    def started(self, event: RunStarted) -> None:
        if self.inner:
            self.inner.started(event)

    def cell(self, event: CellFinished) -> None:
        self.stats.cells += 1
        if self.inner:
            self.inner.cell(event)

    def finished(self, event: RunFinished) -> None:
        if self.inner:
            self.inner.finished(event)


class Worker:
    """Works through queued runs until stopped (or, with ``once``, until none has work).

    Args:
        workspace: The open workspace (its database is the queue).
        gateway: The gateway to call through (made shared here: cache and budgets).
        concurrency: Calls at once.
        suite_filter: Only runs of suites matching this glob.
        once: Leave when no queued run has cells free to take, instead of waiting.
        poll_seconds: How often an idle worker looks for work.
        reporter: Where each run's progress goes.
        say: Prints one line for people (a run skipped).
    """

    def __init__(
        self,
        workspace: Workspace,
        gateway: Gateway,
        *,
        concurrency: int = 32,
        suite_filter: str | None = None,
        once: bool = False,
        poll_seconds: float = 1.0,
        reporter: Reporter | None = None,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.workspace = workspace
        self.gateway = gateway
        gateway.exact.shared = True
        gateway.budgets.shared = True
        self.concurrency = concurrency
        self.suite_filter = suite_filter
        self.once = once
        self.poll_seconds = poll_seconds
        self.stats = WorkerStats()
        self.reporter = _Counting(reporter, self.stats)
        self.say = say or (lambda line: None)
        self._drain = asyncio.Event()

    def stop(self) -> None:
        """Finish the cells in hand, hand the rest back, and leave (Ctrl+C, SIGTERM)."""
        self._drain.set()

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._drain.is_set()

    async def run(self) -> WorkerStats:
        """Work until stopped (or out of work, with ``once``); return what was done."""
        while not self._drain.is_set():
            queued = await asyncio.to_thread(
                next_queued_run, self.workspace, self.suite_filter, self.stats.skipped
            )
            if queued is None:
                if self.once:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._drain.wait(), self.poll_seconds)
                continue
            await self._work_on(queued)
        return self.stats

    async def _work_on(self, queued: QueuedRun) -> None:
        from promptdeck.core.evals.runner import EvalRunner

        cache: CacheMode = "write" if queued.cache == "write" else "read"
        runner = EvalRunner(
            self.workspace,
            self.gateway,
            self.reporter,
            cache=cache,
            concurrency=self.concurrency,
            drain=self._drain,
            shared=True,
        )
        try:
            await runner.resume(queued.uid)
        except PromptdeckError as error:  # e.g. its suite or prompt is not in this checkout
            self.stats.skipped[queued.uid] = error.title
            self.say(f"run {queued.uid} ({queued.suite}) skipped: {error.title}")
            return
        if queued.uid not in self.stats.runs:
            self.stats.runs.append(queued.uid)
