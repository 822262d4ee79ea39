"""One row of the prompt list, as a plain record (no database library imported).

:func:`promptdeck.store.prompts_repo.list_prompt_summaries` builds these through a
session; :func:`promptdeck.store.prompt_peek.peek_prompt_list` reads the same rows
with the standard library alone, so the workbench can list the prompts before
SQLAlchemy has loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PromptSummary"]


@dataclass(frozen=True)
class PromptSummary:
    """One row of the prompt list."""

    name: str
    description: str
    source_path: str
    file_present: bool
    last_error: str | None
    versions: int
    latest_version: int | None
    labels: dict[str, int] = field(default_factory=dict)
    approved: list[int] = field(default_factory=list)
    pass_rate: float | None = None
