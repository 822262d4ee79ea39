"""The HTML report's page: safe embedding, the payload, one-pass templating, size."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promptdeck.core.evals import html_report, outputs
from promptdeck.core.evals.compare import Comparison
from promptdeck.core.evals.html_payload import CELL_FIELDS, build_payload
from promptdeck.core.evals.html_report import embed_json, render_html, render_payload
from promptdeck.core.evals.report_data import CaseInfo, CellExtra, Rating, ReportData, cell_id
from promptdeck.core.evals.results import CellResult, summarize
from promptdeck.core.evals.stats import mcnemar_exact
from promptdeck.core.scorers import Score
from promptdeck.errors import UsageError
from tests.unit.evals.sample import LOCAL, REMOTE, sample_cells, sample_summary

HOSTILE = [
    "</script><script>window.__pwned=1</script>",
    "<!--<script>",
    "</SCRIPT >",
    '<img src=x onerror="alert(1)">',
    "a & b &amp; c",
    "line\u2028sep\u2029para",
    "lone \ud800 surrogate",
    "{{JS}} {{DATA}} {{CSP}}",
    "]]></x>",
]


def _data_of(page: str) -> dict:
    found = re.search(r'id="report-data">(.*?)</script>', page, re.S)
    assert found
    return json.loads(found.group(1))


@pytest.mark.parametrize("text", HOSTILE)
def test_embedded_json_holds_no_markup_and_reads_back_exactly(text: str) -> None:
    embedded = embed_json({"t": text, "n": [text]})
    assert not set(embedded) & {"<", ">", "&", "\u2028", "\u2029"}
    assert not re.search("[\ud800-\udfff]", embedded)
    assert json.loads(embedded) == {"t": text, "n": [text]}
    embedded.encode("utf-8")  # a page with it can be written


@given(st.text())
def test_the_size_of_a_text_in_the_page_is_measured_exactly(text: str) -> None:
    assert html_report._size(text) == len(embed_json(text).encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize("text", HOSTILE)
def test_the_size_of_hostile_text_is_measured_exactly(text: str) -> None:
    assert html_report._size(text) == len(embed_json(text).encode("utf-8"))


def test_embedded_json_turns_nan_and_infinity_into_null() -> None:
    assert json.loads(embed_json({"a": float("nan"), "b": [float("inf"), 1.5]})) == {
        "a": None,
        "b": [None, 1.5],
    }


def _data(cells: list[CellResult], extras: list[CellExtra] | None = None) -> ReportData:
    return ReportData(
        summary=summarize(cells, run_id="run-1"),
        cells=cells,
        extras=extras or [CellExtra() for _ in cells],
        cases={},
    )


@pytest.mark.parametrize("text", HOSTILE)
def test_the_page_never_holds_data_as_markup(text: str) -> None:
    cells = [
        replace(c, output=text, case_description=text, error=c.error and text)
        for c in sample_cells()
    ]
    extras = [CellExtra(messages=(("user", text),), ratings=(Rating(1, 5, text),))] * len(cells)
    page = render_html(_data(cells, extras), title=text)
    assert page.count("<script") == 2 and page.count("</script>") == 2
    assert page.count('"use strict"') == 1  # slots filled in one pass: text is not a slot
    assert "{{CSS}}" not in page and "{{DATA}}" not in page.split("<body>")[0].replace(
        f"<title>{html.escape(text)}</title>", ""
    )
    data = _data_of(page)
    assert data["title"] == text and text in data["S"]
    assert data["S"][data["P"][0][0][1]] == text


def test_only_the_pages_own_script_may_run() -> None:
    page = render_payload({"title": "t"})
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy
    script = page.rsplit("<script>", 1)[1].split("</script>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in html.unescape(policy.group(1))
    assert "default-src 'none'" in html.unescape(policy.group(1))
    assert "http" not in page.split("<style>", 1)[1]  # nothing loads from anywhere


def test_the_payload_keeps_the_engines_statistics_and_an_unknown_cost_unknown() -> None:
    cells = sample_cells()
    extras = [CellExtra(cost_known=c.model == LOCAL) for c in cells]
    data = ReportData(sample_summary(), cells, extras, cases={})
    payload = build_payload(data, "t")
    assert payload["F"] == list(CELL_FIELDS)
    F = {name: i for i, name in enumerate(payload["F"])}
    assert {
        c[F["cost_usd"]] for c in payload["cells"] if payload["cols"][c[F["col"]]][1] == REMOTE
    } == {None}
    groups = payload["summary"]["groups"]
    assert [g["pass_rate"] for g in groups] == [
        g.to_dict()["pass_rate"] for g in data.summary.groups
    ]
    assert {g["model"]: g["unknown_cost"] for g in groups} == {LOCAL: 0, REMOTE: 2}
    assert payload["summary"]["unknown_cost"] == 2
    by_model = {g["prompt"]: g for g in payload["by_model"]}
    assert by_model[LOCAL]["pass_at_k"] == groups[0]["pass_at_k"]
    assert by_model[REMOTE]["unknown_cost"] == 2
    # each text stored once: both repeats' answer share one entry
    assert payload["S"].count("Sure, we can refund you.") == 1


def test_the_payload_marks_what_changed_against_the_run_compared_with() -> None:
    cells = sample_cells()
    old = {
        ("run-0", cell_id(c)): replace(c, passed=not c.passed, output="before") for c in cells[:2]
    }
    comparison = Comparison(
        "run-0", "run-1", regressions=[cell_id(cells[0])], improvements=[cell_id(cells[2])]
    )
    comparison = replace(comparison, test=mcnemar_exact({1: True}, {1: False}))
    data = replace(_data(cells), comparisons=[comparison], before=old)
    payload = build_payload(data, "t")
    F = {name: i for i, name in enumerate(payload["F"])}
    changes = [c[F["change"]] for c in payload["cells"]]
    assert changes[0] == -1 and changes[2] == 1 and changes.count(0) == len(cells) - 2
    first = payload["cells"][0]
    assert payload["S"][payload["before"][first[F["before"]]][2]] == "before"
    assert payload["cells"][2][F["before"]] is None  # its old cell was not loaded
    assert payload["compare"][0]["test"]["regressions"] == 1


def test_cases_show_their_tags_and_where_they_are_defined_now() -> None:
    cells = sample_cells()
    info = CaseInfo("suites/support.suite.yaml:38", ("refunds", "vip"), {"q": 1}, "yes")
    data = replace(_data(cells), cases={(cells[0].suite, cells[0].case_key): info})
    payload = build_payload(data, "t")
    row = payload["rows"][0]
    S = payload["S"]
    assert [S[t] for t in row[5]] == ["refunds", "vip"]
    assert S[row[4]] == "suites/support.suite.yaml:38"
    assert json.loads(S[row[6]]) == {"q": 1} and json.loads(S[row[7]]) == "yes"
    assert payload["tags"] == ["refunds", "vip"]


def _big(n_cases: int, models: int, repeats: int) -> ReportData:
    system = "You are a careful support agent. " * 40  # ~1,300 characters, shared
    cells, extras = [], []
    for case in range(n_cases):
        for m in range(models):
            for r in range(repeats):
                ok = (case + m + r) % 7 != 0
                answer = f"Answer {case}/{m}/{r}: " + "we can refund the charge. " * 12
                cells.append(
                    CellResult(
                        suite="big",
                        prompt="support@2",
                        model=f"openai/model-{m}",
                        case_key=f"suites/big.suite.yaml#{case:08x}",
                        case_index=case,
                        case_source="suites/big.suite.yaml",
                        case_description=f"case number {case}",
                        repeat=r,
                        output=answer,
                        scores=(
                            Score("icontains", "icontains", 1.0, True, "found 'refund'"),
                            Score("g-eval", "g-eval", 0.8 if ok else 0.2, ok, f"judge: {case}"),
                        ),
                        score=1.0 if ok else 0.5,
                        passed=ok,
                        latency_ms=100.0 + case % 50,
                        tokens=420,
                        cost_usd=0.0004,
                    )
                )
                messages = (("system", system), ("user", f"Ticket {case}: I was charged twice"))
                extras.append(CellExtra(messages=messages, cost_known=m != 0, trace=f"{case:032x}"))
    return ReportData(summarize(cells, run_id="big"), cells, extras, cases={})


def test_a_20000_cell_report_stays_under_20_mb() -> None:
    data = _big(n_cases=2500, models=4, repeats=2)
    assert len(data.cells) == 20_000
    size = len(render_html(data).encode("utf-8"))
    assert size < 20_000_000, f"{size / 1e6:.1f} MB"


def test_a_page_past_its_size_cuts_its_longest_texts_and_says_so() -> None:
    cells = sample_cells()
    long = ["<" * 50_000, "é" * 80_000, "x" * 120_000]  # escaped, two-byte, plain
    cells = [replace(c, output=long[i % 3]) for i, c in enumerate(cells)]
    whole = render_html(_data(cells), title="t", max_bytes=10**9)
    assert _data_of(whole).get("clipped") is None
    page = render_html(_data(cells), title="t", max_bytes=200_000)
    assert len(page.encode("utf-8")) <= 200_000
    data = _data_of(page)
    assert data["clipped"] == 3
    S = data["S"]
    for text in long:
        (cut,) = [s for s in S if s.startswith(text[:10]) and "more characters" in s]
        kept = cut.split("\n… [", 1)[0]
        assert text.startswith(kept) and len(kept) > 1000
        assert f"{len(text) - len(kept)} more characters not shown" in cut
    # short texts stay whole
    assert "contains none of 'human, engineer'" in S and "support" in S


def test_a_run_of_long_answers_still_fits_cutting_the_answers_only() -> None:
    """The 20,000-cell case at a tenth of the scale: 2,000 answers of 3.6 kB, 2 MB at most."""
    data = _big(n_cases=500, models=2, repeats=2)
    answers = [replace(c, output=f"{i} " + "long answer " * 300) for i, c in enumerate(data.cells)]
    page = render_html(replace(data, cells=answers), max_bytes=2_000_000)
    assert len(page.encode("utf-8")) <= 2_000_000
    payload = _data_of(page)
    assert payload["clipped"] == 2_000  # every answer, and nothing else
    assert "icontains" in payload["S"]
    assert "You are a careful support agent. " * 40 in payload["S"]  # the prompt whole


def test_o_takes_the_format_from_the_extension(tmp_path: Path) -> None:
    found = outputs.targets(
        [tmp_path / "a.HTML", tmp_path / "b.xml", tmp_path / "c.md", tmp_path / "d.ndjson"],
        json=tmp_path / "flag.txt",
    )
    assert [(t.format, t.path.name) for t in found] == [
        ("json", "flag.txt"),
        ("html", "a.HTML"),
        ("junit", "b.xml"),
        ("markdown", "c.md"),
        ("jsonl", "d.ndjson"),
    ]
    with pytest.raises(
        UsageError, match=r"-o .*report\.csv: no report format has the extension '\.csv'"
    ):
        outputs.targets([tmp_path / "report.csv"])


def test_a_report_path_that_is_a_folder_is_refused_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "out.html").mkdir()
    with pytest.raises(UsageError, match="it is a folder"):
        outputs.prepare(outputs.targets([tmp_path / "out.html"]))
