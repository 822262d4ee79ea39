"""Registry operations on stored prompt versions: history, diff, labels, approval."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml
from sqlmodel import Session, col, select

from promptdeck.config import WorkspaceConfig
from promptdeck.core.prompt_refs import ResolvedPrompt, parse_ref, resolve_prompt
from promptdeck.core.sync import LATEST_LABEL
from promptdeck.errors import CheckFailedError, UsageError
from promptdeck.paths import WorkspacePaths
from promptdeck.store import prompts_repo as repo
from promptdeck.store.tables import Approval, LabelEvent, Prompt, PromptVersion, Run, RunCell
from promptdeck.timeutil import utcnow

__all__ = [
    "ApprovalInfo",
    "LabelMove",
    "PromptDetail",
    "PromptHistory",
    "VersionInfo",
    "approve_version",
    "approved_version_ids",
    "diff_versions",
    "move_label",
    "prompt_detail",
    "prompt_history",
    "suites_using",
]

LABEL_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,49}$")


@dataclass(frozen=True)
class VersionInfo:
    """One version in a prompt's history."""

    version: int
    content_hash: str
    created_at: datetime
    source_path: str
    note: str | None
    labels: list[str]
    approved: bool


@dataclass(frozen=True)
class LabelMove:
    """One recorded move of a label."""

    label: str
    from_version: int | None
    to_version: int | None
    at: datetime
    note: str | None


@dataclass(frozen=True)
class ApprovalInfo:
    """An approval of a version."""

    name: str
    version: int
    at: datetime
    note: str | None
    evidence: list[str] = field(default_factory=list)
    created: bool = True


@dataclass(frozen=True)
class PromptHistory:
    """Every version of a prompt (newest first) and every label move (newest first)."""

    name: str
    source_path: str
    file_present: bool
    last_error: str | None
    versions: list[VersionInfo]
    moves: list[LabelMove]
    approvals: list[ApprovalInfo]


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
    approvals = list(
        session.exec(
            select(Approval)
            .where(Approval.prompt_id == prompt.id)
            .order_by(col(Approval.created_at).desc())
        )
    )
    approved = {a.version_id for a in approvals}
    events = session.exec(
        select(LabelEvent)
        .where(LabelEvent.prompt_id == prompt.id)
        .order_by(col(LabelEvent.created_at).desc(), col(LabelEvent.id).desc())
    ).all()
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
                note=v.note,
                labels=sorted(labels.get(v.id or -1, [])),
                approved=v.id in approved,
            )
            for v in reversed(versions)
        ],
        moves=[
            LabelMove(
                label=e.label,
                from_version=number.get(e.from_version_id) if e.from_version_id else None,
                to_version=number.get(e.to_version_id) if e.to_version_id else None,
                at=e.created_at,
                note=e.note,
            )
            for e in events
        ],
        approvals=[
            ApprovalInfo(prompt.name, number[a.version_id], a.created_at, a.note, list(a.evidence))
            for a in approvals
        ],
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
    prompt = repo.get_prompt(session, target.name)
    assert prompt is not None and prompt.id is not None
    before = repo.get_label(session, prompt.id, label)
    old_version = session.get(PromptVersion, before.version_id) if before else None
    event = repo.move_label(session, prompt.id, label, target.version_id, note)
    at = event.created_at if event else (before.updated_at if before else utcnow())
    return LabelMove(
        label=label,
        from_version=old_version.version if old_version else None,
        to_version=target.version,
        at=at,
        note=note,
    )


def suites_using(paths: WorkspacePaths, name: str) -> list[str]:
    """Return the names of the suites whose ``prompts:`` list names this prompt."""
    found = []
    folder = paths.suites
    for path in sorted(folder.glob("*.suite.yaml")) if folder.is_dir() else []:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, OSError, UnicodeDecodeError):
            continue
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
    """
    target = resolve_prompt(session, ref)
    existing = session.exec(
        select(Approval).where(Approval.version_id == target.version_id)
    ).first()
    if existing is not None:
        return ApprovalInfo(
            target.name,
            target.version,
            existing.created_at,
            existing.note,
            list(existing.evidence),
            created=False,
        )
    evidence = _evidence(session, paths, target) if config.approval.require_passing_suites else []
    prompt = repo.get_prompt(session, target.name)
    assert prompt is not None and prompt.id is not None
    approval = Approval(
        prompt_id=prompt.id, version_id=target.version_id, note=note, evidence=evidence
    )
    session.add(approval)
    session.flush()
    return ApprovalInfo(target.name, target.version, approval.created_at, note, evidence)


def approved_version_ids(session: Session) -> set[int]:
    """Return the ids of every approved version."""
    return set(session.exec(select(Approval.version_id)).all())


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
