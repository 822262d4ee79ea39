"""promptfoo ``tests`` (and ``defaultTest``, ``scenarios``) → promptdeck cases.

Tests come inline, from ``file://`` CSV/JSON/JSONL/YAML files and globs. CSV columns
are variables except ``__expected``/``__expectedN`` (one assertion each, promptfoo's
``type:value`` syntax), ``__description``, ``__threshold`` and ``__metric``. Arrays in
``vars`` expand into the cross product of cases (unless ``disableVarExpansion``);
``file://`` variable values are read. A test's ``threshold`` becomes an ``assert-set``
with that threshold around its assertions, which grades exactly as promptfoo does.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptdeck.core.importers.promptfoo.asserts import map_assertion
from promptdeck.core.importers.promptfoo.nunjucks import has_template, render_value
from promptdeck.core.importers.promptfoo.report import ImportReport
from promptdeck.core.importers.promptfoo.source import Doc, Source
from promptdeck.core.importers.promptfoo.testfiles import csv_test, load_vars, test_entries
from promptdeck.core.scorers.across import ACROSS

__all__ = ["CaseDraft", "Grading", "read_cases"]

_TEST_KEYS = {"description", "vars", "assert", "threshold", "options", "metadata"}
_MAX_CASES = 100_000


@dataclass
class CaseDraft:
    """One promptdeck case."""

    description: str | None
    vars: dict[str, Any]
    asserts: list[dict[str, Any]]
    tags: list[str] = field(default_factory=list)


@dataclass
class Grading:
    """Across tests: the graders named, whether any assertion is model-graded."""

    graders: list[tuple[str, Any]] = field(default_factory=list)


def _expand(variables: dict[str, Any]) -> list[dict[str, Any]]:
    keys = [k for k, v in variables.items() if isinstance(v, list)]
    if not keys:
        return [variables]
    combos = itertools.product(*(variables[k] for k in keys))
    out = []
    for combo in itertools.islice(combos, _MAX_CASES):
        out.append({**variables, **dict(zip(keys, combo, strict=True))})
    return out


def _vars(
    source: Source, raw: Any, where: str, report: ImportReport, base: Path | None = None
) -> dict[str, Any] | None:
    if raw is None:
        return {}
    if isinstance(raw, str | list):
        raw = load_vars(source, raw, where, report, base)
        if raw is None:
            return None
    if not isinstance(raw, dict):
        report.skipped(where, "vars", "vars must be a mapping")
        return None
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and value.startswith("file://"):
            loaded, problem = source.value(value)
            if problem is not None:
                report.skipped(where, f"vars.{key}", problem)
                return None
            value = loaded
        elif isinstance(value, list) and any(
            isinstance(v, str) and v.startswith("file://") for v in value
        ):
            items = []
            for v in value:
                loaded, problem = (
                    source.value(v) if isinstance(v, str) and v.startswith("file://") else (v, None)
                )
                if problem is not None:
                    report.skipped(where, f"vars.{key}", problem)
                    return None
                items.append(loaded)
            value = items
        out[str(key)] = value
    return out


def read_cases(
    source: Source, report: ImportReport, tools: list[Any] | None, grading: Grading
) -> tuple[list[CaseDraft], list[dict[str, Any]]]:
    """The cases, and the default assertions shared by all (``defaultTest.assert``).

    Default assertions holding Nunjucks, or a suite where a test sets a threshold,
    are written into each case instead.
    """
    doc = source.doc
    default = doc.data.get("defaultTest") or {}
    if isinstance(default, str):
        value, problem = source.value(default)
        default = value if problem is None and isinstance(value, dict) else {}
        if problem:
            report.skipped(doc.at(["defaultTest"]), "defaultTest", problem)
    if not isinstance(default, dict):
        report.skipped(doc.at(["defaultTest"]), "defaultTest", "not a mapping or a file:// path")
        default = {}
    dwhere = doc.at(["defaultTest"])
    default_vars = _vars(source, default.get("vars"), dwhere, report) or {}
    raw_options = default.get("options")
    options: dict[str, Any] = raw_options if isinstance(raw_options, dict) else {}
    expand = not options.get("disableVarExpansion")
    _options(options, dwhere, "defaultTest.options", report, grading)
    _unknown_keys(default, dwhere, "defaultTest.", report)
    if default.get("description"):
        report.note(dwhere, "defaultTest.description", "promptfoo shows it nowhere; left out")
    default_tags = _tags(default.get("metadata"), dwhere, "defaultTest.", report)
    default_threshold = default.get("threshold")
    load = source.value
    default_asserts = _asserts(
        default.get("assert") or [], doc, ["defaultTest", "assert"], report, tools, grading, load
    )
    tests = test_entries(source, doc.data.get("tests") or [], report)
    tests += _scenarios(source, report)
    shared = (
        not any(has_template(a) for a in default_asserts)
        and default_threshold is None
        and not any(
            isinstance(t, dict) and (t.get("threshold") is not None or t.get("__threshold"))
            for t, _, _ in tests
        )
    )
    cases: list[CaseDraft] = []
    for test, tdoc, loc in tests:
        where = tdoc.at(loc)
        if not isinstance(test, dict):
            report.skipped(where, "test", "a test must be a mapping")
            continue
        if tdoc.rows and tdoc.shown.endswith(".csv"):
            test = csv_test(test, where, report)
        _unknown_keys(test, where, "", report)
        _options(test.get("options") or {}, where, "options", report, grading)
        own = _vars(source, test.get("vars"), where, report, tdoc.base)
        if own is None:
            continue
        asserts = _asserts(
            test.get("assert") or [], tdoc, [*loc, "assert"], report, tools, grading, load
        )
        merged = {**default_vars, **own}
        tags = [*default_tags, *_tags(test.get("metadata"), where, "", report)]
        expanded = _expand(merged) if expand else [merged]
        for variables in expanded:
            mine = list(asserts) if shared else [*default_asserts, *asserts]
            rendered = []
            for spec in mine:
                value, problem = render_value(spec, variables)
                if problem is not None:
                    report.skipped(where, spec.get("type", "assert"), problem)
                    continue
                rendered.append(value)
            # select-best and max-score compare outputs: they stay outside the set.
            across = [r for r in rendered if str(r.get("type")).removeprefix("not-") in ACROSS]
            rendered = [r for r in rendered if r not in across]
            threshold = test.get("threshold", default_threshold)
            if threshold is not None and rendered:
                rendered = [
                    {"type": "assert-set", "threshold": float(threshold), "assert": rendered}
                ]
            rendered += across
            cases.append(CaseDraft(test.get("description"), variables, rendered, tags))
    return cases, (default_asserts if shared else [])


_WHY = {
    "provider": "per-test providers are not carried (a suite runs every case on its models)",
    "providers": "per-test providers are not carried (a suite runs every case on its models)",
    "prompts": "per-test prompts are not carried (a suite runs every case on its prompts)",
    "providerOutput": "a recorded output to grade instead of calling a model; not carried",
    "assertScoringFunction": "a custom scoring function is code; promptdeck does not run it",
}


_OPTION_WHY = {
    "transform": "code run on the output before grading; not carried",
    "postprocess": "code run on the output before grading; not carried",
    "rubricPrompt": "a custom grading prompt; the suite's judge uses promptdeck's own",
    "prefix": "promptfoo puts it before the prompt; promptdeck prompts have no per-case prefix",
    "suffix": "promptfoo puts it after the prompt; promptdeck prompts have no per-case suffix",
    "storeOutputAs": "promptdeck cases do not feed one another",
    "runSerially": "promptdeck runs cases concurrently (set the suite's concurrency to 1)",
    "transformVars": "code run on the vars before the call; not carried",
    "delay": "no pause between calls; promptdeck's rate limits apply",
    "factuality": "promptfoo's factuality score weights; promptdeck's factuality passes or fails",
}


def _unknown_keys(test: dict[str, Any], where: str, prefix: str, report: ImportReport) -> None:
    for key in sorted(set(test) - _TEST_KEYS):
        report.skipped(where, f"{prefix}{key}", _WHY.get(key, "not a promptfoo test field"))


def _tags(metadata: Any, where: str, prefix: str, report: ImportReport) -> list[str]:
    """Scalar metadata (and lists of scalars) as ``key:value`` tags; the rest reported."""
    if not isinstance(metadata, dict):
        return []
    tags = []
    for key, value in metadata.items():
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(item, str | int | float | bool) for item in items):
            report.skipped(
                where, f"{prefix}metadata.{key}", "only text, numbers and lists of them become tags"
            )
            continue
        tags += [f"{key}:{item}" for item in items]
    return tags


def _options(options: Any, where: str, what: str, report: ImportReport, grading: Grading) -> None:
    if not isinstance(options, dict):
        return
    for key, value in options.items():
        if key == "provider":
            grading.graders.append((where, value))
        elif key == "disableVarExpansion":
            continue
        else:
            report.skipped(where, f"{what}.{key}", _OPTION_WHY.get(key, "not carried"))


def _asserts(
    raw: Any,
    doc: Doc,
    loc: list[Any],
    report: ImportReport,
    tools: list[Any] | None,
    grading: Grading,
    load: Any,
) -> list[dict[str, Any]]:
    out = []
    items = raw if isinstance(raw, list) else [raw]
    for i, item in enumerate(items):
        where = doc.at([*loc, i]) if not doc.rows else doc.at(loc[:1])
        mapped = map_assertion(item, load, tools)
        kind = item.get("type", "?") if isinstance(item, dict) else "?"
        for note in mapped.notes:
            report.note(where, kind, note)
        if mapped.spec is None:
            report.skipped(where, kind, mapped.why or "not carried")
            continue
        if mapped.why:
            report.skipped(where, kind, mapped.why)
        if mapped.grader is not None:
            grading.graders.append((where, mapped.grader))
        out.append(mapped.spec)
    return out


def _scenarios(source: Source, report: ImportReport) -> list[tuple[Any, Doc, list[Any]]]:
    """``scenarios``: every ``config`` entry's vars crossed with every test."""
    doc = source.doc
    found: list[tuple[Any, Doc, list[Any]]] = []
    for i, scenario in enumerate(doc.data.get("scenarios") or []):
        loc: list[str | int] = ["scenarios", i]
        if not isinstance(scenario, dict):
            report.skipped(doc.at(loc), "scenario", "a scenario must be a mapping")
            continue
        where = doc.at(loc)
        for key in sorted(set(scenario) - {"config", "tests", "description"}):
            report.skipped(where, f"scenarios[{i}].{key}", "not a promptfoo scenario field")
        tests = test_entries(source, scenario.get("tests") or [], report)
        for j, config in enumerate(scenario.get("config") or [{}]):
            config = config if isinstance(config, dict) else {}
            for key in sorted(set(config) - {"vars"}):
                report.skipped(
                    doc.at([*loc, "config", j]), f"scenarios[{i}].config[{j}].{key}", "not carried"
                )
            base = config.get("vars", {})
            for test, tdoc, tloc in tests:
                if isinstance(test, dict):
                    merged = {**test, "vars": {**base, **(test.get("vars") or {})}}
                    if scenario.get("description") and not test.get("description"):
                        merged["description"] = scenario["description"]
                    found.append((merged, tdoc, tloc))
        report.carried(doc.at(loc), f"scenarios[{i}]", "crossed into cases")
    return found
