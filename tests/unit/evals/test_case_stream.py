"""A suite's cases streamed from their files: the same cases and keys, none held whole."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
from collections import Counter
from typing import Any

import pytest
from sqlmodel import select

from promptdeck.core.evals import case_stream, runner
from promptdeck.core.evals.case_stream import CaseCursor
from promptdeck.core.evals.queue import create_run
from promptdeck.core.evals.runner import EvalRunner, RunOutcome, plan_suite
from promptdeck.core.evals.suites import Case, CaseSpec, load_suite
from promptdeck.core.gateway import engine
from promptdeck.core.gateway.engine import Gateway
from promptdeck.core.providers.base import ChatRequest
from promptdeck.core.providers.fake import FakeProvider
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.errors import ConfigError
from promptdeck.store.tables import Run, RunCell

ALIKE = """\
prompts: [classify-ticket]
defaults:
  vars: {{team: support}}
  assert: [{{type: icontains, value: i}}]
cases:
  - description: the label
    vars: {{ticket: I was charged twice}}
    expected: billing
    assert: [{{type: equals}}]
  - description: short enough
    vars: {{ticket: I was charged twice}}
    expected: billing
    assert: [{{type: max-length, value: 3}}]
  - vars: {{ticket: I was charged twice}}
    expected: billing
  - vars: {{ticket: I was charged twice}}
    expected: billing
  - dataset: datasets/rows.jsonl
  - dataset: datasets/rows.csv
"""


def _reference_keys(found: list[tuple[CaseSpec, str, dict[str, Any]]]) -> list[str]:
    """The keys as computed when every case was held (the algorithm before streaming)."""

    def key(source: str, data: dict[str, Any]) -> str:
        text = json.dumps(data, sort_keys=True, default=str).encode()
        return f"{source}#{hashlib.sha256(text).hexdigest()[:10]}"

    keys = [
        key(where.split(":")[0], {"vars": merged, "expected": case.expected})
        for case, where, merged in found
    ]
    alike = Counter(keys)
    for i, (case, _, _) in enumerate(found):
        if alike[keys[i]] > 1:
            rest = case.model_dump(
                mode="json", include={"asserts", "description", "context", "tags"}
            )
            keys[i] += "." + key("", rest).removeprefix("#")[:6]
    same = Counter(keys)
    seen: Counter[str] = Counter()
    for i, k in enumerate(keys):
        if same[k] > 1:
            seen[k] += 1
            keys[i] = f"{k}.{seen[k]}"
    return keys


def _write_alike(workspace: Workspace) -> None:
    rows = [{"vars": {"ticket": f"t{i % 3}"}, "expected": "x"} for i in range(7)]
    rows.append({"vars": {"ticket": "t0"}, "expected": "x", "tags": ["other"]})
    datasets = workspace.paths.datasets
    (datasets / "rows.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    (datasets / "rows.csv").write_text('ticket,expected\nt0,x\nt0,x\n"two\nlines",y\n')
    (workspace.paths.suites / "alike.suite.yaml").write_text(ALIKE.format())


def test_streamed_cases_and_keys_are_the_ones_the_held_list_gave(workspace: Workspace) -> None:
    _write_alike(workspace)
    suite = load_suite(workspace.paths.suites / "alike.suite.yaml", workspace.paths)
    cases = list(suite.cases)
    assert len(suite.cases) == len(cases) == 4 + 8 + 3
    found = [
        (spec, where, {**suite.file.defaults.vars, **spec.vars})
        for rows in suite.cases._rows  # type: ignore[attr-defined]
        for spec, where in rows
    ]
    assert [c.key for c in cases] == _reference_keys(found)
    assert len({c.key for c in cases}) == len(cases)
    assert [c.index for c in cases] == list(range(len(cases)))
    assert cases[0].vars == {"team": "support", "ticket": "I was charged twice"}
    assert [a.type for a in cases[0].asserts] == ["icontains", "equals"]
    assert cases[-1].source == "datasets/rows.csv:4" and cases[-1].vars["ticket"] == "two\nlines"
    assert list(suite.cases) == cases  # read again: the same cases
    assert suite.cases[5] == cases[5] and suite.cases[-1] == cases[-1]
    assert suite.cases[2:4] == cases[2:4]
    with pytest.raises(IndexError):
        suite.cases[len(cases)]


def test_a_bad_row_is_found_when_the_suite_loads(workspace: Workspace) -> None:
    _write_alike(workspace)
    (workspace.paths.datasets / "rows.jsonl").write_text('{"vars": {"a": 1}}\n[1, 2]\n')
    with pytest.raises(ConfigError, match=r"datasets/rows.jsonl:2: a row must be a JSON object"):
        load_suite(workspace.paths.suites / "alike.suite.yaml", workspace.paths)


class _Counted(Case):
    """A case that counts how many of its kind are alive at once."""

    live = 0
    most = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _Counted.live += 1
        _Counted.most = max(_Counted.most, _Counted.live)

    def __del__(self) -> None:
        _Counted.live -= 1


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> type[_Counted]:
    monkeypatch.setattr(case_stream, "Case", _Counted)
    _Counted.live = _Counted.most = 0
    return _Counted


def _dataset_suite(workspace: Workspace, n: int) -> None:
    rows = "\n".join(json.dumps({"vars": {"ticket": f"ticket {i}"}}) for i in range(n))
    (workspace.paths.datasets / "many.jsonl").write_text(rows + "\n")
    (workspace.paths.suites / "many.suite.yaml").write_text(
        "prompts: [classify-ticket]\nconcurrency: 4\nrepeat: 2\n"
        "defaults:\n  assert: [{type: icontains, value: tech}]\n"
        "cases:\n  - dataset: datasets/many.jsonl\n"
    )


def test_planning_and_storing_a_run_hold_no_case(
    workspace: Workspace, counted: type[_Counted]
) -> None:
    """Planning checks, renders and stores every case, a case at a time."""
    workspace.sync()
    _dataset_suite(workspace, 3000)
    plan = plan_suite(workspace, "many")
    uid = create_run(workspace, plan)
    gc.collect()
    assert plan.total == 6000 and len(plan.suite.cases) == 3000
    assert counted.most <= 2 and counted.live == 0  # yet every case was made
    with workspace.session() as session:
        run = session.exec(select(Run).where(Run.uid == uid)).one()
        stored = len(session.exec(select(RunCell.id).where(RunCell.run_id == run.id)).all())
    assert stored == run.total_cells == 6000


def _label(request: ChatRequest) -> str:
    return "technical" if "7" in request.messages[-1]["content"] else "billing"


def _run(workspace: Workspace, name: str) -> RunOutcome:
    async def go() -> RunOutcome:
        gateway = Gateway.for_workspace(workspace)
        try:
            return await EvalRunner(workspace, gateway, cache="write").run(
                plan_suite(workspace, name)
            )
        finally:
            await gateway.aclose()

    return asyncio.run(go())


def test_a_run_holds_a_window_of_cases_and_stores_the_same_cells(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, counted: type[_Counted]
) -> None:
    provider = FakeProvider(default=_label)
    monkeypatch.setattr(engine, "make_provider_factory", lambda config, root: lambda t: provider)
    workspace.sync()
    _dataset_suite(workspace, 150)
    whole = _run(workspace, "many")
    monkeypatch.setattr(case_stream, "WINDOW", 10)
    monkeypatch.setattr(runner, "BATCH", 20)
    monkeypatch.setattr(runner, "KEEP_RENDERED", 8)
    monkeypatch.setattr(runner, "KEEP_RESULTS", 3)
    counted.most = 0
    streamed = _run(workspace, "many")
    assert streamed.status == whole.status == "finished"
    # The window, the jobs of the batch in hand and of the one read ahead: not 150.
    assert counted.most <= 10 + 2 * 20
    same = ("prompt", "model", "case_key", "case_index", "repeat", "status", "output", "scores")
    assert [[getattr(c, f) for f in same] for c in streamed.cells] == [
        [getattr(c, f) for f in same] for c in whole.cells
    ]
    assert streamed.summary.passed == whole.summary.passed > 0
    assert streamed.summary.failed == whole.summary.failed > 0


def _cases(keys: str) -> list[Case]:
    return [Case(key=k, index=i, source=f"s:{i}", vars={}) for i, k in enumerate(keys)]


def test_the_cursor_reads_forward_starts_over_and_finds_moved_cases_by_key() -> None:
    reads: list[int] = []

    class Watched(list[Case]):
        def __iter__(self):  # type: ignore[no-untyped-def]
            reads.append(len(reads))
            return super().__iter__()

    cursor = CaseCursor(Watched(_cases("abcdefgh")), window=3)
    asked = [("a", 0), ("a", 0), ("b", 1), ("c", 2), ("d", 3), ("d", 3)]
    assert [cursor.get(k, i) for k, i in asked] == [_cases("abcdefgh")[i] for _, i in asked]
    assert cursor.get("b", 1).key == "b" and len(reads) == 1  # type: ignore[union-attr]
    assert cursor.get("a", 0).key == "a" and len(reads) == 2  # type: ignore[union-attr]
    # The suite changed since the cells were stored: found by key, or not at all.
    assert cursor.get("h", 2).key == "h" and len(reads) == 3  # type: ignore[union-attr]
    assert cursor.get("c", 7).key == "c" and cursor.get("z", 9) is None  # type: ignore[union-attr]
    assert len(reads) == 3  # from then on by key
