"""The Compare screen's setup rows.

What the versions and models fields mean, the hint under the rows, and one input
per variable of the picked prompt (:mod:`promptdeck.tui.widgets.variable_editors`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import Horizontal
from textual.widgets import Input, Select

if TYPE_CHECKING:
    from promptdeck.config import WorkspaceConfig

__all__ = ["SetupRow", "models_hint", "parse_models", "parse_versions"]


def parse_models(text: str) -> list[str]:
    """Models from the models field: comma- or space-separated."""
    return [m for m in text.replace(",", " ").split() if m]


def parse_versions(name: str, text: str) -> list[str]:
    """Prompt references from a prompt name and ``1, 3`` (or labels); none: ``name``."""
    versions = [v for v in text.replace(",", " ").split() if v]
    return [f"{name}@{v}" for v in versions] or [name]


def models_hint(config: WorkspaceConfig | None) -> str:
    """The hint under the setup rows: the model aliases, the ensembles and the keys.

    Args:
        config: The workspace's configuration; None while it opens (keys only).
    """
    parts = []
    if config is not None and config.models:
        parts.append("aliases: " + ", ".join(sorted(config.models)))
    if config is not None and config.ensembles:
        parts.append("ensembles: " + ", ".join(sorted(config.ensembles)))
    keys = "ctrl+r run · [ ] column · p params · < > move · w s width · d diff · + - r rate"
    return " · ".join([*parts, keys])


class SetupRow(Horizontal):
    """The prompt picker, the versions field and the models field."""

    def __init__(self, default_model: str, *, id: str | None = None) -> None:
        super().__init__(
            Select[str]([], prompt="prompt", id="compare-prompt"),
            Input(placeholder="versions, e.g. 1, 3", id="compare-versions"),
            Input(default_model, placeholder="models, comma-separated", id="compare-models"),
            id=id,
        )
        self.offered: list[str] = []
        """The prompts the picker offers."""

    def offer(self, prompts: list[str]) -> None:
        """Offer these prompts in the picker; pick the first if none is picked yet."""
        select = self.query_one("#compare-prompt", Select)
        self.offered = list(prompts)
        select.set_options([(name, name) for name in prompts])
        if prompts and select.is_blank():
            select.value = prompts[0]

    def default_model(self, model: str) -> None:
        """Type the workspace's default model, unless a model was typed meanwhile."""
        models = self.query_one("#compare-models", Input)
        if not models.value:
            models.value = model

    def fill(self, prompt: str, versions: str, models: list[str]) -> None:
        """Pick ``prompt`` (when offered) and type the versions and models (when given)."""
        select = self.query_one("#compare-prompt", Select)
        if prompt in self.offered:
            select.value = prompt
        self.query_one("#compare-versions", Input).value = versions
        if models:
            self.query_one("#compare-models", Input).value = ", ".join(models)

    @property
    def prompt(self) -> str | None:
        """The picked prompt, if any."""
        value = self.query_one("#compare-prompt", Select).value
        return value if isinstance(value, str) else None

    def refs(self, prompt: str) -> list[str]:
        """The prompt references to compare: ``prompt`` at each version typed (or latest)."""
        return parse_versions(prompt, self.query_one("#compare-versions", Input).value)

    def models(self) -> list[str]:
        """The models typed in the models field."""
        return parse_models(self.query_one("#compare-models", Input).value)
