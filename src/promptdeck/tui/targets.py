"""Where the command line asks the workbench to open: a section at one item.

``promptdeck compare summarize@1 summarize@4 -m smol --var text=…`` on a terminal
opens Compare with those versions, models and variables filled in, and each column's
own parameters (``--col-param``), and runs it;
``eval SUITE``, ``prompts show NAME`` and ``traces show ID`` open their screens at
that suite, prompt or trace. The app hands a target to its screen once, when the
screen has loaded what it lists (see ``Workbench.take_target``).

Light on purpose: the CLI imports it before the TUI starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from promptdeck.core.compare.overrides import ColumnOverride

__all__ = ["CompareTarget", "ItemTarget"]


@dataclass(frozen=True)
class CompareTarget:
    """A compare to fill in and run: prompt references × models, with variables."""

    refs: tuple[str, ...]
    models: tuple[str, ...] = ()
    variables: dict[str, str] = field(default_factory=dict)
    params: dict[str, object] = field(default_factory=dict)
    run: bool = True
    column_overrides: dict[int, ColumnOverride] = field(default_factory=dict)
    """Column index (from 0) -> its own parameters and system prompt (``--col-param``)."""

    @property
    def prompt(self) -> str:
        """The prompt's name (the first reference without its ``@version``)."""
        return self.refs[0].split("@", 1)[0] if self.refs else ""

    @property
    def versions(self) -> str:
        """The versions or labels asked for, as the versions field takes them (``1, 4``)."""
        return ", ".join(r.split("@", 1)[1] for r in self.refs if "@" in r)


@dataclass(frozen=True)
class ItemTarget:
    """One item of a list to select: a prompt name, a suite name or a trace id."""

    name: str
    run: bool = False
    """Start it too (``eval SUITE`` runs the suite)."""
