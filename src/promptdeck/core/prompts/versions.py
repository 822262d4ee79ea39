"""Registry operations on stored prompt versions: history, diff, labels, approval.

Approving and revoking live in :mod:`promptdeck.core.prompts.approvals` (re-exported here).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from promptdeck.core.prompts.approvals import (
    ApprovalInfo,
    Revocation,
    approve_version,
    approved_version_ids,
    suites_using,
    unapprove_version,
)
from promptdeck.core.prompts.refs import parse_ref, resolve_prompt
from promptdeck.core.prompts.secret_gate import refuse_secrets
from promptdeck.core.prompts.sync import LATEST_LABEL
from promptdeck.errors import UsageError
from promptdeck.identity import session_actor
from promptdeck.store import approvals_repo
from promptdeck.store import prompts_repo as repo
from promptdeck.store.tables import Prompt, PromptVersion
from promptdeck.timeutil import utcnow

__all__ = [
    "ApprovalInfo",
    "ApprovalRecord",
    "LabelMove",
    "PromptDetail",
    "PromptHistory",
    "Revocation",
    "VersionInfo",
    "approve_version",
    "approved_version_ids",
    "diff_versions",
    "move_label",
    "prompt_detail",
    "prompt_history",
    "suites_using",
    "unapprove_version",
]

LABEL_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,49}$")


@dataclass(frozen=True)
class ApprovalRecord:
    """One approval or revocation of a version, as the history shows it.

    Attributes:
        version: The version.
        action: ``approved`` or ``revoked``.
        at: When.
        note: Why.
        evidence: The runs that justified an approval.
        by: Who (the OS user), if known.
    """

    version: int
    action: str
    at: datetime
    note: str | None
    evidence: list[str] = field(default_factory=list)
    by: str | None = None


@dataclass(frozen=True)
class VersionInfo:
    """One version in a prompt's history.

    Attributes:
        note: The newest note recorded about this version: a label moved to it, its
            approval or its revocation.
        approval: Its approval, while it is approved.
        author: Who recorded it (``PROMPTDECK_USER``, git's user, the login name; None
            for versions recorded before authors were kept).
    """

    version: int
    content_hash: str
    created_at: datetime
    source_path: str
    note: str | None
    labels: list[str]
    approved: bool
    approval: ApprovalRecord | None = None
    author: str | None = None


@dataclass(frozen=True)
class LabelMove:
    """One recorded move of a label (``by``: who, None for a sync's moves of ``latest``)."""

    label: str
    from_version: int | None
    to_version: int | None
    at: datetime
    note: str | None
    by: str | None = None


@dataclass(frozen=True)
class PromptHistory:
    """Every version (newest first), label move and approval or revocation (newest first)."""

    name: str
    source_path: str
    file_present: bool
    last_error: str | None
    versions: list[VersionInfo]
    moves: list[LabelMove]
    approvals: list[ApprovalRecord]


def _prompt_or_error(session: Session, name: str) -> Prompt:
    # resolve_prompt gives the helpful not-found error; a prompt with no versions is fine here.
    prompt = repo.get_prompt(session, name)
    if prompt is None:
        resolve_prompt(session, name)
    assert prompt is not None
    return prompt


def prompt_history(session: Session, name: str) -> PromptHistory:
    """Return a prompt's versions, label moves and approvals.

    Raises:
        NotFoundError: When there is no such prompt.
    """
    prompt = _prompt_or_error(session, parse_ref(name).name)
    assert prompt.id is not None
    versions = repo.list_versions(session, prompt.id)
    number = {v.id: v.version for v in versions}
    labels: dict[int, list[str]] = {}
    for label in repo.list_labels(session, prompt.id):
        labels.setdefault(label.version_id, []).append(label.name)
    current = {
        a.version_id: ApprovalRecord(
            number[a.version_id], "approved", a.created_at, a.note, list(a.evidence), a.actor
        )
        for a in approvals_repo.list_approvals(session, prompt.id)
    }
    moves = [
        LabelMove(
            label=e.label,
            from_version=number.get(e.from_version_id) if e.from_version_id else None,
            to_version=number.get(e.to_version_id) if e.to_version_id else None,
            at=e.created_at,
            note=e.note,
            by=e.actor,
        )
        for e in repo.list_label_events(session, prompt.id)
    ]
    approvals = [
        ApprovalRecord(
            number[e.version_id], e.action, e.created_at, e.note, list(e.evidence), e.actor
        )
        for e in approvals_repo.approval_events(session, prompt.id)
    ]
    # Each version's newest note: from the moves to it and its approvals (newest first).
    notes: dict[int, tuple[datetime, str]] = {}
    dated = [(m.to_version, m.at, m.note) for m in moves]
    dated += [(a.version, a.at, a.note) for a in approvals]
    for version, at, note in dated:
        if version is not None and note and (version not in notes or at > notes[version][0]):
            notes[version] = (at, note)
    return PromptHistory(
        name=prompt.name,
        source_path=prompt.source_path,
        file_present=prompt.file_present,
        last_error=prompt.last_error,
        versions=[
            VersionInfo(
                version=v.version,
                content_hash=v.content_hash,
                created_at=v.created_at,
                source_path=v.source_path,
                note=notes[v.version][1] if v.version in notes else v.note,
                labels=sorted(labels.get(v.id or -1, [])),
                approved=v.id in current,
                approval=current.get(v.id or -1),
                author=v.author,
            )
            for v in reversed(versions)
        ],
        moves=moves,
        approvals=approvals,
    )


def diff_versions(session: Session, name: str, a: str, b: str, context: int = 3) -> str:
    """Return a unified diff between two versions or labels of a prompt.

    Args:
        session: The session.
        name: The prompt.
        a: A version number or label (the old side).
        b: A version number or label (the new side).
        context: Lines of context.

    Returns:
        The diff of the canonical YAML ('' when they are the same).
    """
    old = resolve_prompt(session, f"{name}@{a}")
    new = resolve_prompt(session, f"{name}@{b}")
    return "".join(
        difflib.unified_diff(
            old.content.splitlines(keepends=True),
            new.content.splitlines(keepends=True),
            fromfile=f"{name}@{old.version}",
            tofile=f"{name}@{new.version}",
            n=context,
        )
    )


def move_label(session: Session, ref: str, label: str, note: str | None = None) -> LabelMove:
    """Point ``label`` at the version ``ref`` names; rollback is moving it back.

    Raises:
        UsageError: For ``latest`` (it follows the file on disk) or a malformed label.
        NotFoundError: When the version does not exist.
        SecretInPromptError: When the version holds a credential.
    """
    if label == LATEST_LABEL:
        raise UsageError(
            "the 'latest' label follows the prompt file on disk and cannot be moved",
            "use another label, e.g. production or staging",
        )
    if not LABEL_PATTERN.match(label):
        raise UsageError(
            f"{label!r} is not a valid label",
            "labels start with a letter and use letters, digits, '.', '_' or '-'",
        )
    target = resolve_prompt(session, ref)
    refuse_secrets(target, "labelled")
    prompt = repo.get_prompt(session, target.name)
    assert prompt is not None and prompt.id is not None
    before = repo.get_label(session, prompt.id, label)
    old_version = session.get(PromptVersion, before.version_id) if before else None
    actor = session_actor(session)
    event = repo.move_label(session, prompt.id, label, target.version_id, note, actor)
    at = event.created_at if event else (before.updated_at if before else utcnow())
    return LabelMove(
        label=label,
        from_version=old_version.version if old_version else None,
        to_version=target.version,
        at=at,
        note=note,
        by=actor if event else None,
    )


@dataclass(frozen=True)
class PromptDetail:
    """What the Prompts screen shows of one prompt: history and every version's content."""

    history: PromptHistory
    contents: dict[int, str]


def prompt_detail(session: Session, name: str) -> PromptDetail:
    """Return a prompt's history and the canonical content of each version."""
    history = prompt_history(session, name)
    prompt = repo.get_prompt(session, name)
    assert prompt is not None and prompt.id is not None
    contents = {v.version: v.content for v in repo.list_versions(session, prompt.id)}
    return PromptDetail(history, contents)
