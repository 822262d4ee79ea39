"""``promptdeck init``: a new workspace from the demo template."""

from __future__ import annotations

from pathlib import Path

import click

from promptdeck.cli.output import echo_json

__all__ = ["init"]


@click.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def init(directory: Path, as_json: bool) -> None:
    """Create a workspace in DIRECTORY (default: here) from the demo template.

    Writes promptdeck.toml, prompts/, suites/, datasets/ and .promptdeck/. Refuses
    to overwrite an existing workspace or any existing file.
    """
    from promptdeck.core.workspace.init import init_workspace
    from promptdeck.core.workspace.workspace import Workspace

    paths = init_workspace(directory)
    workspace = Workspace.open(paths)
    try:
        report = workspace.sync()
    finally:
        workspace.close()
    if as_json:
        echo_json({"workspace": str(paths.root), "prompts": [n for n, _ in report.new_versions]})
        return
    click.echo(f"Created a workspace in {paths.root} with {len(report.new_versions)} prompts.")
    click.echo(f"Open it with: promptdeck --workspace {paths.root}")
