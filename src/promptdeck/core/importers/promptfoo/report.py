"""What an import carried, what it skipped and why: the report ``import promptfoo`` prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Entry", "ImportReport", "Kind"]

Kind = Literal["carried", "skipped", "note"]
"""``carried``: became a promptdeck file or key; ``skipped``: not carried (the exit
code says so); ``note``: carried with a difference worth knowing."""


@dataclass(frozen=True)
class Entry:
    """One line of the report.

    Attributes:
        kind: Carried, skipped or a note.
        where: The config's ``file:line`` the item comes from.
        what: The item (``providers[1] exec:./run.sh``).
        detail: What it became, or why it was skipped.
    """

    kind: Kind
    where: str
    what: str
    detail: str


@dataclass
class ImportReport:
    """Every entry of one import, and the files it wrote (or would write)."""

    config: str
    workspace: str = ""
    suite: str = ""
    entries: list[Entry] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    dry_run: bool = False

    def carried(self, where: str, what: str, detail: str) -> None:
        """Record an item carried over."""
        self.entries.append(Entry("carried", where, what, detail))

    def skipped(self, where: str, what: str, why: str) -> None:
        """Record an item that could not be carried, and why."""
        self.entries.append(Entry("skipped", where, what, why))

    def note(self, where: str, what: str, detail: str) -> None:
        """Record something carried with a difference, or advice."""
        self.entries.append(Entry("note", where, what, detail))

    def count(self, kind: Kind) -> int:
        """How many entries of a kind."""
        return sum(1 for e in self.entries if e.kind == kind)

    @property
    def complete(self) -> bool:
        """True when nothing was skipped."""
        return self.count("skipped") == 0

    def lines(self) -> list[str]:
        """The report as text lines, in the config's order."""
        head = f"promptfoo config {self.config} → workspace {self.workspace}, suite {self.suite}"
        out = [head + (" (dry run: nothing written)" if self.dry_run else "")]
        groups: dict[tuple[str, str, str, str], list[Entry]] = {}
        for e in self.entries:  # the same item and reason in one file: one line
            key = (e.kind, e.where.rpartition(":")[0] or e.where, e.what, e.detail)
            groups.setdefault(key, []).append(e)
        width = max((len(e.where) for e in self.entries), default=0)
        for same in groups.values():
            e = same[0]
            more = ""
            if len(same) > 1:
                lines = [x.where.rpartition(":")[2] for x in same[1:]]
                shown = ", ".join(lines[:5]) + (", …" if len(lines) > 5 else "")
                more = f" (and {len(same) - 1} more like it, lines {shown})"
            out.append(f"  {e.kind:<7}  {e.where:<{width}}  {e.what}: {e.detail}{more}")
        if self.files and not self.dry_run:
            out.append("wrote: " + ", ".join(self.files))
        out.append(
            f"{self.count('carried')} carried, {self.count('skipped')} skipped, "
            f"{self.count('note')} notes."
        )
        if not self.dry_run and self.suite:
            out.append(f"run it: promptdeck --headless eval {self.suite}")
        return out
