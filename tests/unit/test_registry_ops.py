"""Labels, history, diff and approval on stored versions."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from promptdeck.config import ApprovalConfig, WorkspaceConfig
from promptdeck.core.registry_ops import (
    approve_version,
    diff_versions,
    move_label,
    prompt_history,
    suites_using,
)
from promptdeck.core.workspace import Workspace
from promptdeck.errors import CheckFailedError, NotFoundError, UsageError
from promptdeck.store.tables import Run, RunCell


def _two_versions(workspace: Workspace) -> None:
    workspace.sync()
    path = workspace.paths.prompts / "summarize.prompt.yaml"
    path.write_text(path.read_text().replace("temperature: 0.2", "temperature: 0.4"))
    workspace.sync()


def test_label_moves_are_recorded_and_rollback_is_a_move(workspace: Workspace) -> None:
    _two_versions(workspace)
    with workspace.session() as session:
        assert move_label(session, "summarize@1", "production", "first").from_version is None
        move = move_label(session, "summarize@2", "production", "warmer")
        assert (move.from_version, move.to_version) == (1, 2)
        back = move_label(session, "summarize@1", "production", "rollback")
        assert (back.from_version, back.to_version) == (2, 1)
        history = prompt_history(session, "summarize")
    assert [v.version for v in history.versions] == [2, 1]
    assert history.versions[1].labels == ["production"]
    assert history.versions[0].labels == ["latest"]
    production = [m for m in history.moves if m.label == "production"]
    assert [(m.from_version, m.to_version, m.note) for m in production] == [
        (2, 1, "rollback"),
        (1, 2, "warmer"),
        (None, 1, "first"),
    ]


def test_moving_a_label_to_where_it_is_records_nothing(workspace: Workspace) -> None:
    workspace.sync()
    with workspace.session() as session:
        move_label(session, "summarize@1", "staging")
        move_label(session, "summarize@1", "staging")
        moves = [m for m in prompt_history(session, "summarize").moves if m.label == "staging"]
    assert len(moves) == 1


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("latest", "follows the prompt file"),
        ("3", "not a valid label"),
        ("a b", "not a valid label"),
    ],
)
def test_bad_labels(workspace: Workspace, label: str, message: str) -> None:
    workspace.sync()
    with workspace.session() as session, pytest.raises(UsageError, match=message):
        move_label(session, "summarize@1", label)


def test_diff_by_version_and_label(workspace: Workspace) -> None:
    _two_versions(workspace)
    with workspace.session() as session:
        move_label(session, "summarize@1", "production")
        diff = diff_versions(session, "summarize", "production", "2")
        assert diff_versions(session, "summarize", "1", "production") == ""
    assert diff.startswith("--- summarize@1\n+++ summarize@2\n")
    assert "-  temperature: 0.2\n+  temperature: 0.4\n" in diff


def test_approval_is_recorded_once(workspace: Workspace) -> None:
    workspace.sync()
    with workspace.session() as session:
        first = approve_version(session, workspace.paths, workspace.config, "summarize@1", "ok")
        again = approve_version(session, workspace.paths, workspace.config, "summarize@1")
        assert (first.created, again.created, again.note) == (True, False, "ok")
        assert prompt_history(session, "summarize").versions[0].approved


def test_approval_requires_passing_suites_when_configured(workspace: Workspace) -> None:
    workspace.sync()
    strict = WorkspaceConfig(approval=ApprovalConfig(require_passing_suites=True))
    assert suites_using(workspace.paths, "summarize") == ["summarize"]
    with workspace.session() as session:
        with pytest.raises(CheckFailedError, match="suite 'summarize' has no finished run"):
            approve_version(session, workspace.paths, strict, "summarize@1")
        version_id = _version_id(session, "summarize")
        _run(session, "summarize", version_id, failed=1, uid="r-bad")
        with pytest.raises(CheckFailedError):
            approve_version(session, workspace.paths, strict, "summarize@1")
        _run(session, "summarize", version_id, failed=0, uid="r-good")
        info = approve_version(session, workspace.paths, strict, "summarize@1")
    assert info.evidence == ["r-good"]


def test_approval_without_any_suite_is_refused_when_evidence_is_required(
    workspace: Workspace,
) -> None:
    (workspace.paths.prompts / "haiku.prompt.yaml").write_text("name: haiku\ntemplate: A haiku.\n")
    workspace.sync()
    strict = WorkspaceConfig(approval=ApprovalConfig(require_passing_suites=True))
    with workspace.session() as session, pytest.raises(CheckFailedError, match="no suite uses"):
        approve_version(session, workspace.paths, strict, "haiku@1")


def test_unknown_prompt(workspace: Workspace) -> None:
    workspace.sync()
    with workspace.session() as session, pytest.raises(NotFoundError):
        prompt_history(session, "nope")


def _version_id(session: Session, name: str) -> int:
    from promptdeck.core.prompt_refs import resolve_prompt

    return resolve_prompt(session, name).version_id


def _run(session: Session, suite: str, version_id: int, *, failed: int, uid: str) -> None:
    run = Run(uid=uid, kind="eval", suite=suite, status="finished", failed=failed)
    session.add(run)
    session.flush()
    assert run.id is not None
    session.add(
        RunCell(
            run_id=run.id,
            prompt_version_id=version_id,
            model="m",
            case_key="c",
            case_index=0,
            status="done",
        )
    )
    session.flush()
