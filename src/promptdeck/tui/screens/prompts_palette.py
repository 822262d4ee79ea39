"""The Prompts screen's command palette: its actions, offered only where they apply."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from promptdeck.tui.screens.base import PaletteCommand

__all__ = ["PromptsActions", "prompts_commands"]


class PromptsActions(Protocol):
    """What the palette reads and calls on the Prompts screen."""

    @property
    def has_detail(self) -> bool:
        """True once a prompt is selected and its detail is loaded."""
        ...

    @property
    def selection_approved(self) -> bool:
        """True when the selected version is approved."""
        ...

    @property
    def has_unsaved_edits(self) -> bool:
        """True when the editor holds something to save."""
        ...

    def action_callback(self, action: str) -> Callable[[], object]:
        """A callback that runs ``action`` on the screen."""
        ...

    def action_resync(self) -> None:
        """Resync the prompt files."""
        ...

    def action_label(self) -> None:
        """Label the selected version."""
        ...

    def action_approve(self) -> None:
        """Approve the selected version."""
        ...

    def action_unapprove(self) -> None:
        """Revoke the selected version's approval."""
        ...

    def action_save(self) -> None:
        """Save the editor to the file."""
        ...

    def action_revert(self) -> None:
        """Discard the editor's unsaved edits."""
        ...

    def action_export(self) -> None:
        """Export the production prompts."""
        ...


TABS = [
    ("Show version", "The latest version's YAML", "tab-version"),
    ("Edit prompt", "Edit the selected prompt file (ctrl+s saves)", "tab-edit"),
    ("Show history", "Versions, labels, label moves, approvals and revocations", "tab-history"),
    ("Show diff", "Compare any two versions", "tab-diff"),
    ("Show lint findings", "Problems found in the prompt", "tab-lint"),
]


def prompts_commands(screen: PromptsActions) -> Iterable[PaletteCommand]:
    """Resync and export always; the rest once a prompt is selected; save when edited."""
    yield PaletteCommand(
        "Resync prompts", "Read the prompt files into the database now", screen.action_resync
    )
    yield PaletteCommand(
        "New prompt…",
        "Create a prompt file from the starter template or as a copy of this one (n)",
        screen.action_callback("new_prompt"),
    )
    if screen.has_detail:
        for title, help_text, tab in TABS:
            yield PaletteCommand(title, help_text, screen.action_callback(f"show_tab({tab!r})"))
        yield PaletteCommand(
            "Label version…",
            "Point a label (production, staging…) at a version",
            screen.action_label,
        )
        yield PaletteCommand(
            "Approve version", "Approve the selected version", screen.action_approve
        )
        if screen.selection_approved:
            yield PaletteCommand(
                "Revoke approval",
                "Revoke the selected version's approval (kept in the history)",
                screen.action_unapprove,
            )
    if screen.has_unsaved_edits:
        yield PaletteCommand(
            "Save prompt file",
            "Save the editor to the file; a save makes a version",
            screen.action_save,
        )
        yield PaletteCommand(
            "Revert prompt file",
            "Discard the editor's unsaved edits: back to the file as last saved (key ctrl+r)",
            screen.action_revert,
        )
    yield PaletteCommand(
        "Export production",
        "Export approved production prompts to the registry",
        screen.action_export,
    )
