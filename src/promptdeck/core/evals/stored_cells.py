"""A big run's cells as its outcome gives them: read back from the database when used.

A run keeps its results in memory only while it is small (see the runner's
``KEEP_RESULTS``); a 100,000-cell run would hold every cell's answer and scores until
it ends. :class:`StoredCells` stands in for that list: it knows how many cells there
are, streams them from the database in cell order each time it is iterated, and reads
them whole only if indexed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import overload

from promptdeck.core.evals.results import CellResult
from promptdeck.core.evals.stored import run_results
from promptdeck.core.workspace.workspace import Workspace

__all__ = ["StoredCells"]


class StoredCells(Sequence[CellResult]):
    """A stored run's finished cells, streamed from its workspace when iterated."""

    def __init__(self, workspace: Workspace, uid: str, count: int) -> None:
        """Stand for the ``count`` finished cells of run ``uid``."""
        self._workspace = workspace
        self._uid = uid
        self._count = count
        self._held: list[CellResult] | None = None

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[CellResult]:
        if self._held is not None:
            return iter(self._held)
        return run_results(self._workspace, self._uid)

    @overload
    def __getitem__(self, index: int) -> CellResult: ...

    @overload
    def __getitem__(self, index: slice) -> list[CellResult]: ...

    def __getitem__(self, index: int | slice) -> CellResult | list[CellResult]:
        if self._held is None:
            self._held = list(run_results(self._workspace, self._uid))
        return self._held[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]
