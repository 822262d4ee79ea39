"""Exports that can be trusted: no secret goes out, signatures, Langfuse kept apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptdeck import registry
from promptdeck.errors import ExitCode
from tests.helpers import run_cli

LEAKED = "sk-proj-Abc123def456ghi789jkl012mno345"
"""An OpenAI-shaped key pasted into a prompt."""


@pytest.fixture
def ws(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    run_cli(capsys, "init", str(tmp_path / "w"))
    return tmp_path / "w"


def pd(capsys: pytest.CaptureFixture[str], ws: Path, *args: str) -> tuple[int, str, str]:
    return run_cli(capsys, "--workspace", str(ws), "--headless", *args)


def _paste_key(ws: Path) -> None:
    path = ws / "prompts" / "summarize.prompt.yaml"
    path.write_text(path.read_text().replace("You write", f"Use key {LEAKED}. You write"))


def test_a_version_holding_a_secret_is_not_approved_or_labelled(
    capsys: pytest.CaptureFixture[str], ws: Path
) -> None:
    _paste_key(ws)
    code, out, _ = pd(capsys, ws, "prompts", "lint", "summarize")
    assert code != 0 and "secret" in out + capsys.readouterr().err
    for args, verb in (
        (("prompts", "approve", "summarize@2"), "approved"),
        (("prompts", "label", "summarize@2", "production"), "labelled"),
    ):
        code, out, err = pd(capsys, ws, *args)
        assert code == ExitCode.USAGE
        first = err.splitlines()[0]
        assert first == (
            f"error: summarize@2 contains a secret (OPENAI_API_KEY); it cannot be {verb}"
        )
        assert LEAKED not in out + err and LEAKED[:12] not in out + err
    code, out, _ = pd(capsys, ws, "prompts", "history", "summarize", "--json")
    assert "production" not in out


def test_a_secret_already_behind_a_label_is_not_exported(
    capsys: pytest.CaptureFixture[str], ws: Path, tmp_path: Path
) -> None:
    _paste_key(ws)
    pd(capsys, ws, "prompts", "list")  # sync: summarize@2 holds the key
    from promptdeck.core.workspace.workspace import Workspace
    from promptdeck.paths import WorkspacePaths
    from promptdeck.store import approvals_repo, prompts_repo

    # Labelled and approved before the gate existed (straight through the store).
    workspace = Workspace.open(WorkspacePaths(ws))
    try:
        with workspace.session() as session:
            prompt = prompts_repo.get_prompt(session, "summarize")
            assert prompt is not None and prompt.id is not None
            version = prompts_repo.get_version(session, prompt.id, 2)
            assert version is not None and version.id is not None
            prompts_repo.move_label(session, prompt.id, "production", version.id)
            approvals_repo.approve(session, prompt.id, version.id)
            session.commit()
    finally:
        workspace.close()
    for fmt in ("native", "langfuse"):
        reg = tmp_path / f"reg-{fmt}"
        code, out, err = pd(capsys, ws, "export", "--to", str(reg), "--format", fmt)
        assert code == ExitCode.USAGE, err
        assert err.splitlines()[0] == (
            "error: summarize@2 contains a secret (OPENAI_API_KEY); it cannot be exported"
        )
        assert LEAKED not in out + err
        assert not reg.exists()


def _release(capsys: pytest.CaptureFixture[str], ws: Path) -> None:
    for args in (
        ("prompts", "label", "summarize@1", "production"),
        ("prompts", "approve", "summarize@1"),
    ):
        assert pd(capsys, ws, *args)[0] == 0


def test_keygen_and_a_signed_export(
    capsys: pytest.CaptureFixture[str], ws: Path, tmp_path: Path
) -> None:
    _release(capsys, ws)
    key = tmp_path / "release.key"
    code, out, err = pd(capsys, ws, "keygen", str(key))
    assert code == 0 and "keep it secret" in err
    public = out.strip()
    assert (tmp_path / "release.key.pub").read_text().strip() == public
    assert key.stat().st_mode & 0o777 == 0o600
    code, _, err = pd(capsys, ws, "keygen", str(key))
    assert code == ExitCode.USAGE and "already exists" in err
    reg = tmp_path / "reg"
    code, out, _ = pd(capsys, ws, "export", "--to", str(reg), "--sign", str(key), "--json")
    assert code == 0 and json.loads(out)["signed_by"] == public
    assert registry.load(reg, "summarize", public_key=public).version == 1
    # Unsigned again: the stale signature goes, and a reader that wants one refuses.
    code, out, _ = pd(capsys, ws, "export", "--to", str(reg), "--json")
    assert json.loads(out)["removed"] == [registry.SIGNATURE_FILE]
    with pytest.raises(registry.TamperedError, match="not signed"):
        registry.load(reg, "summarize", public_key=public)
    (tmp_path / "not-a-key").write_text("hello")
    code, _, err = pd(capsys, ws, "export", "--to", str(reg), "--sign", str(tmp_path / "not-a-key"))
    assert code == ExitCode.USAGE and "not-a-key is not an unencrypted PEM private key" in err


def test_a_langfuse_export_into_the_same_folder_leaves_the_native_reader_alone(
    capsys: pytest.CaptureFixture[str], ws: Path, tmp_path: Path
) -> None:
    _release(capsys, ws)
    reg = tmp_path / "reg"
    assert pd(capsys, ws, "export", "--to", str(reg))[0] == 0
    native = {p: p.read_bytes() for p in reg.rglob("*") if p.is_file()}
    code, out, _ = pd(capsys, ws, "export", "--to", str(reg), "--format", "langfuse", "--json")
    assert code == 0
    assert sorted(json.loads(out)["written"]) == [
        "langfuse/index.json",
        "langfuse/manifest.json",
        "langfuse/summarize.v1.json",
    ]
    assert {p: p.read_bytes() for p in native} == native  # not one native byte changed
    assert registry.load(reg, "summarize").version == 1
    # And back: a native export neither lists nor removes the Langfuse files.
    code, out, _ = pd(capsys, ws, "export", "--to", str(reg), "--json")
    assert json.loads(out)["written"] == [] and json.loads(out)["removed"] == []
    assert (reg / "langfuse" / "summarize.v1.json").is_file()
    manifest = json.loads((reg / "manifest.json").read_text())
    assert sorted(manifest["files"]) == ["index.json", "prompts/summarize/v1.json"]


def test_moving_a_label_rewrites_the_files_labels_and_drops_unlabelled_versions(
    capsys: pytest.CaptureFixture[str], ws: Path, tmp_path: Path
) -> None:
    path = ws / "prompts" / "summarize.prompt.yaml"
    path.write_text(path.read_text().replace("You write", "You always write"))
    for args in (
        ("prompts", "label", "summarize@1", "production"),
        ("prompts", "label", "summarize@1", "staging"),
        ("prompts", "approve", "summarize@1"),
        ("prompts", "approve", "summarize@2"),
    ):
        assert pd(capsys, ws, *args)[0] == 0
    reg = tmp_path / "reg"
    assert pd(capsys, ws, "export", "--to", str(reg), "--label", "staging")[0] == 0
    assert pd(capsys, ws, "export", "--to", str(reg))[0] == 0
    v1 = reg / "prompts" / "summarize" / "v1.json"
    assert json.loads(v1.read_text())["labels"] == ["production", "staging"]
    assert pd(capsys, ws, "prompts", "label", "summarize@2", "production")[0] == 0
    code, out, _ = pd(capsys, ws, "export", "--to", str(reg), "--json")
    assert code == 0 and "prompts/summarize/v1.json" in json.loads(out)["written"]
    assert json.loads(v1.read_text())["labels"] == ["staging"]
    assert registry.load(reg, "summarize").version == 2
    assert registry.load(reg, "summarize", "staging").version == 1
    assert pd(capsys, ws, "prompts", "label", "summarize@2", "staging")[0] == 0
    code, out, _ = pd(capsys, ws, "export", "--to", str(reg), "--label", "staging", "--json")
    assert json.loads(out)["removed"] == ["prompts/summarize/v1.json"]
