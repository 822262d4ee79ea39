"""Repository functions for approvals: the versions approved now, and their history.

``approval`` holds one row per version approved now; ``approval_event`` records every
approval and revocation (who, when, why, on what evidence), as ``label_event`` does
for label moves. Each function takes an explicit session.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from promptdeck.store.tables import Approval, ApprovalEvent
from promptdeck.timeutil import utcnow

__all__ = [
    "APPROVED",
    "REVOKED",
    "approval_events",
    "approve",
    "get_approval",
    "list_approvals",
    "revoke",
]

APPROVED = "approved"
REVOKED = "revoked"


def get_approval(session: Session, version_id: int) -> Approval | None:
    """Return the approval of a version, if it is approved now."""
    return session.exec(select(Approval).where(Approval.version_id == version_id)).first()


def list_approvals(session: Session, prompt_id: int) -> list[Approval]:
    """Return a prompt's approvals in force, newest first."""
    query = (
        select(Approval)
        .where(Approval.prompt_id == prompt_id)
        .order_by(col(Approval.created_at).desc(), col(Approval.id).desc())
    )
    return list(session.exec(query))


def approval_events(session: Session, prompt_id: int) -> list[ApprovalEvent]:
    """Return every approval and revocation of a prompt's versions, newest first."""
    query = (
        select(ApprovalEvent)
        .where(ApprovalEvent.prompt_id == prompt_id)
        .order_by(col(ApprovalEvent.created_at).desc(), col(ApprovalEvent.id).desc())
    )
    return list(session.exec(query))


def approve(
    session: Session,
    prompt_id: int,
    version_id: int,
    *,
    note: str | None = None,
    evidence: list[str] | None = None,
    actor: str | None = None,
) -> Approval:
    """Approve a version (not approved now) and record it in the history.

    Args:
        session: The session.
        prompt_id: The prompt.
        version_id: The version.
        note: Why (kept with the approval and in the history).
        evidence: The run ids that justified it.
        actor: Who approved it.

    Returns:
        The new approval.
    """
    now = utcnow()
    runs = list(evidence or [])
    approval = Approval(
        prompt_id=prompt_id,
        version_id=version_id,
        note=note,
        evidence=runs,
        actor=actor,
        created_at=now,
    )
    session.add(approval)
    session.add(
        ApprovalEvent(
            prompt_id=prompt_id,
            version_id=version_id,
            action=APPROVED,
            note=note,
            evidence=runs,
            actor=actor,
            created_at=now,
        )
    )
    session.flush()
    return approval


def revoke(
    session: Session, approval: Approval, *, note: str | None = None, actor: str | None = None
) -> ApprovalEvent:
    """Revoke an approval: the version is no longer approved; the history keeps both.

    Args:
        session: The session.
        approval: The approval in force.
        note: Why (kept in the history).
        actor: Who revoked it.

    Returns:
        The recorded revocation.
    """
    event = ApprovalEvent(
        prompt_id=approval.prompt_id,
        version_id=approval.version_id,
        action=REVOKED,
        note=note,
        evidence=[],
        actor=actor,
        created_at=utcnow(),
    )
    session.delete(approval)
    session.add(event)
    session.flush()
    return event
