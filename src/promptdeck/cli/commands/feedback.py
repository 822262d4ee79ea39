"""``promptdeck feedback`` and ``promptdeck export-dataset``: human ratings of eval results."""

from __future__ import annotations

from pathlib import Path

import click

from promptdeck.cli.context import Options, open_workspace
from promptdeck.cli.output import echo_json

__all__ = ["export_dataset", "feedback"]


@click.command()
@click.argument("run_id")
@click.option("--case", "case_index", type=int, required=True, help="The case's index (#N).")
@click.option("--model", help="The cell's model, when the run has several.")
@click.option("--prompt", help="The cell's prompt name, when the run has several.")
@click.option("--repeat", type=int, default=0, show_default=True, help="The repeat number.")
@click.option("--thumbs", type=click.Choice(["up", "down"]), help="Thumbs up or down.")
@click.option("--rating", type=click.IntRange(1, 5), help="A rating from 1 to 5.")
@click.option("--comment", help="A comment.")
@click.option("--corrected", help="The answer it should have given.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def feedback(
    options: Options,
    run_id: str,
    case_index: int,
    model: str | None,
    prompt: str | None,
    repeat: int,
    thumbs: str | None,
    rating: int | None,
    comment: str | None,
    corrected: str | None,
    as_json: bool,
) -> None:
    """Rate one result of eval run RUN_ID (the Evals screen does this with + - 1-5 c)."""
    from promptdeck.core.evals.browse import rate_cell
    from promptdeck.core.evals.feedback import find_cell

    workspace = open_workspace(options, sync=False)
    try:
        cell_id = find_cell(
            workspace, run_id, case_index, model=model, prompt=prompt, repeat=repeat
        )
        row = rate_cell(
            workspace,
            cell_id,
            thumbs={"up": 1, "down": -1}.get(thumbs or ""),
            rating=rating,
            comment=comment,
            corrected=corrected,
        )
    finally:
        workspace.close()
    if as_json:
        echo_json({"feedback": row.id, "cell": cell_id})
    else:
        click.echo(f"Recorded feedback {row.id} on cell {cell_id}.")


@click.command("export-dataset")
@click.option("--rated", is_flag=True, required=True, help="Export rated eval results (required).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["chat-jsonl", "dpo-jsonl"]),
    default="chat-jsonl",
    show_default=True,
    help="chat messages with the good answer, or preference pairs.",
)
@click.option("--suite", help="Only results of this suite.")
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="File (default: stdout).",
)
@click.pass_obj
def export_dataset(
    options: Options, rated: bool, fmt: str, suite: str | None, output: Path | None
) -> None:
    """Write fine-tuning data from rated results (JSONL)."""
    from promptdeck.core.evals.feedback import ExportStats, rated_examples

    workspace = open_workspace(options, sync=False)
    stats = ExportStats()
    try:
        lines = list(rated_examples(workspace, fmt, suite=suite, stats=stats))  # type: ignore[arg-type]
    finally:
        workspace.close()
    if output is None:
        click.echo("".join(lines), nl=False)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text("".join(lines), encoding="utf-8")
    click.echo(f"{stats.written} examples written, {stats.skipped} ratings skipped.", err=True)
