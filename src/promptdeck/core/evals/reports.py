"""Report renderers: JUnit XML, JSON, JSONL and Markdown, from cells and a run summary.

Each renderer returns text and writes nothing; the caller picks the file. Output is
deterministic for given inputs (no clock is read): times come from the summary.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from typing import Any

from promptdeck.core.evals.results import UNCHECKED, CellResult, GroupSummary, RunSummary

__all__ = [
    "cell_jsonl",
    "json_chunks",
    "render_json",
    "render_junit",
    "render_markdown",
]

_MAX_MESSAGE = 500


def _seconds(ms: float | None) -> str:
    return f"{(ms or 0.0) / 1000:.3f}"


def _failure_lines(cell: CellResult) -> list[str]:
    lines = []
    for s in cell.failed_scores:
        label = s.name if s.name == s.type else f"{s.name} [{s.type}]"
        lines.append(f"{label}: {s.reason}" + (f" (error: {s.error})" if s.error else ""))
    return lines


def _clip(text: str, limit: int = _MAX_MESSAGE) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_junit(summary: RunSummary, cells: Iterable[CellResult]) -> str:
    """Render JUnit XML: a ``<testsuite>`` per suite and model, a ``<testcase>`` per cell.

    A test case is named after the cell (``case-3 #r0 description``: the case, its
    repeat), with the prompt version as its class. A failed case carries a
    ``<failure>`` whose message joins the reason of each failed assertion (and
    whose text lists them, one a line, with the output); a failed call carries an
    ``<error>``; a case without assertions is ``<skipped>`` (nothing was checked).

    Args:
        summary: The run summary (for the timestamp and repeat counts).
        cells: The run's cells.

    Returns:
        The XML document, with its declaration.
    """
    suites: dict[tuple[str, str], list[CellResult]] = {}
    for cell in cells:
        suites.setdefault((cell.suite, cell.model), []).append(cell)
    root = ET.Element("testsuites", name="promptdeck")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_ms = 0.0
    for (suite, model), members in suites.items():
        failures = sum(c.status == "fail" for c in members)
        errors = sum(c.status == "error" for c in members)
        skipped = sum(c.status == UNCHECKED for c in members)
        took = sum(c.latency_ms or 0.0 for c in members)
        element = ET.SubElement(
            root,
            "testsuite",
            name=f"{suite} [{model}]",
            tests=str(len(members)),
            failures=str(failures),
            errors=str(errors),
            skipped=str(skipped),
            time=_seconds(took),
        )
        if summary.started_at is not None:
            element.set("timestamp", summary.started_at.isoformat())
        for cell in members:
            case = ET.SubElement(
                element,
                "testcase",
                classname=f"{suite}.{cell.prompt}",
                name=cell.label,
                file=cell.case_source.rsplit(":", 1)[0],
                time=_seconds(cell.latency_ms),
            )
            if cell.source != "fresh":
                props = ET.SubElement(case, "properties")
                ET.SubElement(props, "property", name="source", value=cell.source)
                if cell.similarity is not None:
                    ET.SubElement(
                        props, "property", name="similarity", value=f"{cell.similarity:.3f}"
                    )
            if cell.status == "error":
                error = ET.SubElement(
                    case, "error", message=_clip(cell.error or ""), type="CallError"
                )
                error.text = cell.error
            elif cell.status == UNCHECKED:
                ET.SubElement(case, "skipped", message="no assertions: nothing was checked")
            elif cell.status == "fail":
                lines = _failure_lines(cell)
                message = "; ".join(lines) or f"score {cell.score:.2f} below the suite threshold"
                failure = ET.SubElement(
                    case, "failure", message=_clip(message), type="AssertionFailure"
                )
                failure.text = "\n".join(
                    [*lines, f"case score: {cell.score:.2f}", f"output: {cell.output or ''}"]
                )
        totals["tests"] += len(members)
        totals["failures"] += failures
        totals["errors"] += errors
        totals["skipped"] += skipped
        total_ms += took
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", _seconds(total_ms))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def render_json(summary: RunSummary, cells: Iterable[CellResult]) -> str:
    """Render one JSON document ``{"summary": ..., "cells": [...]}`` (indented, UTF-8)."""
    return "".join(json_chunks(summary, cells))


def json_chunks(summary: RunSummary, cells: Iterable[CellResult]) -> Iterator[str]:
    """The JSON document of :func:`render_json` in pieces, a cell at a time.

    A big run's report is written this way without holding it whole.
    """
    document: dict[str, Any] = {"summary": summary.to_dict(), "cells": []}
    head = json.dumps(document, ensure_ascii=False, indent=2)
    assert head.endswith('"cells": []\n}')
    yield head.removesuffix("]\n}")
    first = True
    for cell in cells:
        text = json.dumps(cell.to_dict(), ensure_ascii=False, indent=2)
        # Strings are escaped: every line break is json.dumps's own.
        yield ("\n    " if first else ",\n    ") + text.replace("\n", "\n    ")
        first = False
    yield "]\n}\n" if first else "\n  ]\n}\n"


def cell_jsonl(cell: CellResult) -> str:
    """Render one cell as a JSONL line (with its newline), to append as cells finish."""
    return json.dumps(cell.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _pct(rate: float) -> str:
    return f"{100 * rate:.1f} %"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _cell_text(text: str) -> str:
    return _clip(text, 200).replace("|", "\\|")


def _group_row(group: GroupSummary) -> str:
    rate = group.pass_rate
    status = "✅" if group.cells and group.passed == group.cells else "❌"
    return (
        f"| {status} | {group.suite} | {group.prompt} | {group.model} "
        f"| {rate.successes}/{rate.trials} | {_pct(rate.rate)} "
        f"| {_pct(rate.low)} – {_pct(rate.high)} | {group.errors} "
        f"| {_ms(group.latency.p50)} / {_ms(group.latency.p95)} | ${group.cost_usd:.4f} |"
    )


def render_markdown(
    summary: RunSummary, cells: Iterable[CellResult], max_failures: int = 50
) -> str:
    """Render a Markdown summary fit for a CI job summary.

    It gives the overall pass rate, a table per prompt × model with the pass rate
    and its 95 % Wilson interval, metric means, flaky cases when there are
    repeats, the judge warning when the judge is a tiny local model, the
    failures (up to ``max_failures``) with the reason of each failed assertion,
    the cells whose case has no assertions, and the cells the semantic cache
    answered with their similarity (as many). The headline says when the run did not
    finish (``interrupted (12 of 40 cells)``).

    Args:
        summary: The run summary.
        cells: The run's cells (only failures, errors and semantic cells are kept).
        max_failures: How many failed cells (and semantic cells) to list.

    Returns:
        The Markdown text.
    """
    rate = summary.pass_rate
    if summary.incomplete:
        title = f"⚠️ {summary.state}"
    elif summary.ok:
        title = "✅ all checked cells passed" if summary.unchecked else "✅ all cells passed"
    elif summary.failed or summary.errors:
        title = "❌ some cells failed"
    else:
        title = "⚠️ nothing was checked"
    unchecked = f" · {summary.unchecked} without assertions" if summary.unchecked else ""
    lines = [
        f"## promptdeck eval: {title}",
        "",
        f"**{rate.successes}/{rate.trials} passed ({_pct(rate.rate)}, 95 % CI "
        f"{_pct(rate.low)} – {_pct(rate.high)})** · {summary.failed} failed · "
        f"{_plural(summary.errors, 'error')}{unchecked} · {summary.tokens} tokens · "
        f"${summary.cost_usd:.4f}",
    ]
    if summary.run_id:
        lines.append(
            f"Run `{summary.run_id}`"
            + (f", started {summary.started_at.isoformat()}" if summary.started_at else "")
        )
    if summary.judge_warning:
        lines += ["", f"> ⚠️ {summary.judge_warning}"]
    lines += [
        "",
        "| | suite | prompt | model | passed | rate | 95 % CI | errors | p50 / p95 ms | cost |",
        "|---|---|---|---|---:|---:|---|---:|---:|---:|",
        *(_group_row(g) for g in summary.groups),
    ]
    metrics = [(g, name, value) for g in summary.groups for name, value in g.metric_means.items()]
    if metrics:
        lines += ["", "### Mean score per metric", "", "| prompt | model | metric | mean |"]
        lines.append("|---|---|---|---:|")
        lines += [
            f"| {g.prompt} | {g.model} | {name} | {value:.3f} |" for g, name, value in metrics
        ]
    repeated = [g for g in summary.groups if g.repeats > 1]
    if repeated:
        lines += ["", "### Repeats", "", "| prompt | model | k | pass@k | pass^k | flaky cases |"]
        lines.append("|---|---|---:|---:|---:|---:|")
        for g in repeated:
            at = "–" if g.pass_at_k is None else f"{g.pass_at_k:.3f}"
            hat = "–" if g.pass_hat_k is None else f"{g.pass_hat_k:.3f}"
            lines.append(
                f"| {g.prompt} | {g.model} | {g.repeats} | {at} | {hat} | {len(g.flaky)} |"
            )
    # Only the cells listed are held (a big run's cells stream past).
    failing: list[CellResult] = []
    unasserted: list[CellResult] = []
    semantic: list[CellResult] = []
    failed = not_checked = served = 0
    for cell in cells:
        if cell.status == UNCHECKED:
            not_checked += 1
            if len(unasserted) < max_failures:
                unasserted.append(cell)
        elif cell.status != "pass":
            failed += 1
            if len(failing) < max_failures:
                failing.append(cell)
        if cell.source == "semantic":
            served += 1
            if len(semantic) < max_failures:
                semantic.append(cell)
    if failing:
        lines += ["", f"### Failures ({failed})", ""]
        for cell in failing:
            where = f"{cell.suite} · {cell.prompt} · {cell.model} · {_cell_text(cell.label)}"
            if cell.status == "error":
                lines.append(f"- **{where}**: error: {_cell_text(cell.error or '')}")
                continue
            how = f", {cell.source_label}" if cell.source == "semantic" else ""
            lines.append(f"- **{where}** (score {cell.score:.2f}{how}, `{cell.case_source}`)")
            lines += [f"  - {_cell_text(line)}" for line in _failure_lines(cell)]
        if failed > max_failures:
            lines.append(f"- … and {failed - max_failures} more")
    if unasserted:
        lines += ["", f"### No assertions ({not_checked}): not checked", ""]
        for cell in unasserted:
            where = f"{cell.suite} · {cell.prompt} · {cell.model} · {_cell_text(cell.label)}"
            lines.append(f"- **{where}** (`{cell.case_source}`): add `assert:` to the case")
        if not_checked > max_failures:
            lines.append(f"- … and {not_checked - max_failures} more")
    if served:
        lines += ["", f"### Answered by the semantic cache ({served})", ""]
        lines += ["Answers to trivially reworded requests, graded as this case's.", ""]
        for cell in semantic:
            where = f"{cell.suite} · {cell.prompt} · {cell.model} · {_cell_text(cell.label)}"
            lines.append(f"- {where}: similarity {cell.similarity or 0:.3f}, {cell.status}")
        if served > len(semantic):
            lines.append(f"- … and {served - len(semantic)} more")
    return "\n".join(lines) + "\n"
