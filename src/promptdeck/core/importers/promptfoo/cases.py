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
import re
from dataclasses import dataclass, field
from typing import Any

from promptdeck.core.importers.promptfoo.asserts import map_assertion, parse_assertion_string
from promptdeck.core.importers.promptfoo.nunjucks import has_template, render_value
from promptdeck.core.importers.promptfoo.report import ImportReport
from promptdeck.core.importers.promptfoo.source import Doc, Source
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


def _tests(source: Source, raw: Any, report: ImportReport) -> list[tuple[Any, Doc, list[Any]]]:
    """Every test with the document and location it comes from."""
    doc = source.doc
    entries = raw if isinstance(raw, list) else [raw]
    found: list[tuple[Any, Doc, list[Any]]] = []
    for i, entry in enumerate(entries):
        loc: list[Any] = ["tests", i] if isinstance(raw, list) else ["tests"]
        if isinstance(entry, dict):
            found.append((entry, doc, loc))
            continue
        if not isinstance(entry, str):
            report.skipped(doc.at(loc), "tests", "a test must be a mapping or a file:// path")
            continue
        if entry.startswith(("huggingface://", "https://", "http://")) or "docs.google" in entry:
            report.skipped(doc.at(loc), entry, "remote datasets are not fetched; download it")
            continue
        paths = source.resolve(entry)
        if not paths or not all(p.is_file() for p in paths):
            report.skipped(doc.at(loc), entry, "no such file")
            continue
        for path in paths:
            if path.suffix.lower() in (".js", ".ts", ".py", ".mjs", ".cjs"):
                report.skipped(doc.at(loc), entry, "test generators are code; not run")
                continue
            sub = source.read(path)
            rows = sub.data if isinstance(sub.data, list) else [sub.data]
            report.carried(doc.at(loc), entry, f"{len(rows)} tests from {sub.shown}")
            found += [(row, sub, [j]) for j, row in enumerate(rows)]
    return found


def _csv_test(row: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    test: dict[str, Any] = {"vars": {}, "assert": []}
    dropped = []
    metric = row.get("__metric")
    for key, value in row.items():
        if key is None or value is None:
            continue
        if key.startswith("__expected"):
            if str(value).strip():
                spec = parse_assertion_string(str(value))
                if metric:
                    spec["metric"] = metric
                test["assert"].append(spec)
        elif key == "__description":
            test["description"] = value
        elif key == "__threshold" and str(value).strip():
            test["threshold"] = float(value)
        elif key == "__metric":
            continue
        elif key.startswith("__metadata:") and str(value).strip():
            name = key.removeprefix("__metadata:")
            meta = test.setdefault("metadata", {})
            if name.endswith("[]"):  # a list: comma-separated, ``\,`` a literal comma
                items = re.split(r"(?<!\\),", str(value))
                meta[name[:-2]] = [i.replace("\\,", ",").strip() for i in items if i.strip()]
            else:
                meta[name] = value
        elif key.startswith("__"):
            if str(value).strip():
                dropped.append(key)
        else:
            test["vars"][key] = value
    return test, dropped


def _expand(variables: dict[str, Any]) -> list[dict[str, Any]]:
    keys = [k for k, v in variables.items() if isinstance(v, list)]
    if not keys:
        return [variables]
    combos = itertools.product(*(variables[k] for k in keys))
    out = []
    for combo in itertools.islice(combos, _MAX_CASES):
        out.append({**variables, **dict(zip(keys, combo, strict=True))})
    return out


def _vars(source: Source, raw: Any, where: str, report: ImportReport) -> dict[str, Any] | None:
    if raw is None:
        return {}
    if isinstance(raw, str) and raw.startswith("file://"):
        value, problem = source.value(raw)
        if problem is not None or not isinstance(value, dict):
            report.skipped(where, "vars", problem or "the vars file is not a mapping")
            return None
        raw = value
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
    dwhere = doc.at(["defaultTest"])
    default_vars = _vars(source, default.get("vars"), dwhere, report) or {}
    options = default.get("options") or {}
    expand = not options.get("disableVarExpansion")
    _options(options, dwhere, "defaultTest.options", report, grading)
    for key in sorted(set(default) - _TEST_KEYS):
        report.skipped(dwhere, f"defaultTest.{key}", "not carried")
    load = source.value
    default_asserts = _asserts(
        default.get("assert") or [], doc, ["defaultTest", "assert"], report, tools, grading, load
    )
    tests = _tests(source, doc.data.get("tests") or [], report)
    tests += _scenarios(source, report)
    shared = not any(has_template(a) for a in default_asserts) and not any(
        isinstance(t, dict) and (t.get("threshold") is not None or t.get("__threshold"))
        for t, _, _ in tests
    )
    cases: list[CaseDraft] = []
    for test, tdoc, loc in tests:
        where = tdoc.at(loc)
        if not isinstance(test, dict):
            report.skipped(where, "test", "a test must be a mapping")
            continue
        if tdoc.rows and tdoc.shown.endswith(".csv"):
            test, dropped = _csv_test(test)
            for key in dropped:
                report.skipped(where, key, "this CSV column is not carried")
        for key in sorted(set(test) - _TEST_KEYS - {"provider", "providers", "prompts"}):
            report.skipped(where, key, "not carried")
        for key in ("provider", "providers", "prompts"):
            if key in test:
                report.skipped(where, key, "per-test providers and prompts are not carried")
        _options(test.get("options") or {}, where, "options", report, grading)
        own = _vars(source, test.get("vars"), where, report)
        if own is None:
            continue
        asserts = _asserts(
            test.get("assert") or [], tdoc, [*loc, "assert"], report, tools, grading, load
        )
        merged = {**default_vars, **own}
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
            if test.get("threshold") is not None and rendered:
                rendered = [
                    {
                        "type": "assert-set",
                        "threshold": float(test["threshold"]),
                        "assert": rendered,
                    }
                ]
            rendered += across
            tags = _tags(test.get("metadata"))
            cases.append(CaseDraft(test.get("description"), variables, rendered, tags))
    return cases, (default_asserts if shared else [])


def _tags(metadata: Any) -> list[str]:
    if not isinstance(metadata, dict):
        return []
    tags = []
    for key, value in metadata.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str | int | float | bool):
                tags.append(f"{key}:{item}")
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
            report.skipped(
                where, f"{what}.{key}", "not carried (an output transform or grading prompt)"
            )


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
        tests = _tests(source, scenario.get("tests") or [], report)
        for config in scenario.get("config") or [{}]:
            base = config.get("vars", {}) if isinstance(config, dict) else {}
            for test, tdoc, tloc in tests:
                if isinstance(test, dict):
                    merged = {**test, "vars": {**base, **(test.get("vars") or {})}}
                    found.append((merged, tdoc, tloc))
        report.carried(doc.at(loc), f"scenarios[{i}]", "crossed into cases")
    return found
