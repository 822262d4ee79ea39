"""Which report files to write, and writing them: by flag, or by extension (``-o FILE``).

``-o`` takes its format from the file's extension the way promptfoo users know:
``.html``, ``.json``, ``.jsonl``, ``.xml`` (JUnit) and ``.md``. The older flags
(``--html``, ``--json``, ``--jsonl``, ``--junit``, ``--markdown``) name the format
themselves, whatever the extension.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from promptdeck.core.evals.results import CellResult, RunSummary
from promptdeck.errors import UsageError

__all__ = ["EXTENSIONS", "ReportFormat", "ReportTarget", "prepare", "targets", "write_reports"]

ReportFormat = Literal["html", "json", "jsonl", "junit", "markdown"]
"""A report's format."""

EXTENSIONS: dict[str, ReportFormat] = {
    ".html": "html",
    ".htm": "html",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xml": "junit",
    ".md": "markdown",
    ".markdown": "markdown",
}
"""The format ``-o FILE`` writes, by the file's extension (lower-cased)."""


@dataclass(frozen=True)
class ReportTarget:
    """One report to write: its format and file."""

    format: ReportFormat
    path: Path


def targets(
    outputs: Iterable[Path] = (),
    *,
    html: Path | None = None,
    json: Path | None = None,
    jsonl: Path | None = None,
    junit: Path | None = None,
    markdown: Path | None = None,
) -> list[ReportTarget]:
    """The reports asked for: the format flags first, then each ``-o FILE`` in order.

    Raises:
        UsageError: An ``-o`` file's extension names no format.
    """
    found: list[ReportTarget] = []
    flags: tuple[tuple[ReportFormat, Path | None], ...] = (
        ("junit", junit),
        ("json", json),
        ("jsonl", jsonl),
        ("markdown", markdown),
        ("html", html),
    )
    found += [ReportTarget(kind, path) for kind, path in flags if path is not None]
    for path in outputs:
        kind = EXTENSIONS.get(path.suffix.lower())
        if kind is None:
            known = ", ".join(sorted(EXTENSIONS))
            raise UsageError(
                f"-o {path}: no report format has the extension {path.suffix or '(none)'!r}",
                f"end the file name with one of {known} (.xml is JUnit)",
            )
        found.append(ReportTarget(kind, path))
    return found


def _cannot(path: Path, exc: OSError) -> UsageError:
    return UsageError(f"cannot write {path} ({exc.strerror or exc})", "choose another path")


def prepare(found: Iterable[ReportTarget]) -> None:
    """Make each report's folder, before any work, so a bad path fails at once.

    Raises:
        UsageError: A folder cannot be made, or the path is a folder.
    """
    for target in found:
        if target.path.is_dir():
            raise UsageError(f"cannot write {target.path}: it is a folder", "name a file")
        try:
            target.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _cannot(target.path, exc) from exc


def write_reports(
    found: Sequence[ReportTarget],
    summary: RunSummary,
    cells: Sequence[CellResult],
    html: Callable[[], str] | None = None,
) -> None:
    """Write each report (the HTML page made once, by ``html``, when one is asked for).

    Args:
        found: The reports to write.
        summary: The runs' summary.
        cells: Their cells.
        html: Makes the HTML page (it reads the stored runs); needed for ``html``.

    Raises:
        UsageError: A file cannot be written.
    """
    from promptdeck.core.evals import reports

    page: str | None = None
    for target in found:
        chunks: Iterable[str]
        if target.format == "html":
            if html is None:
                raise UsageError("no HTML report here", "use --json, --junit or --markdown")
            page = html() if page is None else page
            chunks = (page,)
        elif target.format == "jsonl":  # a cell at a time: a big run's cells stream past
            chunks = (reports.cell_jsonl(c) for c in cells)
        elif target.format == "json":
            chunks = reports.json_chunks(summary, cells)
        elif target.format == "junit":
            chunks = (reports.render_junit(summary, cells),)
        else:
            chunks = (reports.render_markdown(summary, cells),)
        try:
            with target.path.open("w", encoding="utf-8") as handle:
                for chunk in chunks:
                    handle.write(chunk)
        except OSError as exc:
            raise _cannot(target.path, exc) from exc
