"""``promptdeck traces to-case`` and ``traces similar``: a trace as a case, its neighbours."""

from __future__ import annotations

import click

from promptdeck.cli.context import Options, open_workspace
from promptdeck.cli.output import echo_json, render_table

__all__ = ["traces_similar", "traces_to_case"]


@click.command("to-case")
@click.argument("trace_id")
@click.option("--suite", required=True, help="Suite to append the case to (its name).")
@click.option("--prompt", help="The prompt a new suite runs (default: the one the trace names).")
@click.pass_obj
def traces_to_case(options: Options, trace_id: str, suite: str, prompt: str | None) -> None:
    """Turn a trace into a suite case: its variables (a promptdeck prompt) or its messages.

    The observed answer becomes `expected`, tagged `review`: check it before trusting
    it. The case is appended to suites/SUITE.suite.yaml; what the file holds is kept
    as it is (a missing suite is created).
    """
    from promptdeck.core.collect.to_case import save_trace_case

    workspace = open_workspace(options, sync=True)
    try:
        with workspace.session() as session:
            path, case = save_trace_case(session, workspace.paths, trace_id, suite, prompt=prompt)
    finally:
        workspace.close()
    shape = "variables of " + case.prompt if case.prompt else "messages"
    click.echo(f"Appended a case ({shape}) to {workspace.paths.relative(path)}")
    if case.expected is not None:
        click.echo("Its `expected` is the observed answer: review it (tag `review`).")


@click.command("similar")
@click.argument("trace_id")
@click.option("-k", "k", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def traces_similar(options: Options, trace_id: str, k: int, as_json: bool) -> None:
    """The traces nearest to TRACE_ID by prompt and answer (local embedder, usearch index).

    The index lives in .promptdeck/ and is brought up to date (only the traces stored
    since its last update are embedded) before each search.
    """
    from promptdeck.core.similar.service import trace_index

    workspace = open_workspace(options, sync=False)
    try:
        index = trace_index(workspace.paths)
        with workspace.session() as session:
            found = index.similar(session, trace_id, k)
    finally:
        workspace.close()
    if as_json:
        echo_json(
            [
                {
                    "id": s.trace.uid,
                    "similarity": round(s.similarity, 4),
                    "name": s.trace.name,
                    "model": s.trace.model,
                    "source": s.trace.source,
                    "started_at": s.trace.started_at.isoformat(),
                }
                for s in found
            ]
        )
        return
    if not found:
        click.echo("No other trace to compare with yet.")
        return
    rows = [
        (
            s.trace.uid[:12],
            f"{s.similarity:.3f}",
            s.trace.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            s.trace.name,
            s.trace.model,
            s.trace.source,
        )
        for s in found
    ]
    click.echo(render_table(("ID", "SIMILARITY", "STARTED (UTC)", "NAME", "MODEL", "SOURCE"), rows))
