"""``promptdeck import promptfoo``: bring a promptfoo suite over as promptdeck files."""

from __future__ import annotations

from pathlib import Path

import click

from promptdeck.cli.context import Options
from promptdeck.cli.output import echo_json
from promptdeck.errors import ExitCode

__all__ = ["import_group"]


@click.group("import")
def import_group() -> None:
    """Import eval suites from other tools as ordinary promptdeck files."""


@import_group.command("promptfoo")
@click.argument("config", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--to",
    "target",
    type=click.Path(path_type=Path, file_okay=False),
    help="Workspace to write into, created if needed (default: --workspace, else here).",
)
@click.option("--name", help="The suite's name (default: the config's file or folder name).")
@click.option("--dry-run", is_flag=True, help="Print the report only; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON document.")
@click.pass_obj
def promptfoo(
    options: Options,
    config: Path,
    target: Path | None,
    name: str | None,
    dry_run: bool,
    as_json: bool,
) -> int:
    """Import a promptfoo CONFIG (promptfooconfig.yaml) into a workspace.

    Writes prompt files, a suite and its dataset, and appends the providers as model
    aliases to promptdeck.toml in a marked block (nothing there is rewritten); then
    reports what became what and every field it could not carry, with its file and
    line. Exit 0 when everything was carried, 1 when something was skipped, 2 when
    the config cannot be read.
    """
    from promptdeck.core.importers.promptfoo.importer import import_promptfoo

    workspace = target or options.workspace or Path.cwd()
    report = import_promptfoo(config, workspace, name, dry_run=dry_run)
    if as_json:
        echo_json(
            {
                "config": report.config,
                "workspace": report.workspace,
                "suite": report.suite,
                "dry_run": report.dry_run,
                "complete": report.complete,
                "files": report.files,
                "entries": [
                    {"kind": e.kind, "where": e.where, "what": e.what, "detail": e.detail}
                    for e in report.entries
                ],
            }
        )
    else:
        for line in report.lines():
            click.echo(line)
    return ExitCode.OK if report.complete else ExitCode.CHECK_FAILED
