"""Who acts: PROMPTDECK_USER, else git's user.name in the workspace, else the login name;
recorded on label moves, approvals, ratings and new versions, on both engines."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlmodel import select

from promptdeck.core.prompts.approvals import approve_version, unapprove_version
from promptdeck.core.prompts.versions import move_label
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.identity import current_actor
from promptdeck.store import approvals_repo, prompts_repo
from promptdeck.store.feedback_repo import add_feedback
from promptdeck.store.tables import CompletionRow, Feedback, LabelEvent, PromptVersion
from tests.conftest import no_git_identity


def _git_repo(root: Path, name: str) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "config", "user.name", name], check=True)


@pytest.fixture(autouse=True)
def _login_is_carol(monkeypatch: pytest.MonkeyPatch) -> None:
    no_git_identity(monkeypatch)
    monkeypatch.setattr("getpass.getuser", lambda: "carol")


def test_the_variable_wins_over_git_and_the_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _git_repo(tmp_path / "a", "Alice Git")
    monkeypatch.setenv("PROMPTDECK_USER", "  Bob\n  Builder ")
    assert current_actor(tmp_path / "a") == "Bob Builder"
    monkeypatch.setenv("PROMPTDECK_USER", "")
    assert current_actor(tmp_path / "a") == "Alice Git"
    assert current_actor(tmp_path) == "carol"  # not a repository, no global name


def test_git_is_asked_in_the_workspace_not_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _git_repo(tmp_path / "w", "Dora")
    _git_repo(tmp_path / "elsewhere", "Eve")
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert current_actor(tmp_path / "w" / "sub" / "..") == "Dora"
    assert current_actor() == "Eve"


def test_without_git_on_path_the_login_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _git_repo(tmp_path / "w", "Frank")
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    assert current_actor(tmp_path / "w" / ".") == "carol"


@pytest.mark.usefixtures("engine")
def test_moves_approvals_ratings_and_versions_record_who(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    _git_repo(workspace.paths.root, "Grace Hopper")
    workspace.sync()  # versions are synced by Grace
    monkeypatch.setenv("PROMPTDECK_USER", "heidi")
    with workspace.session() as session:
        move_label(session, "summarize@1", "production")
        approve_version(session, workspace.paths, workspace.config, "summarize@1")
    monkeypatch.setenv("PROMPTDECK_USER", "ivan")
    with workspace.session() as session:
        unapprove_version(session, "summarize@1")
        completion = CompletionRow(request_hash="h", model="m", text="answer")
        session.add(completion)
        session.flush()
        assert completion.id is not None
        add_feedback(session, completion.id, thumbs=1)
    with workspace.session() as session:
        prompt = prompts_repo.get_prompt(session, "summarize")
        assert prompt is not None and prompt.id is not None
        authors = session.exec(select(PromptVersion.author)).all()
        moves = session.exec(select(LabelEvent.label, LabelEvent.actor)).all()
        events = approvals_repo.approval_events(session, prompt.id)
        ratings = session.exec(select(Feedback.actor)).all()
    assert set(authors) == {"Grace Hopper"}
    assert ("production", "heidi") in moves
    assert [(e.action, e.actor) for e in events] == [("revoked", "ivan"), ("approved", "heidi")]
    assert ratings == ["ivan"]
