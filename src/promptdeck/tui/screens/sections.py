"""Screens whose features arrive in later releases: they say what they will hold.

They show no invented data: only a description of the section and the commands
that exist today.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, VerticalScroll
from textual.widgets import Static

from promptdeck.tui.screens.base import WorkbenchScreen

__all__ = [
    "SectionScreen",
]


class SectionScreen(WorkbenchScreen):
    """A section that describes what it will hold."""

    HEADING = ""
    ABOUT = ""

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(classes="section-body"), Center():
            yield Static(self.HEADING, classes="section-heading")
            yield Static(self.ABOUT, classes="section-about")
            yield Static("Not available in this build yet.", classes="section-status")
