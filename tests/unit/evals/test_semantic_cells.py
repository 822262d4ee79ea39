"""Eval runs and the semantic cache: opt-in per suite, and every served cell says so."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from sqlmodel import select

from promptdeck.core.evals.reports import cell_jsonl, render_json, render_junit, render_markdown
from promptdeck.core.evals.runner import EvalRunner, RunOutcome, plan_suite, run_results
from promptdeck.core.gateway import engine
from promptdeck.core.gateway.engine import Gateway
from promptdeck.core.providers.base import ChatRequest
from promptdeck.core.providers.fake import FakeProvider
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.paths import WorkspacePaths
from promptdeck.store.tables import RunCell

SUITE = """\
prompts: [truthful-qa]
concurrency: 1
{cache}
cases:
{cases}
"""


def _answer(request: ChatRequest) -> str:
    return f"answer to: {request.messages[-1]['content']}"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    provider = FakeProvider(default=_answer)
    monkeypatch.setattr(engine, "make_provider_factory", lambda config, root: lambda t: provider)
    return provider


@pytest.fixture
def semantic_ws(demo_paths: WorkspacePaths) -> Iterator[Workspace]:
    """The demo workspace with ``[cache] semantic = true``."""
    config = demo_paths.root / "promptdeck.toml"
    config.write_text(config.read_text().replace("semantic = false", "semantic = true"))
    workspace = Workspace.open(demo_paths)
    workspace.sync()
    try:
        yield workspace
    finally:
        workspace.close()


def _run(workspace: Workspace, questions: list[str], cache: str | None) -> RunOutcome:
    cases = "\n".join(
        f"  - vars: {{question: {json.dumps(q)}}}\n    assert: [{{type: contains, value: answer}}]"
        for q in questions
    )
    line = f"cache: {cache}" if cache else ""
    (workspace.paths.suites / "qa.suite.yaml").write_text(SUITE.format(cache=line, cases=cases))

    async def go() -> RunOutcome:
        gateway = Gateway.for_workspace(workspace)
        try:
            return await EvalRunner(workspace, gateway).run(plan_suite(workspace, "qa"))
        finally:
            await gateway.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize("cache", [None, "semantic"])
def test_three_different_questions_get_three_fresh_answers(
    semantic_ws: Workspace, fake: FakeProvider, cache: str | None
) -> None:
    questions = [
        "What is the capital of France?",
        "How many legs does a spider have?",
        "Who wrote Hamlet?",
    ]
    outcome = _run(semantic_ws, questions, cache)
    assert [c.source for c in outcome.cells] == ["fresh"] * 3
    assert len(fake.requests) == 3
    assert [c.output for c in outcome.cells] == [f"answer to: Q: {q}\nA:" for q in questions]


def test_a_suite_takes_no_semantic_hit_unless_it_opts_in(
    semantic_ws: Workspace, fake: FakeProvider
) -> None:
    outcome = _run(
        semantic_ws, ["What is the capital of France?", "what is the capital of france"], None
    )
    assert [c.source for c in outcome.cells] == ["fresh", "fresh"]
    assert [c.similarity for c in outcome.cells] == [None, None]
    assert len(fake.requests) == 2


def test_a_served_cell_says_semantic_and_its_similarity_everywhere(
    semantic_ws: Workspace, fake: FakeProvider
) -> None:
    outcome = _run(
        semantic_ws,
        ["What is the capital of France?", "Q: what is the capital of france, please"],
        "semantic",
    )
    first, served = outcome.cells
    assert first.source == "fresh" and served.source == "semantic"
    assert served.similarity is not None and served.similarity > 0.99
    assert served.output == first.output and len(fake.requests) == 1
    # As stored, and as read back.
    with semantic_ws.session() as session:
        rows = session.exec(select(RunCell).order_by(RunCell.id)).all()  # type: ignore[arg-type]
        assert [(r.source, r.similarity is not None) for r in rows] == [
            ("fresh", False),
            ("semantic", True),
        ]
    stored = list(run_results(semantic_ws, outcome.run_uid))
    assert stored[1].source == "semantic" and stored[1].similarity == served.similarity
    # Every report.
    cells = outcome.cells
    document = json.loads(render_json(outcome.summary, cells))
    assert document["cells"][1]["source"] == "semantic"
    assert document["cells"][1]["similarity"] == pytest.approx(served.similarity)
    assert "similarity" not in document["cells"][0]
    assert document["summary"]["groups"][0]["sources"] == {"fresh": 1, "semantic": 1}
    line = json.loads(cell_jsonl(served))
    assert line["source"] == "semantic" and line["similarity"] > 0.99
    case = ET.fromstring(render_junit(outcome.summary, cells)).findall(".//testcase")[1]
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["source"] == "semantic" and float(props["similarity"]) > 0.99
    markdown = render_markdown(outcome.summary, cells)
    assert "### Answered by the semantic cache (1)" in markdown
    assert f"similarity {served.similarity:.3f}, pass" in markdown
