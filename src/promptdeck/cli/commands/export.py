"""``promptdeck export``: approved prompts to a registry folder."""

from __future__ import annotations

from pathlib import Path

import click

from promptdeck.cli.context import Options, open_workspace
from promptdeck.cli.output import echo_json

__all__ = ["export"]


@click.command()
@click.option(
    "--to",
    "folder",
    type=click.Path(path_type=Path, file_okay=False),
    help="Registry folder (default: .promptdeck/exports/registry in the workspace).",
)
@click.option("--label", default="production", show_default=True, help="Label to export.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["native", "langfuse"]),
    default="native",
    show_default=True,
    help="native (read with promptdeck.registry) or langfuse (its create-prompt JSON).",
)
@click.option("--prompt", "names", multiple=True, help="Only this prompt (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def export(
    options: Options,
    folder: Path | None,
    label: str,
    fmt: str,
    names: tuple[str, ...],
    as_json: bool,
) -> None:
    """Export the approved versions behind LABEL to a registry folder.

    Every version behind the label must be approved; otherwise nothing is written.
    Re-exporting the same versions changes nothing on disk.
    """
    from promptdeck.core.prompts.export import export_registry

    workspace = open_workspace(options)
    try:
        target = folder or workspace.paths.exports / "registry"
        with workspace.session() as session:
            report = export_registry(
                session,
                target,
                label=label,
                names=list(names) or None,
                fmt="langfuse" if fmt == "langfuse" else "native",
            )
    finally:
        workspace.close()
    if as_json:
        echo_json(
            {
                "folder": str(report.folder),
                "exported": [{"name": n, "version": v} for n, v in report.exported],
                "written": report.written,
                "unchanged": report.unchanged,
                "skipped": report.skipped,
                "removed": report.removed,
            }
        )
        return
    exported = ", ".join(f"{n}@{v}" for n, v in report.exported)
    click.echo(f"Exported {exported} ({label}) to {report.folder}")
    changed = len(report.written)
    click.echo(
        f"{changed} file{'s' if changed != 1 else ''} written, {len(report.unchanged)} unchanged."
    )
    if report.removed:
        click.echo(f"Removed (approval revoked): {', '.join(report.removed)}")
