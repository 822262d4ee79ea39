"""``promptdeck report``: write reports of stored runs (HTML, JSON, JSONL, JUnit, Markdown)."""

from __future__ import annotations

from pathlib import Path

import click

from promptdeck.cli.context import Options, open_workspace
from promptdeck.errors import UsageError

__all__ = ["report"]

_FILE = click.Path(path_type=Path, dir_okay=False)


@click.command("report")
@click.argument("run_ids", nargs=-1, required=True, metavar="RUN_ID...")
@click.option(
    "--compare",
    "compare",
    metavar="RUN_ID",
    help="Compare with this run (default: the suite's baseline, if any).",
)
@click.option("--html", type=_FILE, help="Write a single-file HTML report.")
@click.option("--json", "json_file", type=_FILE, help="Write a JSON report.")
@click.option("--jsonl", type=_FILE, help="Write one JSON line per cell.")
@click.option("--junit", type=_FILE, help="Write JUnit XML.")
@click.option("--markdown", type=_FILE, help="Write a Markdown summary.")
@click.option(
    "-o",
    "--output",
    "outputs",
    multiple=True,
    type=_FILE,
    help="Write a report, its format by extension: .html .json .jsonl .xml (JUnit) .md.",
)
@click.pass_obj
def report(
    options: Options,
    run_ids: tuple[str, ...],
    compare: str | None,
    html: Path | None,
    json_file: Path | None,
    jsonl: Path | None,
    junit: Path | None,
    markdown: Path | None,
    outputs: tuple[Path, ...],
) -> None:
    """Write reports of stored runs RUN_ID... without running anything again.

    The HTML report is one file that opens from disk or a CI artifact store: the
    prompts × models × cases grid with filters and search, each cell's prompt, answer,
    assertions, latency, tokens, cost and cache state, the statistics per prompt and
    model, and with --compare (or a blessed baseline) the regressions and improvements
    beside the paired test.

    Examples: `promptdeck report 3f2a --html report.html`,
    `promptdeck report 3f2a --compare 1b9c -o report.html -o junit.xml`.
    """
    from promptdeck.core.evals import outputs as report_outputs
    from promptdeck.core.evals.html_report import render_html
    from promptdeck.core.evals.report_data import load_report

    found = report_outputs.targets(
        outputs, html=html, json=json_file, jsonl=jsonl, junit=junit, markdown=markdown
    )
    if not found:
        raise UsageError(
            "no report asked for", "give --html FILE or -o FILE (.html .json .jsonl .xml .md)"
        )
    report_outputs.prepare(found)
    workspace = open_workspace(options, sync=False)
    try:
        data = load_report(workspace, run_ids, compare=compare)
        report_outputs.write_reports(
            found, data.summary, data.cells, html=lambda: render_html(data)
        )
    finally:
        workspace.close()
    for target in found:
        size = target.path.stat().st_size
        click.echo(f"wrote {target.path} ({target.format}, {size / 1e6:.2f} MB)", err=True)
