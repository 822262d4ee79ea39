"""The imported suite's YAML: prompts, models, judge, settings, and its dataset."""

from __future__ import annotations

from typing import Any

from promptdeck.core.importers.promptfoo.report import ImportReport
from promptdeck.core.workspace.yamlfile import dump_yaml

__all__ = ["suite_text"]


def suite_text(
    prompts: list[str],
    models: list[str],
    dataset: str,
    defaults: list[dict[str, Any]],
    settings: dict[str, Any],
    judge: str | None,
    report: ImportReport,
) -> str:
    """The suite file: every prompt against every model, the cases from the dataset."""
    data: dict[str, Any] = {
        "description": settings.get("description") or f"Imported from promptfoo: {report.config}",
        "prompts": prompts,
    }
    if models:
        data["models"] = models
    if judge:
        data["judge"] = judge
    for key in ("repeat", "concurrency"):
        if key in settings:
            data[key] = settings[key]
    if defaults:
        data["defaults"] = {"assert": defaults}
    data["cases"] = [{"dataset": dataset}]
    return dump_yaml(data)
