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
    "CompareScreen",
    "EvalsScreen",
    "GuardrailsScreen",
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


class CompareScreen(SectionScreen):
    """Side-by-side comparison and ensembles."""

    HEADING = "Compare"
    ABOUT = (
        "One rendered prompt sent to several models (or several versions to one model),\n"
        "each answer streaming into its own column with time to first token, tokens/s,\n"
        "latency, tokens, cost and cache state; ensembles with their agreement score."
    )


class EvalsScreen(SectionScreen):
    """Eval suites and runs."""

    HEADING = "Evals"
    ABOUT = (
        "Suites from suites/*.suite.yaml run over prompts × models × cases: a grid of\n"
        "cells coloured by result, every assertion's score and reason, pass rates with\n"
        "confidence intervals, baselines and regressions, keyboard grading."
    )


class GuardrailsScreen(SectionScreen):
    """Guardrail scanners and suites."""

    HEADING = "Guardrails"
    ABOUT = (
        "PII, secrets, prompt injection, jailbreak and toxicity scanners: type text and\n"
        "see each verdict with highlighted spans; guard suites with precision and recall;\n"
        "recent blocked or redacted calls."
    )
