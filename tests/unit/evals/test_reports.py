"""Report renderers, pinned by golden files (regenerate with PROMPTDECK_UPDATE_GOLDEN=1)."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from promptdeck.core.evals.reports import cell_jsonl, render_json, render_junit, render_markdown
from promptdeck.core.evals.results import CellResult, RunSummary

from .sample import sample_cells, sample_summary

GOLDEN = Path(__file__).parent / "golden"


def _jsonl(summary: RunSummary, cells: list[CellResult]) -> str:
    return "".join(cell_jsonl(c) for c in cells)


@pytest.mark.parametrize(
    ("name", "render"),
    [
        ("report.junit.xml", render_junit),
        ("report.json", render_json),
        ("report.jsonl", _jsonl),
        ("report.md", render_markdown),
    ],
)
def test_golden(name: str, render: Callable[[RunSummary, list[CellResult]], str]) -> None:
    text = render(sample_summary(), sample_cells())
    path = GOLDEN / name
    if os.environ.get("PROMPTDECK_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_junit_structure() -> None:
    root = ET.fromstring(render_junit(sample_summary(), sample_cells()))
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "1", "1")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        "support [local/smollm2-135m]",
        "support [openai/gpt-4o-mini]",
    ]
    local_cases = suites[0].findall("testcase")
    assert [c.get("name") for c in local_cases][:2] == [
        "case-0 #r0 Explains how to get a refund",
        "case-0 #r1 Explains how to get a refund",
    ]
    failure = local_cases[2].find("failure")
    assert failure is not None
    message = failure.get("message") or ""
    assert "contains none of 'human, engineer'" in message
    assert "The reply ignores the data loss." in message
    error = suites[1].findall("testcase")[1].find("error")
    assert error is not None and "429" in (error.get("message") or "")
    assert suites[0].get("timestamp") == "2026-11-22T09:30:00+00:00"


def test_json_document_and_jsonl_lines_parse() -> None:
    document = json.loads(render_json(sample_summary(), sample_cells()))
    assert document["summary"]["passed"] == 4
    assert len(document["cells"]) == 6
    lines = [cell_jsonl(c) for c in sample_cells()]
    assert all(line.endswith("\n") and line.count("\n") == 1 for line in lines)
    assert [json.loads(line)["status"] for line in lines][-1] == "error"
    assert CellResult.from_dict(json.loads(lines[2])) == sample_cells()[2]


def test_markdown_mentions_what_a_ci_reader_needs() -> None:
    text = render_markdown(sample_summary(), sample_cells())
    assert "4/6 passed" in text
    assert "not meaningful" in text
    assert "contains none of 'human, engineer'" in text
    assert "RateLimitError" in text
    short = render_markdown(sample_summary(), sample_cells(), max_failures=1)
    assert "… and 1 more" in short
