"""Check an import's planned files with promptdeck's own loaders before writing them.

A planned file promptdeck would refuse is a bug of the importer, or a value the
mapping let through; either way it is reported (as skipped) rather than written
silently broken. Every assertion is validated as ``promptdeck eval`` would.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from promptdeck.core.importers.promptfoo.report import ImportReport
from promptdeck.core.importers.promptfoo.writer import Plan
from promptdeck.core.workspace.yamlfile import dump_yaml, load_model, read_yaml
from promptdeck.errors import ConfigError
from promptdeck.paths import WorkspacePaths

__all__ = ["check_plan", "judged_note"]


def _assertions(path: Path, text: str) -> list[Any]:
    data, _ = read_yaml(text, path.name)
    if isinstance(data, list):
        return [a for row in data for a in (row.get("assert") or [])]
    defaults = (data or {}).get("defaults") or {}
    return list(defaults.get("assert") or [])


def _drop_refused(path: Path, text: str, rel: str, report: ImportReport) -> str:
    """The file without the assertions promptdeck would refuse (each one reported)."""
    from promptdeck.core.evals.suites import AssertionSpec
    from promptdeck.core.scorers import validate

    def keep(raw: Any, where: str) -> bool:
        try:
            validate(AssertionSpec.model_validate(raw))
        except (ConfigError, ValueError) as exc:
            kind = raw.get("type", "assert") if isinstance(raw, dict) else "assert"
            report.skipped(where, str(kind), f"promptdeck would refuse it: {exc}")
            return False
        return True

    data, _ = read_yaml(text, rel)
    changed = False
    holders = data if isinstance(data, list) else [(data or {}).get("defaults") or {}]
    for i, holder in enumerate(holders):
        if isinstance(holder, dict) and isinstance(holder.get("assert"), list):
            where = f"{rel} (case {i + 1})" if isinstance(data, list) else f"{rel} (defaults)"
            kept = [a for a in holder["assert"] if keep(a, where)]
            if len(kept) != len(holder["assert"]):
                changed = True
                holder["assert"] = kept
                if not kept:
                    del holder["assert"]
    return dump_yaml(data) if changed else text


def check_plan(paths: WorkspacePaths, plan: Plan, report: ImportReport) -> None:
    """Validate every planned file; drop assertions promptdeck would refuse, reporting why.

    A file still refused after that is not written, nor the suite that would need it.
    """
    from promptdeck.core.evals.suites import CaseSpec, SuiteFile
    from promptdeck.core.prompts.files import PromptFile

    refused = False
    for path, text in list(plan.files.items()):
        rel = paths.relative(path)
        try:
            if path.name.endswith(".prompt.yaml"):
                load_model(PromptFile, text, rel, what="prompt file")
                continue
            text = plan.files[path] = _drop_refused(path, text, rel, report)
            if path.name.endswith(".suite.yaml"):
                load_model(SuiteFile, text, rel, what="suite")
            else:
                rows, _ = read_yaml(text, rel)
                for row in rows or []:
                    CaseSpec.model_validate(row)
        except (ConfigError, ValueError) as exc:
            report.skipped(rel, "planned file", f"promptdeck would refuse it: {exc}")
            del plan.files[path]
            refused = True
    suites = [p for p in plan.files if p.name.endswith(".suite.yaml")]
    if refused and suites:
        for path in suites:
            del plan.files[path]
        report.skipped(
            paths.relative(suites[0]), "suite", "not written: a file it needs was refused"
        )
    if plan.toml_block:
        try:
            current = paths.config.read_text(encoding="utf-8") if paths.config.exists() else ""
            tomllib.loads(current + plan.toml_block)
        except tomllib.TOMLDecodeError as exc:
            report.skipped("promptdeck.toml", "model aliases", f"would not parse: {exc}")
            plan.toml_block = ""


def judged_note(plan: Plan, judge: str | None, paths: WorkspacePaths, report: ImportReport) -> None:
    """Say which judge grades the model-graded assertions, and when its grades mean little."""
    from promptdeck.core.evals.suites import AssertionSpec
    from promptdeck.core.scorers import judge_warning, requires_judge

    graded = False
    for path, text in plan.files.items():
        if path.suffix == ".yaml" and not path.name.endswith(".prompt.yaml"):
            for raw in _assertions(path, text):
                graded = graded or requires_judge(AssertionSpec.model_validate(raw))
    if not graded:
        return
    model = judge
    if model is None:
        try:
            data = tomllib.loads(paths.config.read_text(encoding="utf-8"))
            model = str(data.get("judge_model", "local/smollm2-135m"))
        except (OSError, tomllib.TOMLDecodeError):
            model = "local/smollm2-135m"
    warning = judge_warning(model)
    detail = f"graded by {model}" + (f". {warning}" if warning else "")
    report.note(report.config, "model-graded assertions", detail)
