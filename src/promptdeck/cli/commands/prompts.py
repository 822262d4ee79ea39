"""``promptdeck prompts ...``: the prompt registry."""

from __future__ import annotations

import click

from promptdeck.cli.context import Options, open_tui, open_workspace
from promptdeck.cli.output import echo_json, render_table

__all__ = ["prompts"]


@click.group()
def prompts() -> None:
    """Versioned prompts: list, show, history, diff, label, approve, lint."""


@prompts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def prompts_list(options: Options, as_json: bool) -> None:
    """List the workspace's prompts with their versions and labels."""
    if options.wants_tui(as_json):
        open_tui(options, "prompts")
        return
    workspace = open_workspace(options)
    try:
        summaries = workspace.prompt_summaries()
    finally:
        workspace.close()
    if as_json:
        echo_json(
            [
                {
                    "name": s.name,
                    "description": s.description,
                    "file": s.source_path,
                    "file_present": s.file_present,
                    "versions": s.versions,
                    "latest_version": s.latest_version,
                    "labels": s.labels,
                    "error": s.last_error,
                }
                for s in summaries
            ]
        )
        return
    if not summaries:
        click.echo("No prompts yet: add a file to prompts/ (see docs/formats.md).")
        return
    rows = []
    for s in summaries:
        labels = ", ".join(f"{k}=v{v}" for k, v in s.labels.items() if k != "latest")
        status = "error" if s.last_error else ("ok" if s.file_present else "no file")
        latest = f"v{s.latest_version}" if s.latest_version else None
        rows.append((s.name, latest, s.versions, labels or None, status, s.description))
    click.echo(render_table(("NAME", "LATEST", "VERSIONS", "LABELS", "FILE", "DESCRIPTION"), rows))
