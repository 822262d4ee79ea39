"""Who did what, where a user looks: versions' authors, moves' and approvals' actors,
ratings' actors (``prompts history``, ``prompts show``, the HTML report, the cell detail)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from promptdeck.core.workspace.workspace import Workspace
from promptdeck.paths import WorkspacePaths
from tests.conftest import no_git_identity
from tests.helpers import run_cli as run


def as_user(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Act as ``name`` from now on (PROMPTDECK_USER wins over git and the login)."""
    monkeypatch.setenv("PROMPTDECK_USER", name)


@pytest.fixture
def two_authors(
    demo_paths: WorkspacePaths, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> WorkspacePaths:
    """summarize v1 by alice, v2 by bob; production moved by bob, v2 approved by carol."""
    no_git_identity(monkeypatch)
    as_user(monkeypatch, "alice")
    pd(capsys, demo_paths, "prompts", "list")
    path = demo_paths.prompts / "summarize.prompt.yaml"
    path.write_text(path.read_text().replace("temperature: 0.2", "temperature: 0.4"))
    as_user(monkeypatch, "bob")
    assert pd(capsys, demo_paths, "prompts", "label", "summarize@2", "production")[0] == 0
    as_user(monkeypatch, "carol")
    assert pd(capsys, demo_paths, "prompts", "approve", "summarize@2", "--note", "ok")[0] == 0
    return demo_paths


def pd(
    capsys: pytest.CaptureFixture[str], paths: WorkspacePaths, *args: str
) -> tuple[int, str, str]:
    return run(capsys, "--workspace", str(paths.root), "--headless", *args)


def test_history_shows_each_versions_author_and_who_moved_and_approved(
    engine: object, two_authors: WorkspacePaths, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = pd(capsys, two_authors, "prompts", "history", "summarize", "--json")
    assert code == 0
    history = json.loads(out)
    assert [(v["version"], v["author"]) for v in history["versions"]] == [(2, "bob"), (1, "alice")]
    production = [m for m in history["label_moves"] if m["label"] == "production"]
    assert [(m["to"], m["by"]) for m in production] == [(2, "bob")]
    assert [(a["version"], a["by"]) for a in history["approvals"]] == [(2, "carol")]
    code, out, _ = pd(capsys, two_authors, "prompts", "history", "summarize")
    lines = out.splitlines()
    assert lines[1].split()[:4] == ["VERSION", "CREATED", "(UTC)", "AUTHOR"]
    rows = {line.split()[0]: line.split() for line in lines[2:4]}
    assert rows["v2"][3] == "bob" and rows["v1"][3] == "alice"
    moves = lines[lines.index("Label moves:") + 2 :]
    assert any(re.search(r"production\s+\(new\)\s+v2\s+bob", line) for line in moves)
    approvals = lines[lines.index("Approvals:") + 2 :]
    assert re.search(r"v2\s+approved\s+carol\s+ok", approvals[0])


def test_show_names_the_versions_author(
    two_authors: WorkspacePaths, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = pd(capsys, two_authors, "prompts", "show", "summarize@1")
    assert code == 0 and out.splitlines()[0].endswith("  by alice")
    code, out, _ = pd(capsys, two_authors, "prompts", "show", "summarize", "--json")
    assert (json.loads(out)["version"], json.loads(out)["author"]) == (2, "bob")


def test_a_version_without_an_author_shows_none(
    demo_paths: WorkspacePaths, capsys: pytest.CaptureFixture[str]
) -> None:
    """Versions recorded before m013 have no author: nothing is made up."""
    pd(capsys, demo_paths, "prompts", "list")
    from tests.pg import connect

    connect(demo_paths.database).execute("UPDATE prompt_version SET author = NULL")
    code, out, _ = pd(capsys, demo_paths, "prompts", "show", "summarize")
    assert code == 0 and " by " not in out.splitlines()[0]
    code, out, _ = pd(capsys, demo_paths, "prompts", "history", "summarize", "--json")
    assert [v["author"] for v in json.loads(out)["versions"]] == [None]


def test_ratings_name_who_rated_in_the_report_and_the_cell_detail(
    demo_paths: WorkspacePaths,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from promptdeck.core.evals.browse import cell_detail
    from promptdeck.store.tables import Feedback
    from tests.report_runs import make_runs

    no_git_identity(monkeypatch)
    runs = make_runs(demo_paths, monkeypatch, capsys)
    as_user(monkeypatch, "dana")
    rate = ["feedback", runs.second, "--case", "1", "--model", "local/smollm2-135m"]
    code, _, err = pd(capsys, demo_paths, *rate, "--thumbs", "up", "--comment", "fine")
    assert code == 0, err
    page = tmp_path / "r.html"
    assert pd(capsys, demo_paths, "report", runs.second, "--html", str(page))[0] == 0
    data = _data(page.read_text(encoding="utf-8"))
    fields = {name: i for i, name in enumerate(data["F"])}
    ratings = [r for c in data["cells"] for r in c[fields["ratings"]]]
    assert [(r[0], data["S"][r[2]], data["S"][r[4]]) for r in ratings] == [(1, "fine", "dana")]
    workspace = Workspace.open(demo_paths)
    try:
        with workspace.session() as session:
            (cell_id,) = [f.cell_id for f in session.exec(select(Feedback))]
        assert cell_id is not None
        detail = cell_detail(workspace, cell_id)
    finally:
        workspace.close()
    assert detail.feedback == ["👍 “fine” (by dana)"]


def _data(html: str) -> Any:
    found = re.search(
        r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S
    )
    assert found
    return json.loads(found.group(1))
