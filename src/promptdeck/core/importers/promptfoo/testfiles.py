"""Where promptfoo tests come from: inline, ``file://`` files and globs, CSV rows, vars files.

Test files are CSV, JSON, JSONL or YAML; a ``tests`` entry is a mapping (a test),
a path or glob (with or without ``file://``), or the object form ``{path, config}``.
CSV columns are variables except promptfoo's ``__`` columns: ``__expected``/
``__expectedN`` (one assertion each, ``type:value`` syntax), ``__description``,
``__threshold``, ``__metric``, ``__metadata:key`` and ``__config:__expectedN:threshold``.
A test's ``vars`` may be a file or glob of YAML/JSON mappings, merged in order.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from promptdeck.core.importers.promptfoo.asserts import parse_assertion_string
from promptdeck.core.importers.promptfoo.report import ImportReport
from promptdeck.core.importers.promptfoo.source import Doc, Source
from promptdeck.errors import ConfigError

__all__ = ["csv_test", "load_vars", "test_entries"]

_CODE = (".js", ".ts", ".py", ".mjs", ".cjs", ".rb", ".go")
_CSV_WHY = {
    "__prefix": "promptfoo puts it before the prompt; promptdeck prompts have no per-case prefix",
    "__suffix": "promptfoo puts it after the prompt; promptdeck prompts have no per-case suffix",
    "__providerOutput": "a recorded output to grade instead of calling a model; not carried",
}
_CONFIG_COLUMN = re.compile(r"^__config:__expected(\d*):(\w+)$")

Entry = tuple[Any, Doc, list[Any]]


def _remote(ref: str) -> bool:
    return ref.startswith(("huggingface://", "https://", "http://")) or "docs.google" in ref


def _from_file(source: Source, ref: str, where: str, report: ImportReport) -> list[Entry]:
    if _is_code(ref):
        report.skipped(where, ref, "test generators are code; promptdeck does not run them")
        return []
    target = source.resolve(ref)
    if not target or not all(p.is_file() for p in target):
        report.skipped(where, ref, "no such file")
        return []
    found: list[Entry] = []
    for path in target:
        try:
            sub = source.read(path)
        except ConfigError as exc:
            report.skipped(where, ref, exc.title)
            continue
        rows = sub.data if isinstance(sub.data, list) else [sub.data]
        report.carried(where, ref, f"{len(rows)} tests from {sub.shown}")
        found += [(row, sub, [j]) for j, row in enumerate(rows)]
    return found


def _is_code(ref: str) -> bool:
    path = re.sub(r":[\w.]+$", "", ref.removeprefix("file://"))
    return path.lower().endswith(_CODE)


def test_entries(source: Source, raw: Any, report: ImportReport, key: str = "tests") -> list[Entry]:
    """Every test with the document and location it comes from."""
    doc = source.doc
    entries = raw if isinstance(raw, list) else [raw]
    found: list[Entry] = []
    for i, entry in enumerate(entries):
        loc: list[Any] = [key, i] if isinstance(raw, list) else [key]
        where = doc.at(loc)
        path = entry.get("path") if isinstance(entry, dict) else None
        if isinstance(path, str) and not {"vars", "assert"} & set(entry):
            # the {path, config} form of a test file
            for extra in sorted(set(entry) - {"path"}):
                report.skipped(where, f"{path} {extra}", "options of a test loader")
            entry = path
        if isinstance(entry, dict):
            found.append((entry, doc, loc))
        elif not isinstance(entry, str):
            report.skipped(where, key, "a test must be a mapping or a file:// path")
        elif _remote(entry):
            report.skipped(where, entry, "remote datasets are not fetched; download it")
        else:
            found += _from_file(source, entry, where, report)
    return found


def csv_test(row: dict[str, Any], where: str, report: ImportReport) -> dict[str, Any]:
    """A CSV row as a promptfoo test (what promptfoo's CSV reader makes of it)."""
    test: dict[str, Any] = {"vars": {}, "assert": []}
    row = {str(k).strip(): v for k, v in row.items() if k is not None and v is not None}
    metric = row.get("__metric")
    configs: dict[int, dict[str, float]] = {}
    for key, value in row.items():
        text = str(value)
        if key.startswith("__expected"):
            if text.strip():
                test["assert"].append(parse_assertion_string(text))
        elif key == "__description":
            test["description"] = value
        elif key == "__threshold" and text.strip():
            test["threshold"] = float(text)
        elif key == "__metric":
            continue
        elif key.startswith("__metadata:") and text.strip():
            name = key.removeprefix("__metadata:")
            meta = test.setdefault("metadata", {})
            if name.endswith("[]"):  # a list: comma-separated, ``\,`` a literal comma
                items = re.split(r"(?<!\\),", text)
                meta[name[:-2]] = [i.replace("\\,", ",").strip() for i in items if i.strip()]
            else:
                meta[name] = value
        elif (match := _CONFIG_COLUMN.match(key)) and match.group(2) == "threshold":
            if text.strip():
                index = int(match.group(1) or 1) - 1
                try:
                    configs.setdefault(index, {})["threshold"] = float(text)
                except ValueError:
                    report.skipped(where, key, f"{text!r} is not a number")
        elif key.startswith("__"):
            if text.strip():
                report.skipped(where, key, _CSV_WHY.get(key, "this CSV column is not carried"))
        else:
            test["vars"][key] = value
    for index, spec in enumerate(test["assert"]):
        if metric:
            spec["metric"] = metric
        spec.update(configs.get(index, {}))
    return test


def load_vars(
    source: Source, raw: Any, where: str, report: ImportReport, base: Path | None = None
) -> Any:
    """A test's ``vars`` given as files (a path, a glob, or a list of them), merged.

    Returns:
        The merged mapping, the value unchanged when it names no files, or ``None``
        (reported) when a file cannot be read.
    """
    refs = raw if isinstance(raw, list) else [raw]
    if not refs or not all(isinstance(r, str) for r in refs):
        return raw
    merged: dict[str, Any] = {}
    for ref in refs:
        paths = source.resolve(ref, base)
        if not paths or not all(p.is_file() for p in paths):
            report.skipped(where, f"vars {ref}", "no such file")
            return None
        for path in paths:
            value, problem = source.value(str(path))
            if problem is not None or not isinstance(value, dict):
                report.skipped(where, f"vars {ref}", problem or "the vars file is not a mapping")
                return None
            merged.update(value)
    return merged
