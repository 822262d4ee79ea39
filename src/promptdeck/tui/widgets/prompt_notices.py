"""What the Prompts screen tells the user after an action, and when the files changed.

After a save, a label move, an approval or an export; and when the files read at
start-up differ from the list the database had stored. Pure functions from the
engine's results to a notification's message, title and severity; the screen shows them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from promptdeck.core.prompts.sync import SyncReport
    from promptdeck.store.prompt_summary import PromptSummary

# The engine's result types are imported inside the function that needs them, so
# importing this module costs the first paint nothing.

__all__ = ["action_notice", "disk_changes_notice", "save_notice"]


def save_notice(name: str, report: SyncReport) -> tuple[str, str, SeverityLevel]:
    """The notification after a save.

    Args:
        name: The saved prompt.
        report: The sync that followed the save.

    Returns:
        Message, title and severity.
    """
    made = [v for n, v in report.new_versions if n == name]
    problem = next((e for e in report.errors if e.title.startswith(f"prompts/{name}.")), None)
    if problem is not None:
        note = report.kept_note(problem)
        return f"{problem.title} ({note})", "Saved, but not loadable", "warning"
    if made:
        return f"{name}: version {made[-1]}", "Saved", "information"
    return f"{name}: same content as an existing version", "Saved", "information"


def action_notice(result: object) -> tuple[str, str] | None:
    """The notification after a label move, an approval or an export.

    Args:
        result: What the action's worker returned.

    Returns:
        Message and title, or None for a result that needs no notification.
    """
    from promptdeck.core.prompts.export import ExportReport
    from promptdeck.core.prompts.versions import ApprovalInfo, LabelMove, Revocation

    if isinstance(result, LabelMove):
        before = f"v{result.from_version}" if result.from_version else "(new)"
        return f"{result.label}: {before} → v{result.to_version}", "Label moved"
    if isinstance(result, ApprovalInfo):
        message = "approved" if result.created else "was already approved"
        return f"{result.name}@{result.version} {message}", "Approval"
    if isinstance(result, Revocation):
        message = "approval revoked" if result.revoked else "was not approved"
        still = "".join(f"; {label} still points at it" for label in result.labels)
        return f"{result.name}@{result.version} {message}{still}", "Approval"
    if isinstance(result, ExportReport):
        return (
            f"{len(result.exported)} prompts to {result.folder} "
            f"({len(result.written)} files written)",
            "Exported",
        )
    return None


def disk_changes_notice(
    stored: list[PromptSummary], synced: list[PromptSummary], *, limit: int = 6
) -> str | None:
    """What reading the prompt files changed in a list first shown as the database stored it.

    Args:
        stored: The rows shown before the files were read.
        synced: The rows after reading them.
        limit: The most prompts named; the rest are counted.

    Returns:
        One line naming each changed prompt and how (new version, new file, file
        deleted or restored, file with an error, fixed), or None when nothing changed.
    """
    before = {s.name: s for s in stored}
    changes: list[str] = []
    for now in synced:
        old = before.get(now.name)
        if old is None:
            changes.append(
                f"{now.name} new" + (f" (v{now.latest_version})" if now.latest_version else "")
            )
        elif old.file_present and not now.file_present:
            changes.append(f"{now.name} file deleted")
        elif now.file_present and not old.file_present:
            changes.append(f"{now.name} file back")
        elif now.last_error and now.last_error != old.last_error:
            changes.append(f"{now.name} file has an error")
        elif now.latest_version != old.latest_version:
            changes.append(f"{now.name} v{old.latest_version or 0} → v{now.latest_version}")
        elif old.last_error and not now.last_error:
            changes.append(f"{now.name} file fixed")
    names = {s.name for s in synced}
    changes += [f"{name} gone" for name in before if name not in names]
    if not changes:
        return None
    shown = changes[:limit]
    if len(changes) > limit:
        shown.append(f"{len(changes) - limit} more")
    return " · ".join(shown)
