"""``promptdeck compare``: one rendered prompt on several models, or several versions."""

from __future__ import annotations

import asyncio
import shutil
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from promptdeck.cli.commands.run import parse_vars
from promptdeck.cli.context import Options, open_tui, open_workspace
from promptdeck.cli.output import echo_json, echo_warning
from promptdeck.errors import RuntimeFailureError, UsageError

if TYPE_CHECKING:
    from promptdeck.core.compare.columns import ColumnResult, CompareColumn, CompareResult
    from promptdeck.core.gateway.engine import Gateway

__all__ = ["compare", "render_json", "render_markdown", "render_text"]

_GAP = " │ "


def _fmt(value: float | None, spec: str, unit: str = "") -> str:
    from promptdeck.core.compare.columns import fmt_optional

    return fmt_optional(value, spec, unit)


def _metric_lines(column: ColumnResult) -> list[str]:
    from promptdeck.core.compare.columns import metric_lines

    return metric_lines(column)


def render_text(result: CompareResult, width: int) -> str:
    """Columns side by side, wrapped to ``width``; then the similarity matrix."""
    columns = result.columns
    n = max(1, len(columns))
    col_width = max(16, (width - len(_GAP) * (n - 1)) // n)
    cells: list[list[str]] = []
    for column in columns:
        done = column.result.completion
        body = done.text if done.ok else f"error: {done.error}"
        lines = [column.column.title[:col_width], "─" * col_width]
        for paragraph in body.splitlines() or [""]:
            lines += textwrap.wrap(paragraph, col_width) or [""]
        lines.append("─" * col_width)
        for metric in _metric_lines(column):
            lines += textwrap.wrap(metric, col_width)
        cells.append(lines)
    height = max(len(c) for c in cells) if cells else 0
    rows = [
        _GAP.join(c[i].ljust(col_width) if i < len(c) else " " * col_width for c in cells).rstrip()
        for i in range(height)
    ]
    out = "\n".join(rows)
    if result.similarity:
        out += "\n\nsimilarity\n" + "\n".join(
            f"  [{i + 1}] " + "  ".join(_fmt(v, ".2f").rjust(4) for v in row)
            for i, row in enumerate(result.similarity)
        )
    return out


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>") or " "


def render_markdown(result: CompareResult) -> str:
    """A markdown table: one column per answer, one row per metric."""
    from promptdeck.core.gateway.costs import format_cost

    columns = result.columns
    header = "| | " + " | ".join(_md_cell(c.column.title) for c in columns) + " |"
    rule = "|---|" + "---|" * len(columns)

    def row(name: str, values: Sequence[str]) -> str:
        return f"| {name} | " + " | ".join(_md_cell(v) for v in values) + " |"

    metrics = [c.metrics() for c in columns]
    lines = [
        header,
        rule,
        row(
            "answer",
            [c.text if c.ok else f"error: {c.result.completion.error}" for c in columns],
        ),
        row("ttft", [_fmt(m["ttft_ms"], ".0f", " ms") for m in metrics]),
        row("tok/s", [_fmt(m["tokens_per_s"], ".1f") for m in metrics]),
        row("latency", [f"{m['latency_ms']:.0f} ms" for m in metrics]),
        row("tokens", [str(m["total_tokens"]) for m in metrics]),
        row("cost", [format_cost(m["cost_usd"]) for m in metrics]),
        row("cache", [str(m["cache"]) for m in metrics]),
        row("finish", [str(m["finish_reason"] or "-") for m in metrics]),
    ]
    if any(c.ensemble is not None for c in columns):
        lines.append(
            row(
                "ensemble",
                [c.ensemble.decision if c.ensemble is not None else "-" for c in columns],
            )
        )
    if result.similarity:
        lines += [
            "",
            "| similarity | " + " | ".join(str(i + 1) for i in range(len(columns))) + " |",
        ]
        lines.append("|---|" + "---|" * len(columns))
        lines += [
            f"| {i + 1} | " + " | ".join(_fmt(v, ".2f") for v in r) + " |"
            for i, r in enumerate(result.similarity)
        ]
    return "\n".join(lines)


def render_json(result: CompareResult) -> dict[str, Any]:
    """Every answer and metric, the similarity matrix, and a diff of the first two answers."""
    from promptdeck.core.compare.columns import word_diff

    answered = [c for c in result.columns if c.ok]
    data: dict[str, Any] = {
        "columns": [c.metrics() for c in result.columns],
        "similarity": [list(r) for r in result.similarity],
    }
    if len(answered) >= 2:
        data["diff"] = {
            "a": answered[0].column.index,
            "b": answered[1].column.index,
            "pieces": [list(p) for p in word_diff(answered[0].text, answered[1].text)],
        }
    return data


async def _compare(gateway: Gateway, columns: list[CompareColumn]) -> CompareResult:
    from promptdeck.core.compare.columns import run_compare

    try:
        return await run_compare(gateway, columns)
    finally:
        await gateway.aclose()


@click.command("compare")
@click.argument("prompts", nargs=-1, required=True, metavar="PROMPT[@V] [PROMPT@V ...]")
@click.option("--var", "-v", "pairs", multiple=True, metavar="NAME=VALUE", help="A variable.")
@click.option(
    "--model",
    "-m",
    "models",
    multiple=True,
    help="Model, alias or ensemble; repeat for several (default: the prompt's, else "
    "default_model).",
)
@click.option(
    "--param",
    "-p",
    "param_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="A call parameter for every column, over the prompt's and each model alias's "
    "(e.g. temperature=0.2).",
)
@click.option(
    "--col-param",
    "column_params",
    multiple=True,
    metavar="N:KEY=VALUE",
    help="A call parameter for column N only, over --param (e.g. 2:temperature=1.0); "
    "columns count versions × models from 1, as the headers show.",
)
@click.option(
    "--col-system",
    "column_systems",
    multiple=True,
    metavar="N:TEXT",
    help="A system prompt for column N only, in place of the prompt's (e.g. "
    "2:'Answer in French.').",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="text: columns side by side; json: every answer and metric; markdown: a table.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (--format json).")
@click.option(
    "--save-case",
    "suite",
    metavar="SUITE",
    help="Append the variables as a case (with a description) to suites/SUITE.suite.yaml.",
)
@click.pass_obj
def compare(
    options: Options,
    prompts: tuple[str, ...],
    pairs: tuple[str, ...],
    models: tuple[str, ...],
    param_pairs: tuple[str, ...],
    column_params: tuple[str, ...],
    column_systems: tuple[str, ...],
    fmt: str,
    as_json: bool,
    suite: str | None,
) -> None:
    """Send PROMPT (or several versions of it) to every -m model at once and compare.

    Versions × models make the grid: `compare summarize@2 summarize@3 -m A -m B` fills
    four columns. `--col-param` and `--col-system` give one column its own parameters
    or system prompt, so one model can run at two temperatures side by side:
    `compare summarize -m smol -m smol --col-param 2:temperature=1.2` (the column's
    header shows it, and the answer is stored with it). Prints each answer with its
    time to first token, tokens/s, latency, tokens, cost, cache state and finish
    reason, and the answers' pairwise semantic similarity. Exits 3 when every model
    fails.
    """
    if as_json:
        if fmt not in ("text", "json"):
            raise UsageError(f"--json and --format {fmt} ask for two outputs", "give one of them")
        fmt = "json"
    from promptdeck.core.compare.overrides import parse_column_options
    from promptdeck.core.providers.params import parse_params

    variables = parse_vars(pairs)
    overrides = parse_params(param_pairs)
    count = len(prompts) * max(1, len(models))
    own = parse_column_options(column_params, column_systems, count)
    if options.wants_tui(fmt == "json") and suite is None:
        from promptdeck.tui.targets import CompareTarget

        target = CompareTarget(prompts, models, variables, overrides, column_overrides=own)
        open_tui(options, "compare", target)
        return
    from promptdeck.core.compare.columns import plan_compare
    from promptdeck.core.gateway import engine

    workspace = open_workspace(options)
    try:
        columns = plan_compare(workspace, prompts, variables, models, overrides, own)
        gateway = engine.Gateway.for_workspace(workspace)
        result = asyncio.run(_compare(gateway, columns))
        saved: str | None = None
        checked = True
        if suite is not None and not result.all_failed:
            from promptdeck.core.evals.suite_cases import append_case, default_assertions

            names = sorted({c.spec.prompt_name or c.ref for c in columns})
            path = append_case(
                workspace.paths,
                suite,
                variables,
                description=f"saved from compare of {', '.join(prompts)} "
                f"on {', '.join(dict.fromkeys(c.model for c in columns))}",
                prompts=names,
                models=list(dict.fromkeys(c.model for c in columns)),
            )
            saved = workspace.paths.relative(path)
            checked = default_assertions(path) > 0
    finally:
        workspace.close()
    for column in result.columns:
        for warning in column.result.warnings:
            echo_warning(f"{column.column.title}: {warning}")
    if result.similarity_error:
        echo_warning(result.similarity_error)
    if fmt == "json":
        echo_json(render_json(result))
    elif fmt == "markdown":
        click.echo(render_markdown(result))
    else:
        click.echo(render_text(result, shutil.get_terminal_size((120, 24)).columns))
    if saved is not None and checked:
        click.echo(f"Saved a case to {saved} (write its `expected` yourself)", err=True)
    elif saved is not None:
        click.echo(
            f"Saved a case to {saved}: it has no assertions yet, so `eval` reports it as "
            "`no assertions` (not a pass) until you add `assert:` (and its `expected`)",
            err=True,
        )
    if result.all_failed:
        first = result.columns[0].result.completion
        raise RuntimeFailureError(
            f"every model failed ({first.error})",
            "see `promptdeck traces list` for each call's error",
        )
