"""Approve a prompt version (with evidence when the workspace requires it), or revoke it.

Both are recorded in the prompt's history with who, when and why, as label moves
are; only versions approved now are exported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, col, select

from promptdeck.config import WorkspaceConfig
from promptdeck.core.prompts.refs import ResolvedPrompt, resolve_prompt
from promptdeck.core.prompts.secret_gate import refuse_secrets
from promptdeck.core.prompts.sync import LATEST_LABEL
from promptdeck.errors import CheckFailedError
from promptdeck.identity import session_actor
from promptdeck.paths import WorkspacePaths
from promptdeck.safeload.limits import read_text
from promptdeck.safeload.yamlload import load_yaml
from promptdeck.store import approvals_repo, prompts_repo
from promptdeck.store.tables import Approval, PromptVersion, Run, RunCell

__all__ = [
    "ApprovalInfo",
    "Revocation",
    "approve_version",
    "approved_version_ids",
    "suites_using",
    "unapprove_version",
]


@dataclass(frozen=True)
class ApprovalInfo:
    """An approval of a version."""

    name: str
    version: int
    at: datetime
    note: str | None
    evidence: list[str] = field(default_factory=list)
    created: bool = True
    by: str | None = None


@dataclass(frozen=True)
class Revocation:
    """The outcome of revoking a version's approval.

    Attributes:
        name: The prompt.
        version: The version.
        revoked: False when the version was not approved (nothing was recorded).
        at: When it was revoked (None when nothing was).
        note: Why.
        by: Who revoked it.
        approved: The prompt's versions still approved.
        labels: The labels still pointing at the version: an export of one of them
            fails until it is moved to an approved version.
    """

    name: str
    version: int
    revoked: bool
    at: datetime | None = None
    note: str | None = None
    by: str | None = None
    approved: list[int] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)


def suites_using(paths: WorkspacePaths, name: str) -> list[str]:
    """Return the names of the suites whose ``prompts:`` list names this prompt."""
    found = []
    folder = paths.suites
    for path in sorted(folder.glob("*.suite.yaml")) if folder.is_dir() else []:
        # A suite that does not load cannot say whether it uses the prompt: refused.
        rel = paths.relative(path)
        data, _ = load_yaml(read_text(path, rel, what="suite"), rel)
        refs = data.get("prompts", []) if isinstance(data, dict) else []
        refs = [refs] if isinstance(refs, str) else refs
        for entry in refs if isinstance(refs, list) else []:
            if isinstance(entry, str) and entry.split("@", 1)[0].strip() == name:
                found.append(Path(path.name).name.removesuffix(".suite.yaml"))
                break
    return found


def _evidence(session: Session, paths: WorkspacePaths, target: ResolvedPrompt) -> list[str]:
    suites = suites_using(paths, target.name)
    if not suites:
        raise CheckFailedError(
            f"cannot approve {target.name}@{target.version}: no suite uses this prompt",
            "add a suite in suites/ that tests it, or set approval.require_passing_suites = false",
        )
    evidence = []
    for suite in suites:
        run = session.exec(
            select(Run)
            .where(
                Run.suite == suite,
                Run.status == "finished",
                Run.failed == 0,
                Run.errors == 0,
                col(Run.id).in_(
                    select(RunCell.run_id).where(RunCell.prompt_version_id == target.version_id)
                ),
            )
            .order_by(col(Run.started_at).desc())
        ).first()
        if run is None:
            raise CheckFailedError(
                f"cannot approve {target.name}@{target.version}: suite {suite!r} has no "
                "finished run on this version with no failures",
                f"run `promptdeck --headless eval {suite}` and fix its failures first",
            )
        evidence.append(run.uid)
    return evidence


def _prompt_id(session: Session, target: ResolvedPrompt) -> int:
    version = session.get(PromptVersion, target.version_id)
    assert version is not None
    return version.prompt_id


def approve_version(
    session: Session,
    paths: WorkspacePaths,
    config: WorkspaceConfig,
    ref: str,
    note: str | None = None,
) -> ApprovalInfo:
    """Mark the version ``ref`` names approved, with evidence when the workspace requires it.

    Approving an approved version changes nothing and returns the existing approval.

    Raises:
        NotFoundError: When the version does not exist.
        CheckFailedError: When evidence is required and missing.
        SecretInPromptError: When the version holds a credential.
    """
    target = resolve_prompt(session, ref)
    refuse_secrets(target, "approved")
    existing = approvals_repo.get_approval(session, target.version_id)
    if existing is not None:
        return ApprovalInfo(
            target.name,
            target.version,
            existing.created_at,
            existing.note,
            list(existing.evidence),
            created=False,
            by=existing.actor,
        )
    evidence = _evidence(session, paths, target) if config.approval.require_passing_suites else []
    actor = session_actor(session)
    approval = approvals_repo.approve(
        session,
        _prompt_id(session, target),
        target.version_id,
        note=note,
        evidence=evidence,
        actor=actor,
    )
    return ApprovalInfo(target.name, target.version, approval.created_at, note, evidence, by=actor)


def unapprove_version(session: Session, ref: str, note: str | None = None) -> Revocation:
    """Revoke the approval of the version ``ref`` names; the history records it.

    Revoking a version that is not approved changes nothing (``revoked`` is False).

    Raises:
        NotFoundError: When the version does not exist.
    """
    target = resolve_prompt(session, ref)
    prompt_id = _prompt_id(session, target)
    approval = approvals_repo.get_approval(session, target.version_id)
    event = None
    if approval is not None:
        event = approvals_repo.revoke(session, approval, note=note, actor=session_actor(session))
    still = session.exec(
        select(PromptVersion.version)
        .join(Approval, col(Approval.version_id) == col(PromptVersion.id))
        .where(Approval.prompt_id == prompt_id)
        .order_by(col(PromptVersion.version))
    ).all()
    if event is None:
        return Revocation(target.name, target.version, False, approved=list(still))
    labels = [
        label.name
        for label in prompts_repo.list_labels(session, prompt_id)
        if label.version_id == target.version_id and label.name != LATEST_LABEL
    ]
    return Revocation(
        target.name,
        target.version,
        True,
        at=event.created_at,
        note=note,
        by=event.actor,
        approved=list(still),
        labels=labels,
    )


def approved_version_ids(session: Session) -> set[int]:
    """Return the ids of every version approved now."""
    return set(session.exec(select(Approval.version_id)).all())
