"""Write a run's cells as they come: one transaction at a time, never waiting for a batch.

Cells are queued by id (a cell's answer, then its grade, replace each other while
unwritten) and written by one thread, one transaction per round: whatever arrived
while the last round was writing goes in the next. Under load the rounds grow; an
idle run writes each cell at once, so a process killed at any moment loses at most
the round being written. Rounds run in order on a single thread, so a cell's later
state never lands before an earlier one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from promptdeck.store.runs_repo import CellWrite

__all__ = ["CellWriter"]


class CellWriter:
    """Queues cell writes and stores them round by round off the event loop.

    Args:
        write: Stores a batch of cells in one transaction (called on the writer thread).
    """

    def __init__(self, write: Callable[[list[CellWrite]], None]) -> None:
        self._write = write
        self._queue: dict[int, CellWrite] = {}
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cell-writer")
        self._task: asyncio.Task[None] | None = None

    def put(self, write: CellWrite) -> None:
        """Queue a cell's state (replacing any unwritten earlier state of that cell)."""
        self._queue.pop(write.cell_id, None)
        self._queue[write.cell_id] = write
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._rounds())

    async def _rounds(self) -> None:
        loop = asyncio.get_running_loop()
        while self._queue:
            batch = list(self._queue.values())
            self._queue.clear()
            await loop.run_in_executor(self._thread, self._write, batch)

    async def flush(self) -> None:
        """Wait until every queued cell is written."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)
        if self._task is not None and self._task.done() and not self._task.cancelled():
            self._task.result()  # a failed write is raised here
        if self._queue:
            self._task = asyncio.get_running_loop().create_task(self._rounds())
            await self.flush()

    def flush_now(self) -> None:
        """Write what is queued before returning, after any round under way (blocking).

        For the moment a run is interrupted: the event loop's tasks are being
        cancelled, but every answer that arrived must still be stored.
        """
        if self._task is not None:
            self._task.cancel()
        batch = list(self._queue.values())
        self._queue.clear()
        if batch:
            self._thread.submit(self._write, batch).result()

    def close(self) -> None:
        """Let the writer thread end once its last round is written."""
        self._thread.shutdown(wait=True)
