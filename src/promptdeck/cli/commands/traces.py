"""``promptdeck traces ...``: list, show and export call traces."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from promptdeck.cli.context import Options, open_tui, open_workspace
from promptdeck.cli.output import echo_json, render_table
from promptdeck.errors import NotFoundError

__all__ = ["traces"]


@click.group(invoke_without_command=True)
@click.pass_context
def traces(ctx: click.Context) -> None:
    """Traces of model calls: list, show, export (OpenTelemetry JSON), similar, to-case."""
    options: Options = ctx.obj
    if ctx.invoked_subcommand is None:
        if options.wants_tui():
            open_tui(options, "traces")
            return
        ctx.invoke(traces_list)


@traces.command("list")
@click.option("--prompt", help="Only traces of this prompt.")
@click.option("--model", help="Only traces that asked for this model.")
@click.option("--status", type=click.Choice(["ok", "error"]), help="Only ok or failed calls.")
@click.option(
    "--source",
    type=click.Choice(["promptdeck", "otlp"]),
    help="Only promptdeck's own calls, or traces received by `promptdeck collect`.",
)
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def traces_list(
    options: Options,
    prompt: str | None = None,
    model: str | None = None,
    status: str | None = None,
    source: str | None = None,
    limit: int = 50,
    as_json: bool = False,
) -> None:
    """List traces, newest first."""
    if options.wants_tui(as_json):
        open_tui(options, "traces")
        return
    from promptdeck.store.traces_repo import TraceFilter, list_traces

    workspace = open_workspace(options, sync=False)
    try:
        with workspace.session() as session:
            found = list_traces(
                session, TraceFilter(prompt, model, status, source=source), limit=limit
            )
    finally:
        workspace.close()
    if as_json:
        echo_json(
            [
                {
                    "id": t.uid,
                    "name": t.name,
                    "kind": t.kind,
                    "prompt": t.prompt_name,
                    "model": t.model,
                    "status": t.status,
                    "latency_ms": t.latency_ms,
                    "tokens": t.total_tokens,
                    "cost_usd": t.cost_usd if t.cost_known else None,
                    "error": t.error,
                    "started_at": t.started_at.isoformat(),
                    "source": t.source,
                }
                for t in found
            ]
        )
        return
    if not found:
        click.echo("No traces yet: try `promptdeck --headless run <prompt>`.")
        return
    rows = [
        (
            t.uid[:12],
            t.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            t.name,
            t.model,
            t.status,
            t.total_tokens,
            f"${t.cost_usd:.6f}" if t.cost_known else "$?",
            f"{t.latency_ms:.0f} ms" if t.latency_ms is not None else None,
        )
        for t in found
    ]
    click.echo(
        render_table(
            ("ID", "STARTED (UTC)", "NAME", "MODEL", "STATUS", "TOKENS", "COST", "LATENCY"), rows
        )
    )


def _show_attributes(attributes: dict[str, Any], indent: str) -> None:
    for key in sorted(attributes):
        value = attributes[key]
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if len(text) > 200:
            text = text[:199] + "…"
        click.echo(f"{indent}{key} = {text}")


@traces.command("show")
@click.argument("trace_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def traces_show(options: Options, trace_id: str, as_json: bool) -> None:
    """Show one trace: its spans as a tree, with their attributes."""
    if options.wants_tui(as_json):
        from promptdeck.tui.targets import ItemTarget

        open_tui(options, "traces", ItemTarget(trace_id))
        return
    from promptdeck.store.traces_repo import find_trace

    workspace = open_workspace(options, sync=False)
    try:
        with workspace.session() as session:
            detail = find_trace(session, trace_id)
    finally:
        workspace.close()
    if detail is None:
        raise NotFoundError(f"no trace {trace_id!r}", "see `promptdeck --headless traces list`")
    t = detail.trace
    if as_json:
        echo_json(
            {
                "id": t.uid,
                "name": t.name,
                "model": t.model,
                "status": t.status,
                "error": t.error,
                "latency_ms": t.latency_ms,
                "cost_usd": t.cost_usd if t.cost_known else None,
                "text": detail.completion.text if detail.completion else None,
                "spans": [
                    {
                        "name": s.name,
                        "kind": s.kind,
                        "status": s.status,
                        "duration_ms": s.duration_ms,
                        "attributes": s.attributes,
                    }
                    for s in detail.spans
                ],
            }
        )
        return
    click.echo(f"trace {t.uid}  {t.name}  {t.status}")
    cost = f"${t.cost_usd:.6f}" if t.cost_known else "cost unknown"
    click.echo(f"  model {t.model} · {t.total_tokens or 0} tokens · {cost}")
    if t.error:
        click.echo(f"  error: {t.error}")
    depth: dict[int | None, int] = {None: 1}
    for span in detail.spans:
        level = depth.get(span.parent_id, 1)
        depth[span.id] = level + 1
        pad = "  " * level
        duration = f"{span.duration_ms:.1f} ms" if span.duration_ms is not None else ""
        click.echo(f"{pad}├ {span.name} [{span.kind}] {span.status} {duration}")
        _show_attributes(dict(span.attributes), pad + "│   ")
    if detail.completion and detail.completion.text:
        click.echo("")
        click.echo(detail.completion.text)


@traces.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["otlp-json"]),
    default="otlp-json",
    show_default=True,
    help="OpenTelemetry's JSON (OTLP/JSON) with gen_ai.* attributes.",
)
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), help="File.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=1000, show_default=True)
@click.pass_obj
def traces_export(options: Options, fmt: str, output: Path | None, limit: int) -> None:
    """Export traces (newest first) for an OpenTelemetry collector or viewer."""
    from promptdeck.core.gateway.otlp import export_otlp
    from promptdeck.store.traces_repo import find_trace, list_traces

    workspace = open_workspace(options, sync=False)
    try:
        with workspace.session() as session:
            details = [
                detail
                for t in list_traces(session, limit=limit)
                if (detail := find_trace(session, t.uid)) is not None
            ]
    finally:
        workspace.close()
    text = export_otlp(details)
    if output is None:
        click.echo(text)
        return
    output.write_text(text + "\n", encoding="utf-8")
    click.echo(f"Exported {len(details)} traces to {output}", err=True)


def _register() -> None:
    from promptdeck.cli.commands.traces_cases import traces_similar, traces_to_case

    traces.add_command(traces_to_case)
    traces.add_command(traces_similar)


_register()
