"""What ``promptdeck prompts history`` prints: JSON documents and text tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from promptdeck.cli.output import render_table

if TYPE_CHECKING:
    from promptdeck.core.prompts.versions import ApprovalRecord, LabelMove, PromptHistory

__all__ = ["approval_json", "history_json", "history_text", "move_json"]

_WHEN = "%Y-%m-%d %H:%M:%S"


def move_json(move: LabelMove) -> dict[str, Any]:
    """One label move as JSON."""
    return {
        "label": move.label,
        "from": move.from_version,
        "to": move.to_version,
        "at": move.at.isoformat(),
        "by": move.by,
        "note": move.note,
    }


def approval_json(record: ApprovalRecord) -> dict[str, Any]:
    """One approval or revocation as JSON."""
    return {
        "version": record.version,
        "action": record.action,
        "at": record.at.isoformat(),
        "by": record.by,
        "note": record.note,
        "evidence": list(record.evidence),
    }


def history_json(history: PromptHistory) -> dict[str, Any]:
    """A prompt's history as one JSON document."""
    return {
        "name": history.name,
        "file": history.source_path,
        "file_present": history.file_present,
        "error": history.last_error,
        "versions": [
            {
                "version": v.version,
                "hash": v.content_hash,
                "created_at": v.created_at.isoformat(),
                "author": v.author,
                "labels": v.labels,
                "approved": v.approved,
                "approval": approval_json(v.approval) if v.approval else None,
                "note": v.note,
            }
            for v in history.versions
        ],
        "label_moves": [move_json(m) for m in history.moves],
        "approvals": [approval_json(a) for a in history.approvals],
    }


def history_text(history: PromptHistory) -> str:
    """A prompt's history as text: versions, label moves, approvals and revocations."""
    status = "" if history.file_present else " (file gone; versions kept)"
    lines = [f"{history.name}: {history.source_path}{status}"]
    if history.last_error:
        lines.append(f"current file does not load: {history.last_error}")
    rows: list[tuple[object, ...]] = [
        (
            f"v{v.version}",
            v.created_at.strftime(_WHEN),
            v.author,
            v.content_hash[:12],
            ", ".join(v.labels) or None,
            "yes" if v.approved else None,
            v.note,
        )
        for v in history.versions
    ]
    lines.append(
        render_table(
            ("VERSION", "CREATED (UTC)", "AUTHOR", "HASH", "LABELS", "APPROVED", "NOTE"), rows
        )
    )
    if history.moves:
        rows = [
            (
                m.at.strftime(_WHEN),
                m.label,
                f"v{m.from_version}" if m.from_version else "(new)",
                f"v{m.to_version}",
                m.by,
                m.note,
            )
            for m in history.moves
        ]
        lines += ["", "Label moves:"]
        lines.append(render_table(("WHEN (UTC)", "LABEL", "FROM", "TO", "BY", "NOTE"), rows))
    if history.approvals:
        rows = [
            (
                a.at.strftime(_WHEN),
                f"v{a.version}",
                a.action,
                a.by,
                a.note,
                ", ".join(a.evidence) or None,
            )
            for a in history.approvals
        ]
        lines += ["", "Approvals:"]
        lines.append(
            render_table(("WHEN (UTC)", "VERSION", "ACTION", "BY", "NOTE", "EVIDENCE"), rows)
        )
    return "\n".join(lines)
