"""The data the HTML report's page reads: compact, JSON-ready, built from a report's runs.

The page holds tens of thousands of cells, so the payload is compact: each text is
stored once in a string table ``S`` and cells refer to it by index; a cell is an array
whose fields ``F`` names. Statistics come from :mod:`promptdeck.core.evals.results`
(:func:`summarize`: pass rates with their Wilson interval, pass@k and pass^k, latency
percentiles) and the comparisons from :mod:`promptdeck.core.evals.compare` (the paired
exact McNemar test); the page only shows them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from promptdeck.core.evals.compare import Comparison
from promptdeck.core.evals.report_data import CellExtra, CellId, ReportData, cell_id
from promptdeck.core.evals.results import UNCHECKED, CellResult, GroupSummary, summarize

__all__ = ["CELL_FIELDS", "build_payload"]

CELL_FIELDS = (
    "row",
    "col",
    "repeat",
    "status",
    "score",
    "output",
    "error",
    "latency_ms",
    "ttft_ms",
    "tokens",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "source",
    "similarity",
    "cache",
    "messages",
    "scores",
    "ratings",
    "trace",
    "change",
    "before",
)
"""The fields of a cell array, in order (``cost_usd`` is null when the cost is unknown)."""

_STATUS = {"pass": "p", "fail": "f", "error": "e", UNCHECKED: "u"}


class _Strings:
    """A string table: each distinct text stored once, referred to by index."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.table: list[str] = []

    def __call__(self, text: str | None) -> int | None:
        if text is None:
            return None
        found = self.index.get(text)
        if found is None:
            found = self.index[text] = len(self.table)
            self.table.append(text)
        return found


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _scores(cell: CellResult, s: _Strings) -> list[list[Any]]:
    return [
        [s(x.name), s(x.type), round(x.value, 4), int(x.passed), s(x.reason or x.error or "")]
        for x in cell.scores
    ]


def _rollup(
    cells: list[CellResult], unknown: list[bool], key: Callable[[CellResult], tuple[str, str]]
) -> list[dict[str, Any]]:
    """Summaries of the cells grouped by one dimension (a model, or a prompt).

    A case's identity keeps the other dimension, so pass@k and flaky cases count each
    prompt × model × case on its own.
    """
    regrouped = []
    for cell in cells:
        label, other = key(cell)
        regrouped.append(
            replace(cell, suite="", prompt=label, model="", case_key=f"{other}|{cell.case_key}")
        )
    missing: Counter[str] = Counter(key(c)[0] for c, u in zip(cells, unknown, strict=True) if u)
    return [{**g.to_dict(), "unknown_cost": missing[g.prompt]} for g in summarize(regrouped).groups]


def _group(group: GroupSummary, missing: int) -> dict[str, Any]:
    return {**group.to_dict(), "unknown_cost": missing}


def build_payload(data: ReportData, title: str) -> dict[str, Any]:
    """Build the page's data from a report's runs.

    Args:
        data: The runs, their extras and comparisons (see ``load_report``).
        title: The report's title.

    Returns:
        A JSON-ready mapping.
    """
    s = _Strings()
    unknown = [not extra.cost_known for extra in data.extras]
    missing: Counter[tuple[str, str, str]] = Counter(
        (c.suite, c.prompt, c.model) for c, u in zip(data.cells, unknown, strict=True) if u
    )
    summary = {**data.summary.to_dict(), "unknown_cost": sum(unknown)}
    summary["groups"] = [
        _group(g, missing[(g.suite, g.prompt, g.model)]) for g in data.summary.groups
    ]
    rows: dict[tuple[str, str], int] = {}
    row_list: list[list[Any]] = []
    cols: dict[tuple[str, str, str], int] = {}
    col_list: list[list[str | None]] = []
    # Several runs side by side: a column per run × prompt × model.
    own = data.summary.run_id or ""
    runs = data.runs or [own] * len(data.cells)
    several = len(set(runs)) > 1
    changes: dict[tuple[str, CellId], tuple[int, str]] = {}
    for comparison in data.comparisons:
        for keys, sign in ((comparison.regressions, -1), (comparison.improvements, 1)):
            for key in keys:
                changes[(comparison.after, key)] = (sign, comparison.before)
    before: list[list[Any]] = []
    before_index: dict[tuple[str, CellId], int] = {}
    messages: dict[tuple[tuple[str, str], ...], int] = {}
    message_list: list[list[list[Any]]] = []
    cells: list[list[Any]] = []
    tags: Counter[str] = Counter()
    for cell, extra, run in zip(data.cells, data.extras, runs, strict=True):
        row_key = (cell.suite, cell.case_key)
        row = rows.get(row_key)
        if row is None:
            row = rows[row_key] = len(row_list)
            info = data.cases.get(row_key)
            case_tags = list(info.tags) if info else []
            tags.update(case_tags)
            row_list.append(
                [
                    s(cell.suite),
                    s(cell.case_key),
                    cell.case_index,
                    s(cell.case_description),
                    s(info.source if info and info.source else cell.case_source),
                    [s(t) for t in case_tags],
                    s(_json(info.vars)) if info and info.vars else None,
                    s(_json(info.expected)) if info and info.expected is not None else None,
                ]
            )
        col_key = (run if several else "", cell.prompt, cell.model)
        column = cols.get(col_key)
        if column is None:
            column = cols[col_key] = len(col_list)
            col_list.append([cell.prompt, cell.model, run if several else None])
        change, before_run = changes.get((run, cell_id(cell)), (0, ""))
        old_key = (before_run, cell_id(cell))
        old: int | None = None
        if change and old_key in data.before:
            old = before_index.get(old_key)
            if old is None:
                old = before_index[old_key] = len(before)
                was = data.before[old_key]
                before.append(
                    [
                        _STATUS[was.status],
                        round(was.score, 4),
                        s(was.output),
                        s(was.error),
                        _scores(was, s),
                        s(was.prompt),
                        s(before_run),
                    ]
                )
        cells.append(_cell(cell, extra, row, column, change, old, s, messages, message_list))
    return {
        "version": 1,
        "title": title,
        "F": list(CELL_FIELDS),
        "S": s.table,
        "summary": summary,
        "by_model": _rollup(data.cells, unknown, lambda c: (c.model, c.prompt)),
        "by_prompt": _rollup(data.cells, unknown, lambda c: (c.prompt, c.model)),
        "rows": row_list,
        "cols": col_list,
        "tags": sorted(tags),
        "P": message_list,
        "cells": cells,
        "before": before,
        "compare": [_comparison(c) for c in data.comparisons],
    }


def _cell(
    cell: CellResult,
    extra: CellExtra,
    row: int,
    column: int,
    change: int,
    old: int | None,
    s: _Strings,
    messages: dict[tuple[tuple[str, str], ...], int],
    message_list: list[list[list[Any]]],
) -> list[Any]:
    asked: int | None = None
    if extra.messages:
        asked = messages.get(extra.messages)
        if asked is None:
            asked = messages[extra.messages] = len(message_list)
            message_list.append([[s(role), s(content)] for role, content in extra.messages])
    return [
        row,
        column,
        cell.repeat,
        _STATUS[cell.status],
        round(cell.score, 4),
        s(cell.output),
        s(cell.error),
        _round(cell.latency_ms, 1),
        _round(cell.ttft_ms, 1),
        cell.tokens,
        extra.prompt_tokens,
        extra.completion_tokens,
        _round(cell.cost_usd or 0.0, 10) if extra.cost_known else None,
        cell.source,
        _round(cell.similarity, 4),
        extra.cache,
        asked,
        _scores(cell, s),
        [[r.thumbs, r.rating, s(r.comment), s(r.corrected), s(r.actor)] for r in extra.ratings],
        extra.trace,
        change,
        old,
    ]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True, default=str)


def _comparison(comparison: Comparison) -> dict[str, Any]:
    test = comparison.test
    return {
        "before": comparison.before,
        "after": comparison.after,
        "regressions": len(comparison.regressions),
        "improvements": len(comparison.improvements),
        "unchanged": comparison.unchanged,
        "only_before": comparison.only_before,
        "only_after": comparison.only_after,
        "test": None
        if test is None
        else {
            "both_pass": test.both_pass,
            "both_fail": test.both_fail,
            "regressions": test.regressions,
            "improvements": test.improvements,
            "p_value": test.p_value,
            "alpha": test.alpha,
            "significant": test.significant,
        },
    }
