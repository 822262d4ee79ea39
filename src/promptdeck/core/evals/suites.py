"""Eval suites: ``suites/<name>.suite.yaml`` and the dataset files their cases come from.

Every problem is reported with the file and line at fault: the suite's own lines
for inline cases and settings, the dataset's line (JSONL, YAML) or row (CSV).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from promptdeck.core.evals.case_stream import CaseRows, SuiteCases, dataset_rows
from promptdeck.core.evals.suite_models import (
    RESERVED_CASE_KEYS,
    AssertionSpec,
    Case,
    CaseSpec,
    SuiteDefaults,
    SuiteFile,
)
from promptdeck.core.workspace.yamlfile import load_model, yaml_line
from promptdeck.errors import ConfigError, UsageError, location
from promptdeck.paths import WorkspacePaths
from promptdeck.safeload.limits import read_text

if TYPE_CHECKING:
    from promptdeck.config import WorkspaceConfig

__all__ = [
    "RESERVED_CASE_KEYS",
    "SUITE_SUFFIX",
    "AssertionSpec",
    "Case",
    "CaseSpec",
    "LoadedSuite",
    "SuiteDefaults",
    "SuiteFile",
    "load_suite",
    "model_problems",
    "suite_files",
]

SUITE_SUFFIX = ".suite.yaml"


@dataclass(frozen=True)
class LoadedSuite:
    """A validated suite and its expanded cases."""

    name: str
    path: Path
    file: SuiteFile
    cases: Sequence[Case]
    prompt_sources: tuple[str, ...] = ()
    """Where each entry of ``prompts:`` is written (``file:line``)."""
    model_sources: tuple[str, ...] = ()
    """Where each entry of ``models:`` is written (``file:line``)."""
    judge_source: str = ""
    """Where ``judge:`` is written (``file:line``), when it is."""


def suite_files(paths: WorkspacePaths) -> list[Path]:
    """Return the workspace's suite files, by name."""
    if not paths.suites.is_dir():
        return []
    return sorted(p for p in paths.suites.glob(f"*{SUITE_SUFFIX}") if p.is_file())


def load_suite(path: Path, paths: WorkspacePaths) -> LoadedSuite:
    """Validate a suite file and its cases (datasets included).

    Its cases are read again from their files each time they are iterated (see
    :class:`~promptdeck.core.evals.case_stream.SuiteCases`): a big dataset is not held
    as cases.

    Raises:
        ConfigError: With file and line, for the suite or a dataset.
    """
    rel = paths.relative(path)
    text = read_text(path, rel, what="suite")
    suite, node = load_model(SuiteFile, text, rel, what="suite")
    rows: list[CaseRows] = []
    for i, spec in enumerate(suite.cases):
        here = location(rel, yaml_line(node, ["cases", i]))
        if spec.dataset is not None:
            dataset = (paths.root / spec.dataset).resolve()
            if not dataset.is_file():
                raise ConfigError(
                    f"{here}: dataset {spec.dataset!r} does not exist",
                    "paths are relative to the workspace folder",
                )
            rows.append(dataset_rows(dataset, paths.relative(dataset)))
        else:
            rows.append(CaseRows(held=((spec, here),)))
    cases = SuiteCases(rows, suite.defaults)
    sources = tuple(
        location(rel, yaml_line(node, ["prompts", i])) for i in range(len(suite.prompts))
    )
    models = tuple(location(rel, yaml_line(node, ["models", i])) for i in range(len(suite.models)))
    return LoadedSuite(
        path.name.removesuffix(SUITE_SUFFIX),
        path,
        suite,
        cases,
        sources,
        model_sources=models,
        judge_source=location(rel, yaml_line(node, ["judge"])),
    )


def model_problems(suite: LoadedSuite, config: WorkspaceConfig) -> list[ConfigError]:
    """Each ``models:`` or ``judge:`` entry that names no model, as an error at its line.

    The same test ``run -m`` applies (:func:`~promptdeck.core.providers.targets.check_model`):
    an alias, an ensemble, ``provider/model`` or a model litellm knows.
    """
    from promptdeck.core.providers.targets import check_model

    named = list(zip(suite.file.models, suite.model_sources, strict=False))
    if suite.file.judge is not None:
        named.append((suite.file.judge, suite.judge_source or str(suite.path.name)))
    problems: list[ConfigError] = []
    for model, where in named:
        try:
            check_model(config, model)
        except UsageError as error:
            problems.append(ConfigError(f"{where}: {error.title}", error.hint))
    return problems
