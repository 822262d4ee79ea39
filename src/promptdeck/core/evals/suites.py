"""Eval suites: ``suites/<name>.suite.yaml`` and the dataset files their cases come from.

Every problem is reported with the file and line at fault: the suite's own lines
for inline cases and settings, the dataset's line (JSONL, YAML) or row (CSV).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from promptdeck.core.workspace.yamlfile import load_model, read_yaml, yaml_line
from promptdeck.errors import ConfigError, UsageError, location
from promptdeck.paths import WorkspacePaths
from promptdeck.safeload.csvload import csv_records
from promptdeck.safeload.jsonload import json_array, json_lines
from promptdeck.safeload.limits import MAX_DATASET_BYTES, read_text

if TYPE_CHECKING:
    from promptdeck.config import WorkspaceConfig

__all__ = [
    "RESERVED_CASE_KEYS",
    "SUITE_SUFFIX",
    "AssertionSpec",
    "Case",
    "CaseSpec",
    "LoadedSuite",
    "SuiteFile",
    "load_suite",
    "model_problems",
    "suite_files",
]

SUITE_SUFFIX = ".suite.yaml"
RESERVED_CASE_KEYS = ("expected", "context", "description", "tags", "assert")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class AssertionSpec(_Strict):
    """One assertion: its type (``not-`` negates), value, threshold, weight and metric name.

    An ``assert-set`` holds its member assertions in ``assert`` (``asserts``) instead
    of a value.
    """

    type: str = Field(min_length=1)
    value: Any = None
    threshold: float | None = None
    weight: float = Field(default=1.0, ge=0)
    metric: str | None = None
    asserts: list[AssertionSpec] | None = Field(default=None, alias="assert")

    @model_serializer(mode="wrap")
    def _members_when_set(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Left out unless set, so the keys of cases and grades stay what they were.
        data: dict[str, Any] = handler(self)
        if self.asserts is None:
            data.pop("assert", None)
            data.pop("asserts", None)
        return data

    @property
    def negated(self) -> bool:
        """True for ``not-<type>``."""
        return self.type.startswith("not-")

    @property
    def base_type(self) -> str:
        """The type without its ``not-`` prefix."""
        return self.type.removeprefix("not-")


class CaseSpec(_Strict):
    """An inline case, or ``dataset: <path>`` whose rows become cases."""

    description: str | None = None
    vars: dict[str, Any] = Field(default_factory=dict)
    expected: Any = None
    context: str | list[str] | None = None
    asserts: list[AssertionSpec] = Field(default_factory=list, alias="assert")
    tags: list[str] = Field(default_factory=list)
    dataset: str | None = None

    @model_validator(mode="after")
    def _dataset_alone(self) -> CaseSpec:
        if self.dataset is not None and (self.vars or self.expected is not None or self.context):
            raise ValueError("a `dataset:` entry takes its vars from the file; remove vars here")
        return self


class SuiteDefaults(_Strict):
    """Vars and assertions added to every case."""

    vars: dict[str, Any] = Field(default_factory=dict)
    asserts: list[AssertionSpec] = Field(default_factory=list, alias="assert")


class SuiteFile(_Strict):
    """The content of a suite file.

    ``cache: semantic`` lets the semantic cache answer the suite's cells (when
    ``[cache] semantic`` is on); by default only identical requests are served
    from the cache, so a run grades answers to its own questions.
    """

    description: str = ""
    prompts: list[str] = Field(min_length=1)
    models: list[str] = Field(default_factory=list)
    cases: list[CaseSpec] = Field(min_length=1)
    defaults: SuiteDefaults = Field(default_factory=SuiteDefaults)
    repeat: int = Field(default=1, ge=1, le=100)
    concurrency: int | None = Field(default=None, ge=1, le=256)
    threshold: float = Field(default=1.0, ge=0, le=1)
    timeout: float | None = Field(default=None, gt=0)
    judge: str | None = None
    cache: Literal["exact", "semantic"] = "exact"

    @field_validator("prompts", "models", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


@dataclass(frozen=True)
class Case:
    """One case, with the suite's defaults merged in.

    Attributes:
        key: A stable identity (its file and content), unique within the suite: for
            resumes, kept grades and comparisons between runs.
        index: Position in the suite.
        source: Where it is defined (``file:line``).
        vars: Variables (defaults, then the case's own).
        expected: The expected answer, if any.
        context: Context passages (for grounding metrics), if any.
        asserts: The suite's default assertions, then the case's own.
        description: A short description.
        tags: Tags.
    """

    key: str
    index: int
    source: str
    vars: dict[str, Any]
    expected: Any = None
    context: list[str] | None = None
    asserts: list[AssertionSpec] = field(default_factory=list)
    description: str | None = None
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LoadedSuite:
    """A validated suite and its expanded cases."""

    name: str
    path: Path
    file: SuiteFile
    cases: list[Case]
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


def _key(source: str, data: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
    return f"{source}#{digest[:10]}"


def _context(value: Any) -> list[str] | None:
    if value is None:
        return None
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _row_case(row: dict[str, Any], where: str) -> CaseSpec:
    """A dataset row in case shape (``vars: {...}``) or flat (other keys are vars)."""
    if "vars" in row:
        data = row
    else:
        data = {k: v for k, v in row.items() if k in RESERVED_CASE_KEYS}
        data["vars"] = {k: v for k, v in row.items() if k not in RESERVED_CASE_KEYS}
    if isinstance(data.get("tags"), str):
        data = {**data, "tags": [t.strip() for t in data["tags"].split(",") if t.strip()]}
    try:
        return CaseSpec.model_validate(data)
    except ValueError as exc:
        first = str(exc).splitlines()
        reason = first[2].strip() if len(first) > 2 else str(exc)
        raise ConfigError(f"{where}: not a valid case: {reason}", "see docs/formats.md") from exc


def _dataset_rows(path: Path, rel: str) -> list[tuple[CaseSpec, str]]:
    text = read_text(path, rel, what="dataset", limit=MAX_DATASET_BYTES)
    suffix = path.suffix.lower()
    rows: list[tuple[CaseSpec, str]] = []
    if suffix in (".jsonl", ".json"):
        lines = suffix == ".jsonl"
        for number, row in json_lines(text, rel) if lines else json_array(text, rel):
            where = location(rel, number)
            if not isinstance(row, dict):
                raise ConfigError(
                    f"{where}: a {'row' if lines else 'case'} must be a JSON object",
                    "one object per line" if lines else "see docs/formats.md",
                )
            rows.append((_row_case(row, where), where))
    elif suffix == ".csv":
        for number, cells in csv_records(text, rel):
            where = location(rel, number)
            rows.append((_row_case(dict(cells), where), where))
    elif suffix in (".yaml", ".yml"):
        data, node = read_yaml(text, rel)
        if not isinstance(data, list):
            raise ConfigError(f"{location(rel, 1)}: a YAML dataset must be a list of cases", "")
        for i, row in enumerate(data):
            where = location(rel, yaml_line(node, [i]))
            if not isinstance(row, dict):
                raise ConfigError(f"{where}: a case must be a mapping", "see docs/formats.md")
            rows.append((_row_case(row, where), where))
    else:
        raise ConfigError(
            f"{rel}: unknown dataset format {suffix!r}", "use .jsonl, .json, .csv, .yaml or .yml"
        )
    return rows


def load_suite(path: Path, paths: WorkspacePaths) -> LoadedSuite:
    """Validate a suite file and expand its cases (datasets included).

    Raises:
        ConfigError: With file and line, for the suite or a dataset.
    """
    rel = paths.relative(path)
    text = read_text(path, rel, what="suite")
    suite, node = load_model(SuiteFile, text, rel, what="suite")
    found: list[tuple[CaseSpec, str, dict[str, Any]]] = []
    for i, spec in enumerate(suite.cases):
        here = location(rel, yaml_line(node, ["cases", i]))
        if spec.dataset is not None:
            dataset = (paths.root / spec.dataset).resolve()
            if not dataset.is_file():
                raise ConfigError(
                    f"{here}: dataset {spec.dataset!r} does not exist",
                    "paths are relative to the workspace folder",
                )
            entries = _dataset_rows(dataset, paths.relative(dataset))
        else:
            entries = [(spec, here)]
        found += [(case, where, {**suite.defaults.vars, **case.vars}) for case, where in entries]
    cases = [
        Case(
            key=key,
            index=index,
            source=where,
            vars=merged,
            expected=case.expected,
            context=_context(case.context),
            asserts=[*suite.defaults.asserts, *case.asserts],
            description=case.description,
            tags=list(case.tags),
        )
        for index, ((case, where, merged), key) in enumerate(
            zip(found, _case_keys(found), strict=True)
        )
    ]
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


def _case_keys(found: list[tuple[CaseSpec, str, dict[str, Any]]]) -> list[str]:
    """Each case's key: its file, its variables and its expected answer.

    Cases alike in those (the same input checked in different ways, as promptfoo-style
    suites do) get what else tells them apart added (assertions, description, context,
    tags); cases alike in everything are numbered in order. A case's key stays the same
    when other cases move, so resumes, kept grades and run comparisons still find it.
    """
    keys = [
        _key(where.split(":")[0], {"vars": merged, "expected": case.expected})
        for case, where, merged in found
    ]
    alike = Counter(keys)
    for i, (case, _, _) in enumerate(found):
        if alike[keys[i]] > 1:
            rest = case.model_dump(
                mode="json", include={"asserts", "description", "context", "tags"}
            )
            keys[i] += "." + _key("", rest).removeprefix("#")[:6]
    same = Counter(keys)
    seen: Counter[str] = Counter()
    for i, key in enumerate(keys):
        if same[key] > 1:
            seen[key] += 1
            keys[i] = f"{key}.{seen[key]}"
    return keys
