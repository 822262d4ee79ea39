"""CLI of the registry: history, show, diff, label, approve, export; outputs and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptdeck.errors import ExitCode
from tests.conftest import no_git_identity
from tests.helpers import run_cli as run


@pytest.fixture
def ws(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    run(capsys, "init", str(tmp_path / "w"))
    path = tmp_path / "w" / "prompts" / "summarize.prompt.yaml"
    path.write_text(path.read_text().replace("temperature: 0.2", "temperature: 0.4"))
    return tmp_path / "w"


def pd(capsys: pytest.CaptureFixture[str], ws: Path, *args: str) -> tuple[int, str, str]:
    return run(capsys, "--workspace", str(ws), "--headless", *args)


def test_history_show_and_diff(capsys: pytest.CaptureFixture[str], ws: Path) -> None:
    code, out, _ = pd(capsys, ws, "prompts", "history", "summarize")
    assert code == 0
    assert out.splitlines()[0] == "summarize: prompts/summarize.prompt.yaml"
    assert [line.split()[0] for line in out.splitlines()[2:4]] == ["v2", "v1"]
    code, out, _ = pd(capsys, ws, "prompts", "show", "summarize@1")
    assert code == 0 and "temperature: 0.2" in out and out.startswith("# summarize@1")
    code, out, _ = pd(capsys, ws, "prompts", "diff", "summarize", "1", "2")
    assert code == 0 and "-  temperature: 0.2\n+  temperature: 0.4" in out
    code, out, _ = pd(capsys, ws, "prompts", "diff", "summarize", "2", "latest")
    assert code == 0 and "same content" in out


def test_show_renders_with_vars(capsys: pytest.CaptureFixture[str], ws: Path) -> None:
    code, out, _ = pd(
        capsys, ws, "prompts", "show", "summarize", "--var", "text=Cats nap.", "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["messages"][-1]["content"].endswith('"""\nCats nap.\n"""')
    code, _, err = pd(capsys, ws, "prompts", "show", "summarize", "--var", "txt=Cats")
    assert code == ExitCode.USAGE and "did you mean 'text'?" in err
    code, _, err = pd(capsys, ws, "prompts", "show", "summarize", "--var", "novalue")
    assert code == ExitCode.USAGE and "is not KEY=VALUE" in err


def test_label_approve_export_flow(
    capsys: pytest.CaptureFixture[str], ws: Path, tmp_path: Path
) -> None:
    code, out, _ = pd(capsys, ws, "prompts", "label", "summarize@2", "production", "--note", "x")
    assert (code, out.strip()) == (0, "summarize: production (new) → v2")
    code, out, _ = pd(capsys, ws, "prompts", "label", "summarize@1", "production")
    assert out.strip() == "summarize: production v2 → v1"
    reg = tmp_path / "reg"
    code, _, err = pd(capsys, ws, "export", "--to", str(reg))
    assert code == ExitCode.CHECK_FAILED and "not approved: summarize@1" in err
    code, out, _ = pd(capsys, ws, "prompts", "approve", "summarize@1", "--json")
    assert code == 0 and json.loads(out)["new"] is True
    code, out, _ = pd(capsys, ws, "export", "--to", str(reg), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["exported"] == [{"name": "summarize", "version": 1}]
    code, out, _ = pd(capsys, ws, "export", "--to", str(reg), "--json")
    assert json.loads(out)["written"] == []


def test_history_json_has_the_notes_approvals_and_who(
    capsys: pytest.CaptureFixture[str], ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_git_identity(monkeypatch)
    monkeypatch.setattr("getpass.getuser", lambda: "alice")
    code, out, _ = pd(capsys, ws, "prompts", "label", "summarize@1", "production", "--note", "ok")
    assert code == 0
    code, out, _ = pd(capsys, ws, "prompts", "label", "summarize@1", "production", "--json")
    assert json.loads(out)["note"] is None and json.loads(out)["from"] == 1
    pd(capsys, ws, "prompts", "approve", "summarize@1", "--note", "reviewed by legal")
    code, out, _ = pd(capsys, ws, "prompts", "history", "summarize", "--json")
    history = json.loads(out)
    v1 = next(v for v in history["versions"] if v["version"] == 1)
    assert v1["note"] == "reviewed by legal" and v1["approved"]
    assert v1["approval"]["note"] == "reviewed by legal" and v1["approval"]["by"] == "alice"
    production = [m for m in history["label_moves"] if m["label"] == "production"]
    assert [(m["to"], m["note"], m["by"]) for m in production] == [(1, "ok", "alice")]
    assert [(a["version"], a["action"], a["note"]) for a in history["approvals"]] == [
        (1, "approved", "reviewed by legal")
    ]
    code, out, _ = pd(capsys, ws, "prompts", "history", "summarize")
    assert "Approvals:" in out and "reviewed by legal" in out
    assert any(
        line.split()[2:4] == ["production", "(new)"] and "ok" in line for line in out.splitlines()
    )


def test_unapprove_is_recorded_and_export_leaves_the_version_out(
    capsys: pytest.CaptureFixture[str], ws: Path, tmp_path: Path
) -> None:
    pd(capsys, ws, "prompts", "label", "summarize@1", "production")
    pd(capsys, ws, "prompts", "approve", "summarize@1")
    code, out, _ = pd(capsys, ws, "prompts", "unapprove", "summarize@1", "--note", "too long")
    assert code == 0 and out.splitlines()[0] == "Revoked the approval of summarize@1."
    assert "production still points at v1" in out
    code, out, _ = pd(capsys, ws, "prompts", "unapprove", "summarize@1", "--json")
    assert code == 0 and json.loads(out)["revoked"] is False
    code, _, err = pd(capsys, ws, "export", "--to", str(tmp_path / "reg"))
    assert code == ExitCode.CHECK_FAILED and "summarize@1 (approval revoked)" in err
    code, out, _ = pd(capsys, ws, "prompts", "history", "summarize", "--json")
    actions = [(a["action"], a["note"]) for a in json.loads(out)["approvals"]]
    assert actions == [("revoked", "too long"), ("approved", None)]
    pd(capsys, ws, "prompts", "approve", "summarize@2")
    code, out, _ = pd(capsys, ws, "prompts", "list", "--json")
    listed = {p["name"]: p for p in json.loads(out)}
    assert listed["summarize"]["approved"] == [2]


def test_diff_json(capsys: pytest.CaptureFixture[str], ws: Path) -> None:
    code, out, _ = pd(capsys, ws, "prompts", "diff", "summarize", "1", "latest", "--json")
    data = json.loads(out)
    assert code == 0 and (data["from"], data["to"], data["same"]) == (1, 2, False)
    assert "+  temperature: 0.4" in data["diff"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("prompts", "show", "nope"), ExitCode.USAGE, "no prompt named 'nope'"),
        (("prompts", "show", "summarize@9"), ExitCode.USAGE, "has no version 9"),
        (("prompts", "show", "Bad Ref"), ExitCode.USAGE, "is not a prompt reference"),
        (("prompts", "label", "summarize@1", "latest"), ExitCode.USAGE, "cannot be moved"),
        (("prompts", "history", "nope"), ExitCode.USAGE, "no prompt named"),
        (("prompts", "unapprove", "summarize@9"), ExitCode.USAGE, "has no version 9"),
        (("export", "--label", "gold"), ExitCode.USAGE, "no prompt has the label 'gold'"),
    ],
)
def test_mistakes(
    capsys: pytest.CaptureFixture[str], ws: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    got, _, err = pd(capsys, ws, *args)
    assert got == code and message in err and "Traceback" not in err
