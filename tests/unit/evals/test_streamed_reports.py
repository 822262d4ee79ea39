"""Reports written a cell at a time: a big run's reports are the ones a kept run gives."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from promptdeck.core.evals import outputs, reports, runner
from promptdeck.core.evals.results import CellResult, summarize
from promptdeck.core.evals.runner import EvalRunner, RunOutcome, plan_suite
from promptdeck.core.evals.stored_cells import StoredCells
from promptdeck.core.gateway import engine
from promptdeck.core.gateway.engine import Gateway
from promptdeck.core.providers.base import ChatRequest
from promptdeck.core.providers.fake import FakeProvider
from promptdeck.core.workspace.workspace import Workspace

SUITE = """\
prompts: [classify-ticket]
concurrency: 3
repeat: 2
cases:
  - description: no assertion
    vars: {ticket: I lost my "key" 🔑}
  - dataset: datasets/rows.jsonl
"""


def _label(request: ChatRequest) -> str:
    text = request.messages[-1]["content"]
    return "technical ✓" if "3" in text or "key" in text else "billing\nline two"


def _run(workspace: Workspace) -> RunOutcome:
    async def go() -> RunOutcome:
        gateway = Gateway.for_workspace(workspace)
        try:
            return await EvalRunner(workspace, gateway, cache="write").run(
                plan_suite(workspace, "rep")
            )
        finally:
            await gateway.aclose()

    return asyncio.run(go())


def _written(outcome: RunOutcome, folder: Path) -> dict[str, str]:
    found = outputs.targets(
        [folder / "r.json", folder / "r.jsonl", folder / "r.xml", folder / "r.md"]
    )
    outputs.prepare(found)
    outputs.write_reports(found, outcome.summary, outcome.cells)
    texts = {t.path.suffix: t.path.read_text(encoding="utf-8") for t in found}
    # What differs between two runs of the same cells: their ids and timings.
    volatile = [
        (re.escape(outcome.run_uid), "RUN"),
        (r'"(latency_ms|ttft_ms|p50|p95|p99|mean|max|min)": ?[0-9.e-]+', r'"\1": 0'),
        (r'time="[0-9.]+"', 'time="0"'),
        (r"p50 / p95 ms \|[^\n]*", ""),
        (r"\| [0-9–]+ / [0-9–]+ \|", "| |"),
        (r'"trace_uid": "[^"]*"', '"trace_uid": ""'),
        (r"\d{4}-\d\d-\d\dT[0-9:.]+\+00:00", "T"),
    ]
    for pattern, replacement in volatile:
        texts = {k: re.sub(pattern, replacement, v) for k, v in texts.items()}
    return texts


def test_a_big_runs_reports_are_the_ones_a_kept_run_writes(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    provider = FakeProvider(default=_label)
    monkeypatch.setattr(engine, "make_provider_factory", lambda config, root: lambda t: provider)
    workspace.sync()
    checked = [{"type": "contains", "value": "tech"}]
    rows = [{"vars": {"ticket": f"ticket {n}"}, "assert": checked} for n in (3, 20)]
    rows += [{"vars": {"ticket": f"ticket {i}"}, "expected": "billing"} for i in range(1, 5)]
    (workspace.paths.datasets / "rows.jsonl").write_text("\n".join(map(json.dumps, rows)))
    (workspace.paths.suites / "rep.suite.yaml").write_text(SUITE)
    kept = _run(workspace)
    monkeypatch.setattr(runner, "KEEP_RESULTS", 3)
    streamed = _run(workspace)
    assert isinstance(streamed.cells, StoredCells) and not isinstance(kept.cells, StoredCells)
    one, other = _written(kept, tmp_path / "kept"), _written(streamed, tmp_path / "streamed")
    assert one == other
    assert "### Failures (2)" in one[".md"] and 'failures="2"' in one[".xml"]
    assert len(one[".jsonl"].splitlines()) == len(kept.cells) == 14
    assert json.loads(one[".json"])["summary"]["cells"] == 14


def _cells() -> Iterator[CellResult]:
    for n in range(7):
        yield CellResult(
            "s",
            "p@1",
            "m",
            f"k{n}",
            n,
            f"case {n} “quoted” \\ {{}}",
            output="line\nnext\u2028" if n % 2 else None,
            error="boom" if n == 3 else None,
            latency_ms=12.5 * n,
        )


@pytest.mark.parametrize("count", [0, 1, 7])
def test_the_json_report_in_pieces_is_the_document_json_dumps_writes(count: int) -> None:
    cells = list(_cells())[:count]
    summary = summarize(cells, run_id="r1")
    expected = json.dumps(
        {"summary": summary.to_dict(), "cells": [c.to_dict() for c in cells]},
        ensure_ascii=False,
        indent=2,
    )
    assert "".join(reports.json_chunks(summary, iter(cells))) == expected + "\n"


def test_markdown_holds_only_the_cells_it_lists_and_counts_the_rest() -> None:
    cells = list(_cells())
    summary = summarize(cells, run_id="r1")
    text = reports.render_markdown(summary, iter(cells), max_failures=2)
    failing = [c for c in cells if c.status not in ("pass", "unchecked")]
    assert len(failing) == 7  # every one, counted though only two are listed
    assert f"### Failures ({len(failing)})" in text and f"- … and {len(failing) - 2} more" in text
    assert text.count("- **s · p@1 · m · case-") == 2
    assert text == reports.render_markdown(summary, cells, max_failures=2)
