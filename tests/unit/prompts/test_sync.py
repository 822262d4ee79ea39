"""Syncing prompt files into immutable versions, without ever touching the files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlmodel import select

from promptdeck.core.workspace.workspace import Workspace
from promptdeck.store.tables import LabelEvent, PromptVersion
from tests.conftest import DEMO_PROMPTS

pytestmark = pytest.mark.usefixtures("engine")  # on SQLite and PostgreSQL


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _summary(ws: Workspace, name: str):  # type: ignore[no-untyped-def]
    return next(s for s in ws.prompt_summaries() if s.name == name)


def test_first_sync_makes_version_one_of_every_prompt(workspace: Workspace) -> None:
    report = workspace.sync()
    assert sorted(report.new_versions) == [(name, 1) for name in DEMO_PROMPTS]
    assert not report.errors
    summaries = workspace.prompt_summaries()
    assert [s.name for s in summaries] == DEMO_PROMPTS
    assert all(s.latest_version == 1 and s.labels == {"latest": 1} for s in summaries)


def test_same_content_makes_no_new_version(workspace: Workspace) -> None:
    workspace.sync()
    assert workspace.sync().new_versions == []


def test_edit_revert_and_labels(workspace: Workspace) -> None:
    workspace.sync()
    path = workspace.paths.prompts / "summarize.prompt.yaml"
    original = path.read_text()
    path.write_text(original.replace("temperature: 0.2", "temperature: 0.4"))
    assert workspace.sync().new_versions == [("summarize", 2)]
    assert _summary(workspace, "summarize").labels == {"latest": 2}
    # Reformatting only (a comment, key quoting) is the same content: no version.
    path.write_text("# tuned\n" + original.replace("temperature: 0.2", "'temperature': 0.4"))
    assert workspace.sync().new_versions == []
    # Going back to the first content reuses version 1 and moves `latest` back.
    path.write_text(original)
    assert workspace.sync().new_versions == []
    summary = _summary(workspace, "summarize")
    assert (summary.versions, summary.labels) == (2, {"latest": 1})
    with workspace.session() as session:
        moves = session.exec(select(LabelEvent).where(LabelEvent.label == "latest")).all()
        summarize_moves = [m for m in moves if m.prompt_id == moves[-1].prompt_id]
    assert len(summarize_moves) == 3
    assert all(m.created_at.tzinfo is not None for m in moves)


def test_a_broken_file_keeps_its_last_good_version(workspace: Workspace) -> None:
    workspace.sync()
    path = workspace.paths.prompts / "summarize.prompt.yaml"
    path.write_text("name: summarize\ntemplate: [oops\n")
    report = workspace.sync()
    assert [e.title.split(":")[0] for e in report.errors] == ["prompts/summarize.prompt.yaml"]
    summary = _summary(workspace, "summarize")
    assert summary.latest_version == 1
    assert summary.last_error and "invalid YAML" in summary.last_error
    assert path.read_text() == "name: summarize\ntemplate: [oops\n"


def test_a_new_broken_file_is_listed_with_its_error(workspace: Workspace) -> None:
    (workspace.paths.prompts / "draft.prompt.yaml").write_text("name: draft\n")
    workspace.sync()
    summary = _summary(workspace, "draft")
    assert summary.versions == 0
    assert summary.last_error and "template" in summary.last_error


def test_deleting_or_renaming_a_file_never_deletes_versions(workspace: Workspace) -> None:
    workspace.sync()
    (workspace.paths.prompts / "truthful-qa.prompt.yaml").unlink()
    report = workspace.sync()
    assert report.missing == ["truthful-qa"]
    summary = _summary(workspace, "truthful-qa")
    assert (summary.file_present, summary.versions) == (False, 1)
    with workspace.session() as session:
        assert len(session.exec(select(PromptVersion)).all()) == len(DEMO_PROMPTS)


def test_duplicate_names_are_reported(workspace: Workspace) -> None:
    folder = workspace.paths.prompts
    (folder / "copy.prompt.yaml").write_text((folder / "summarize.prompt.yaml").read_text())
    report = workspace.sync()
    assert any("does not match the file name" in e.title for e in report.errors)


def test_sync_never_writes_the_users_files(workspace: Workspace) -> None:
    before = _digest(workspace.paths.prompts)
    workspace.sync()
    workspace.sync()
    assert _digest(workspace.paths.prompts) == before


def test_unchanged_files_are_not_parsed_again(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import promptdeck.core.prompts.sync as sync

    workspace.sync()
    parsed: list[str] = []
    real = sync.load_prompt

    def counting(text: str, path: Path | str):  # type: ignore[no-untyped-def]
        parsed.append(str(path))
        return real(text, path)

    monkeypatch.setattr(sync, "load_prompt", counting)
    assert not workspace.sync().changed
    assert parsed == []
    path = workspace.paths.prompts / "summarize.prompt.yaml"
    original = path.read_text()
    path.write_text(original.replace("temperature: 0.2", "temperature: 0.4"))
    assert workspace.sync().new_versions == [("summarize", 2)]
    assert parsed == ["prompts/summarize.prompt.yaml"]
    # A broken file is parsed (and reported) at every sync until it is fixed.
    path.write_text("name: summarize\ntemplate: [oops\n")
    assert len(workspace.sync().errors) == 1
    assert len(workspace.sync().errors) == 1
    path.write_text(original)
    report = workspace.sync()
    assert (report.errors, report.new_versions) == ([], [])
    assert _summary(workspace, "summarize").labels == {"latest": 1}
    assert _summary(workspace, "summarize").last_error is None


def test_a_deleted_file_put_back_is_present_again(workspace: Workspace) -> None:
    workspace.sync()
    path = workspace.paths.prompts / "truthful-qa.prompt.yaml"
    text = path.read_text()
    path.unlink()
    assert workspace.sync().missing == ["truthful-qa"]
    path.write_text(text)
    report = workspace.sync()
    assert (report.missing, report.new_versions) == ([], [])
    assert _summary(workspace, "truthful-qa").file_present
