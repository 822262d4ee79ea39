"""A suite's cases, read from their files as they are used instead of held.

A 100,000-row dataset made into cases is some 70 MB of Python objects; its text is a
few MB. So a loaded suite holds the text of its datasets (:class:`CaseRows`) and
what one pass over them found (:class:`SuiteCases`: how many cases there are, and
which of them are alike, for their keys); each time the cases are iterated they are
parsed again, one at a time, and come out the same. A run finds the cases of its
cells, which come in case order, with a :class:`CaseCursor` reading forward.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

from promptdeck.core.evals.suite_models import RESERVED_CASE_KEYS, Case, CaseSpec, SuiteDefaults
from promptdeck.core.workspace.yamlfile import read_yaml, yaml_line
from promptdeck.errors import ConfigError, location
from promptdeck.safeload.csvload import csv_records
from promptdeck.safeload.jsonload import json_array, json_lines
from promptdeck.safeload.limits import MAX_DATASET_BYTES, read_text

__all__ = ["WINDOW", "CaseCursor", "CaseRows", "SuiteCases", "dataset_rows"]

WINDOW = 4096
"""Cases a :class:`CaseCursor` keeps, the last it read."""

Entry = tuple[CaseSpec, str]
"""A case as written, and where (``file:line``)."""

_SUFFIXES = (".jsonl", ".json", ".csv", ".yaml", ".yml")


@dataclass(frozen=True)
class CaseRows:
    """One entry of a suite's ``cases:``: an inline case, or the rows of a dataset.

    A JSON, JSONL or CSV dataset keeps its text and parses its rows each time they
    are read; a YAML dataset (parsed whole, for its lines) keeps its rows.

    Attributes:
        held: The rows, when kept as cases.
        text: The dataset's text, when its rows are parsed as read.
        rel: The dataset's path, as its locations name it.
    """

    held: tuple[Entry, ...] = ()
    text: str | None = None
    rel: str = ""

    def __iter__(self) -> Iterator[Entry]:
        if self.text is None:
            return iter(self.held)
        return _parsed(self.text, self.rel)


def dataset_rows(path: Path, rel: str) -> CaseRows:
    """Read a dataset file (checked whole later, by the first pass over its rows).

    Raises:
        ConfigError: Unknown format, a file too big, or (YAML) a row at fault.
    """
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES:
        raise ConfigError(
            f"{rel}: unknown dataset format {suffix!r}", "use .jsonl, .json, .csv, .yaml or .yml"
        )
    text = read_text(path, rel, what="dataset", limit=MAX_DATASET_BYTES)
    if suffix in (".yaml", ".yml"):
        return CaseRows(held=tuple(_yaml_rows(text, rel)), rel=rel)
    return CaseRows(text=text, rel=rel)


def _parsed(text: str, rel: str) -> Iterator[Entry]:
    suffix = Path(rel).suffix.lower()
    if suffix == ".csv":
        for number, cells in csv_records(text, rel):
            where = location(rel, number)
            yield _row_case(dict(cells), where), where
        return
    lines = suffix == ".jsonl"
    for number, row in json_lines(text, rel) if lines else json_array(text, rel):
        where = location(rel, number)
        if not isinstance(row, dict):
            raise ConfigError(
                f"{where}: a {'row' if lines else 'case'} must be a JSON object",
                "one object per line" if lines else "see docs/formats.md",
            )
        yield _row_case(row, where), where


def _yaml_rows(text: str, rel: str) -> Iterator[Entry]:
    data, node = read_yaml(text, rel)
    if not isinstance(data, list):
        raise ConfigError(f"{location(rel, 1)}: a YAML dataset must be a list of cases", "")
    for i, row in enumerate(data):
        where = location(rel, yaml_line(node, [i]))
        if not isinstance(row, dict):
            raise ConfigError(f"{where}: a case must be a mapping", "see docs/formats.md")
        yield _row_case(row, where), where


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


def _key(source: str, data: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
    return f"{source}#{digest[:10]}"


def _base_key(case: CaseSpec, where: str, merged: dict[str, Any]) -> str:
    return _key(where.split(":")[0], {"vars": merged, "expected": case.expected})


def _told_apart(key: str, case: CaseSpec) -> str:
    rest = case.model_dump(mode="json", include={"asserts", "description", "context", "tags"})
    return key + "." + _key("", rest).removeprefix("#")[:6]


def _context(value: Any) -> list[str] | None:
    if value is None:
        return None
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


class SuiteCases(Sequence[Case]):
    """A suite's cases, parsed from their files each time they are iterated.

    Made with one pass over the rows (which checks every one of them): it counts the
    cases and notes the keys that cases alike share. Each case's key is its file,
    its variables and its expected answer; cases alike in those (the same input
    checked in different ways, as promptfoo-style suites do) get what else tells
    them apart added (assertions, description, context, tags); cases alike in
    everything are numbered in order. A case's key stays the same when other cases
    move, so resumes, kept grades and run comparisons still find it.

    Raises:
        ConfigError: A row at fault, naming its file and line.
    """

    def __init__(self, rows: Sequence[Iterable[Entry]], defaults: SuiteDefaults) -> None:
        """Read ``rows`` once (the suite's ``cases:`` entries, in order)."""
        self._rows = rows
        self._defaults = defaults
        base: Counter[str] = Counter(_base_key(*found) for found in self._found())
        self._count = base.total()
        self._alike = frozenset(key for key, n in base.items() if n > 1)
        del base
        self._same: frozenset[str] = frozenset()
        if self._alike:
            full = Counter(
                _told_apart(key, case)
                for case, where, merged in self._found()
                if (key := _base_key(case, where, merged)) in self._alike
            )
            self._same = frozenset(key for key, n in full.items() if n > 1)

    def _found(self) -> Iterator[tuple[CaseSpec, str, dict[str, Any]]]:
        defaults = self._defaults.vars
        for rows in self._rows:
            for case, where in rows:
                yield case, where, {**defaults, **case.vars}

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Case]:
        defaults = self._defaults.asserts
        seen: Counter[str] = Counter()
        for index, (case, where, merged) in enumerate(self._found()):
            key = _base_key(case, where, merged)
            if key in self._alike:
                key = _told_apart(key, case)
                if key in self._same:
                    seen[key] += 1
                    key = f"{key}.{seen[key]}"
            yield Case(
                key=key,
                index=index,
                source=where,
                vars=merged,
                expected=case.expected,
                context=_context(case.context),
                asserts=[*defaults, *case.asserts],
                description=case.description,
                tags=list(case.tags),
            )

    @overload
    def __getitem__(self, index: int) -> Case: ...

    @overload
    def __getitem__(self, index: slice) -> list[Case]: ...

    def __getitem__(self, index: int | slice) -> Case | list[Case]:
        if isinstance(index, slice):
            return list(self)[index]
        position = index + self._count if index < 0 else index
        found = next(itertools.islice(self, position, None), None) if position >= 0 else None
        if found is None:
            raise IndexError("case index out of range")
        return found

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


class CaseCursor:
    """Finds the cases of a run's cells, which come in case order, reading forward.

    A cell names its case by key and position; the cursor reads the cases forward to
    that position and keeps the last ``window`` it read, starting over when asked
    for one further back. When the case there has another key (the suite changed
    since the run was stored, as a resumed run's may have), every case is read and
    held by key from then on.
    """

    def __init__(self, cases: Sequence[Case], window: int | None = None) -> None:
        """Find cases among ``cases``, keeping ``window`` of them (default ``WINDOW``)."""
        self._cases = cases
        self._window = WINDOW if window is None else window
        self._reader: Iterator[Case] | None = None
        self._next = 0  # position of the next case the reader gives
        self._recent: OrderedDict[int, Case] = OrderedDict()
        self._by_key: dict[str, Case] | None = None

    def get(self, key: str, index: int) -> Case | None:
        """The case ``key``, written at position ``index`` when the run was stored."""
        if self._by_key is None:
            case = self._at(index)
            if case is not None and case.key == key:
                return case
            self._by_key = {case.key: case for case in self._cases}
            self._recent.clear()
        return self._by_key.get(key)

    def _at(self, index: int) -> Case | None:
        if index < 0 or index >= len(self._cases):
            return None
        if index in self._recent:
            return self._recent[index]
        if self._reader is None or index < self._next:  # (behind the window) from the start
            self._reader, self._next = iter(self._cases), 0
            self._recent.clear()
        for case in self._reader:
            self._recent[self._next] = case
            self._next += 1
            if len(self._recent) > self._window:
                self._recent.popitem(last=False)
            if self._next > index:
                return case
        return None
