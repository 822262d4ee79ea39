"""Labels, history, diff and approval on stored versions."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from promptdeck.config import ApprovalConfig, WorkspaceConfig
from promptdeck.core.prompts.versions import (
    approve_version,
    approved_version_ids,
    diff_versions,
    move_label,
    prompt_history,
    suites_using,
    unapprove_version,
)
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.errors import CheckFailedError, NotFoundError, UsageError
from promptdeck.store.tables import Run, RunCell
from tests.conftest import no_git_identity

pytestmark = pytest.mark.usefixtures("engine")  # on SQLite and PostgreSQL


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
    from promptdeck.core.prompts.refs import resolve_prompt

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


@pytest.fixture
def alice(monkeypatch: pytest.MonkeyPatch) -> str:
    """Who acts: with no PROMPTDECK_USER and no git user.name, the login name."""
    no_git_identity(monkeypatch)
    monkeypatch.setattr("getpass.getuser", lambda: "alice")
    return "alice"


def test_a_note_on_a_label_that_already_points_there_is_kept(
    workspace: Workspace, alice: str
) -> None:
    workspace.sync()
    with workspace.session() as session:
        move_label(session, "summarize@1", "production")
        again = move_label(session, "summarize@1", "production", "ok")
        history = prompt_history(session, "summarize")
    assert (again.from_version, again.to_version, again.note, again.by) == (1, 1, "ok", alice)
    production = [m for m in history.moves if m.label == "production"]
    assert [(m.from_version, m.to_version, m.note, m.by) for m in production] == [
        (1, 1, "ok", alice),
        (None, 1, None, alice),
    ]
    # The sync's moves of `latest` are promptdeck's, not a person's.
    assert [m.by for m in history.moves if m.label == "latest"] == [None]


def test_each_version_shows_its_newest_note(workspace: Workspace) -> None:
    _two_versions(workspace)
    with workspace.session() as session:
        move_label(session, "summarize@1", "production", "ok")
        move_label(session, "summarize@2", "staging", "try warmer")
        approve_version(session, workspace.paths, workspace.config, "summarize@2", "reviewed")
        notes = {v.version: v.note for v in prompt_history(session, "summarize").versions}
    assert notes == {1: "ok", 2: "reviewed"}


def test_approvals_are_in_the_history_with_note_evidence_and_who(
    workspace: Workspace, alice: str
) -> None:
    workspace.sync()
    strict = WorkspaceConfig(approval=ApprovalConfig(require_passing_suites=True))
    with workspace.session() as session:
        _run(session, "summarize", _version_id(session, "summarize"), failed=0, uid="r-good")
        info = approve_version(session, workspace.paths, strict, "summarize@1", "looks right")
        history = prompt_history(session, "summarize")
    assert info.by == alice
    [record] = history.approvals
    assert (record.version, record.action, record.note, record.evidence, record.by) == (
        1,
        "approved",
        "looks right",
        ["r-good"],
        alice,
    )
    assert history.versions[0].approval == record


def test_an_approval_can_be_revoked_and_given_again(workspace: Workspace, alice: str) -> None:
    workspace.sync()
    with workspace.session() as session:
        approve_version(session, workspace.paths, workspace.config, "summarize@1", "ok")
        move_label(session, "summarize@1", "production")
        revoked = unapprove_version(session, "summarize@1", "wrong tone")
        assert approved_version_ids(session) == set()
        history = prompt_history(session, "summarize")
        assert not history.versions[0].approved and history.versions[0].approval is None
        assert history.versions[0].note == "wrong tone"
        assert [(a.action, a.note, a.by) for a in history.approvals] == [
            ("revoked", "wrong tone", alice),
            ("approved", "ok", alice),
        ]
        again = approve_version(session, workspace.paths, workspace.config, "summarize@1")
        assert again.created
        assert [a.action for a in prompt_history(session, "summarize").approvals] == [
            "approved",
            "revoked",
            "approved",
        ]
    assert (revoked.revoked, revoked.note, revoked.by, revoked.labels) == (
        True,
        "wrong tone",
        alice,
        ["production"],
    )


def test_revoking_a_version_that_is_not_approved_records_nothing(workspace: Workspace) -> None:
    _two_versions(workspace)
    with workspace.session() as session:
        approve_version(session, workspace.paths, workspace.config, "summarize@1")
        nothing = unapprove_version(session, "summarize", "oops")  # the latest: v2
        history = prompt_history(session, "summarize")
    assert (nothing.version, nothing.revoked, nothing.approved) == (2, False, [1])
    assert [a.action for a in history.approvals] == ["approved"]
