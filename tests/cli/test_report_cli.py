"""`promptdeck report` and `eval -o`: reports of stored runs, formats by extension."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

from promptdeck.errors import ExitCode
from promptdeck.paths import WorkspacePaths
from tests.helpers import run_cli as run
from tests.report_runs import HOSTILE, UNPRICED, Runs, make_runs


def _data(page: str) -> dict:
    found = re.search(
        r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S
    )
    assert found
    return json.loads(found.group(1))


@pytest.fixture
def runs(
    demo_paths: WorkspacePaths, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Runs:
    return make_runs(demo_paths, monkeypatch, capsys)


def test_report_writes_a_stored_run_as_html_without_running_it(
    capsys: pytest.CaptureFixture[str], runs: Runs, tmp_path: Path
) -> None:
    out = tmp_path / "r" / "report.html"
    code, _, err = run(capsys, *runs.args, "report", runs.second, "--html", str(out))
    assert code == ExitCode.OK, err
    page = out.read_text()
    data = _data(page)
    assert len(data["cells"]) == 20
    assert len(data["rows"]) == 5 and len(data["cols"]) == 2
    assert data["summary"]["run_id"] == runs.second
    F = {name: i for i, name in enumerate(data["F"])}
    S = data["S"]
    # the unpriced model's cost is unknown (null, shown as $?), the local model's is 0
    costs = {
        (data["cols"][c[F["col"]]][1], c[F["status"]]): c[F["cost_usd"]] for c in data["cells"]
    }
    assert costs[(UNPRICED, "p")] is None
    assert costs[("local/smollm2-135m", "p")] == 0
    assert data["summary"]["unknown_cost"] > 0
    # each cell's rendered prompt is there, ending with its case's ticket
    for c in data["cells"]:
        ticket = json.loads(S[data["rows"][c[F["row"]]][6]])["ticket"]
        role, content = data["P"][c[F["messages"]]][-1]
        assert (S[role], S[content]) == ("user", f"Ticket: {ticket}")
    # changed since the blessed baseline: one regression and one improvement, each repeat
    changes = sorted(c[F["change"]] for c in data["cells"] if c[F["change"]])
    assert changes == [-1, -1, 1, 1]
    assert data["compare"][0]["before"] == runs.first
    assert data["compare"][0]["test"]["p_value"] == pytest.approx(1.0)
    # tags from the suite file
    assert data["tags"] == ["auth", "bugs", "money", "shipping"]
    # statistics come from the engine's summary, not recomputed by the page
    assert data["summary"]["groups"][0]["pass_rate"]["low"] > 0
    assert data["by_model"][0]["repeats"] == 2


def test_report_compare_names_the_run_to_compare_with(
    capsys: pytest.CaptureFixture[str], runs: Runs, tmp_path: Path
) -> None:
    out = tmp_path / "c.html"
    code, _, err = run(
        capsys, *runs.args, "report", runs.first, "--compare", runs.second, "-o", str(out)
    )
    assert code == ExitCode.OK, err
    data = _data(out.read_text())
    F = {name: i for i, name in enumerate(data["F"])}
    assert data["compare"][0]["before"] == runs.second
    assert data["compare"][0]["after"] == runs.first
    # seen from the first run, the second's regressions are improvements and back
    assert data["compare"][0]["regressions"] == 2 and data["compare"][0]["improvements"] == 2
    before = [data["before"][c[F["before"]]] for c in data["cells"] if c[F["before"]] is not None]
    assert {data["S"][b[2]] for b in before} == {"refund", "account"}


def test_an_answer_holding_markup_never_appears_as_markup(
    capsys: pytest.CaptureFixture[str], runs: Runs, tmp_path: Path
) -> None:
    out = tmp_path / "r.html"
    run(capsys, *runs.args, "report", runs.first, "--html", str(out))
    page = out.read_text()
    assert HOSTILE not in page
    assert "<script>window" not in page and "<img" not in page
    assert page.count("</script>") == 2  # the data element and the page's own script
    assert HOSTILE in _data(page)["S"]  # yet the answer is all there, as data


def test_o_takes_the_format_from_the_extension_and_the_old_flags_still_work(
    capsys: pytest.CaptureFixture[str], runs: Runs, tmp_path: Path
) -> None:
    o = tmp_path / "o"
    code, _, err = run(
        capsys,
        *runs.args,
        "report",
        runs.first,
        "-o",
        str(o / "r.HTML"),
        "-o",
        str(o / "r.json"),
        "-o",
        str(o / "r.jsonl"),
        "-o",
        str(o / "junit.xml"),
        "-o",
        str(o / "summary.md"),
        "--markdown",
        str(o / "old.txt"),
    )
    assert code == ExitCode.OK, err
    assert _data((o / "r.HTML").read_text())["summary"]["cells"] == 20
    assert json.loads((o / "r.json").read_text())["summary"]["cells"] == 20
    assert len((o / "r.jsonl").read_text().splitlines()) == 20
    assert ElementTree.parse(o / "junit.xml").getroot().get("tests") == "20"
    assert (o / "summary.md").read_text().startswith("## promptdeck eval")
    assert (o / "old.txt").read_text() == (o / "summary.md").read_text()


def test_eval_writes_html_and_o_reports(
    capsys: pytest.CaptureFixture[str], runs: Runs, tmp_path: Path
) -> None:
    o = tmp_path / "e"
    code, _, err = run(
        capsys,
        *runs.args,
        "eval",
        "rich",
        "--html",
        str(o / "a.html"),
        "-o",
        str(o / "b.xml"),
        "-o",
        str(o / "c.jsonl"),
        "--jsonl",
        str(o / "streamed.jsonl"),
    )
    assert code == ExitCode.CHECK_FAILED, err
    data = _data((o / "a.html").read_text())
    assert len(data["cells"]) == 20
    assert data["compare"][0]["before"] == runs.first  # against the suite's baseline
    assert ElementTree.parse(o / "b.xml").getroot().get("tests") == "20"

    def cells(name: str) -> list[tuple[str, str, int, str, str | None]]:
        lines = (o / name).read_text().splitlines()
        return sorted(
            (d["case_key"], d["model"], d["repeat"], d["status"], d["output"])
            for d in map(json.loads, lines)
        )

    assert len(cells("c.jsonl")) == 20
    assert cells("c.jsonl") == cells("streamed.jsonl")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "report.txt"], "no report format has the extension '.txt'"),
        (["-o", "report"], "no report format has the extension '(none)'"),
        ([], "no report asked for"),
    ],
)
def test_report_usage_errors_are_one_line(
    capsys: pytest.CaptureFixture[str],
    demo_paths: WorkspacePaths,
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    ws = ["--headless", "--workspace", str(demo_paths.root)]
    code, _, err = run(
        capsys, *ws, "report", "nope", *[a if a == "-o" else str(tmp_path / a) for a in args]
    )
    assert code == ExitCode.USAGE, err
    assert message in err and "Traceback" not in err


def test_report_of_an_unknown_run_says_so(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths, tmp_path: Path
) -> None:
    ws = ["--headless", "--workspace", str(demo_paths.root)]
    code, _, err = run(capsys, *ws, "report", "nope", "--html", str(tmp_path / "r.html"))
    assert code == ExitCode.USAGE, err
    assert "no run 'nope'" in err
    assert not (tmp_path / "r.html").exists()


def test_eval_refuses_an_unknown_extension_before_running(
    capsys: pytest.CaptureFixture[str], demo_paths: WorkspacePaths, tmp_path: Path
) -> None:
    ws = ["--headless", "--workspace", str(demo_paths.root)]
    code, _, err = run(capsys, *ws, "eval", "classify-ticket", "-o", str(tmp_path / "r.pdf"))
    assert code == ExitCode.USAGE
    assert "'.pdf'" in err and "cells" not in err


def test_several_runs_stand_side_by_side_each_against_its_own_baseline(
    capsys: pytest.CaptureFixture[str], runs: Runs, tmp_path: Path
) -> None:
    out = tmp_path / "two.html"
    # The shortest prefix of the second run's id that is not also the first's: both
    # runs may start within one second, so their ids can share the date, time and more.
    size = next(
        n for n in range(17, len(runs.second) + 1) if not runs.first.startswith(runs.second[:n])
    )
    code, _, err = run(
        capsys, *runs.args, "report", runs.first, runs.second[:size], runs.first, "-o", str(out)
    )
    assert code == ExitCode.OK, err
    data = _data(out.read_text())
    F = {name: i for i, name in enumerate(data["F"])}
    assert len(data["cells"]) == 40  # each run once, though named twice
    assert len(data["rows"]) == 5
    assert sorted({c[2] for c in data["cols"]}) == sorted([runs.first, runs.second])
    # the first run is the baseline itself: only the second run's cells changed
    changed = {data["cols"][c[F["col"]]][2] for c in data["cells"] if c[F["change"]]}
    assert changed == {runs.second}
    assert [c["after"] for c in data["compare"]] == [runs.second]


def test_eval_of_two_suites_writes_one_page_and_ratings_and_cache_show(
    capsys: pytest.CaptureFixture[str], runs: Runs, demo_paths: WorkspacePaths, tmp_path: Path
) -> None:
    from tests.helpers import MINI_SUITE

    (demo_paths.suites / "mini.suite.yaml").write_text(MINI_SUITE)
    code, _, err = run(
        capsys,
        *runs.args,
        "feedback",
        runs.second,
        "--case",
        "1",
        "--model",
        "local/smollm2-135m",
        "--thumbs",
        "down",
        "--comment",
        "<b>wrong</b> & rude",
    )
    assert code == ExitCode.OK, err
    rated = tmp_path / "rated.html"
    run(capsys, *runs.args, "report", runs.second, "--html", str(rated))
    data = _data(rated.read_text())
    F = {name: i for i, name in enumerate(data["F"])}
    ratings = [r for c in data["cells"] for r in c[F["ratings"]]]
    assert ratings and all(r[0] == -1 and data["S"][r[2]] == "<b>wrong</b> & rude" for r in ratings)
    out = tmp_path / "both.html"
    code, _, err = run(capsys, *runs.args, "eval", "rich", "mini", "-o", str(out))
    assert code == ExitCode.CHECK_FAILED, err
    data = _data(out.read_text())
    F = {name: i for i, name in enumerate(data["F"])}
    assert {data["S"][r[0]] for r in data["rows"]} == {"rich", "mini"}
    assert len(data["cells"]) == 22
    # this time the answers came from the cache the earlier runs filled
    rich = [c for c in data["cells"] if data["S"][data["rows"][c[F["row"]]][0]] == "rich"]
    answered = [c for c in rich if c[F["status"]] != "e"]
    assert {c[F["cache"]] for c in answered} == {"exact"}
