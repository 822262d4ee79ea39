"""select-best and max-score end to end: imported from promptfoo, run against the stub.

Each case's outputs (two models × two repeats) are graded across the case once its
cells are done: one output per repeat wins, the others fail; running the stage again
on the stored run changes nothing and asks the judge nothing.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text as sa_text

from promptdeck.core.evals.case_grading import grade_across_outputs
from promptdeck.core.evals.suites import load_suite
from promptdeck.core.evals.writer import CellWriter
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.paths import WorkspacePaths
from promptdeck.store import runs_repo
from tests.helpers import run_cli as run
from tests.stub_openai import Reply, StubServer, stub_server

CONFIG = """\
prompts: ['Name a food about {{topic}}']
providers: [openai:gpt-4o-mini, openai:gpt-4o]
evaluateOptions: {repeat: 2}
tests:
  - vars: {topic: fruit}
    assert:
      - {type: select-best, value: choose the answer about bananas}
  - vars: {topic: pie}
    assert:
      - {type: icontains, value: apple}
      - {type: max-score}
"""


def _respond(body: dict[str, Any]) -> Reply:
    text = body["messages"][-1]["content"]
    if body["model"] == "stub":  # the judge: the number of the output about bananas
        found = re.search(r'<Output index="(\d+)">\n[^<]*banana', text)
        return Reply(text=found.group(1) if found else "no idea")
    return Reply(text="a small apple" if body["model"] == "gpt-4o-mini" else "a big banana")


class _Judge:
    async def a_generate(self, prompt: str, schema: Any = None) -> str:
        return _respond({"model": "stub", "messages": [{"content": prompt}]}).text


class _NoJudge:
    async def a_generate(self, prompt: str, schema: Any = None) -> str:
        raise AssertionError("the judge was asked again")


def test_select_best_and_max_score_pick_one_output_per_case_and_repeat(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(CONFIG)
    paths = WorkspacePaths(tmp_path / "ws")
    paths.root.mkdir()

    async def scenario() -> tuple[int, str, str, StubServer]:
        async with stub_server(StubServer(respond=_respond)) as stub:
            paths.config.write_text(
                f'judge_model = "stub-judge"\n\n[models.stub-judge]\nmodel = "openai/stub"\n'
                f'api_base = "{stub.base}"\n'
            )
            code, out, err = await asyncio.to_thread(
                run, capsys, "import", "promptfoo", str(config), "--to", str(paths.root)
            )
            assert code == 0, out + err
            head, mark, block = paths.config.read_text().partition("# >>> imported")
            block = re.sub(r"^(api_base|api_key_env) = .*\n", "", block, flags=re.M)
            block = re.sub(r"^(model = .*)$", rf'\1\napi_base = "{stub.base}"', block, flags=re.M)
            paths.config.write_text(head + mark + block)
            suite = next(paths.suites.glob("*.suite.yaml")).name.removesuffix(".suite.yaml")
            code, out, err = await asyncio.to_thread(
                run, capsys, "--headless", "--workspace", str(paths.root), "eval", suite,
                "--json", str(tmp_path / "r.json"),
            )  # fmt: skip
            return code, out, err, stub

    code, out, err, stub = asyncio.run(scenario())
    assert code == 1, out + err  # the outputs that were not chosen fail
    judged = [r for r in stub.requests if r["model"] == "stub"]
    # Asked once per repeat of the select-best case (the second time the same
    # question may be answered from the gateway's cache).
    assert judged and all("choose the answer about bananas" in str(r) for r in judged)
    cells = json.loads((tmp_path / "r.json").read_text())["cells"]
    assert len(cells) == 8
    for cell in cells:
        graded = {s["type"]: s for s in cell["scores"]}
        if "select-best" in graded:
            assert graded["select-best"]["passed"] == ("banana" in cell["output"])
        else:
            assert graded["max-score"]["passed"] == ("apple" in cell["output"])
            assert graded["icontains"]["passed"] == ("apple" in cell["output"])
        assert cell["passed"] == all(s["passed"] for s in cell["scores"])

    # Graded again (a resumed run reaches this stage again): nothing changes.
    workspace = Workspace.open(paths)
    suite_file = next(paths.suites.glob("*.suite.yaml"))
    with workspace.session() as session:
        (run_row,) = runs_repo.list_runs(session)
        run_id = run_row.id
    assert run_id is not None
    cases = load_suite(suite_file, paths).cases

    async def again(judge: Any) -> list[Any]:
        written: list[Any] = []
        writer = CellWriter(written.extend)
        try:
            await grade_across_outputs(
                workspace, run_id, cases, threshold=1.0, judge=judge, writer=writer
            )
            await writer.flush()
        finally:
            writer.close()
        return written

    try:
        assert asyncio.run(again(_NoJudge())) == []
        # Interrupted halfway through a group (one cell lost its select-best score):
        # the whole group is graded again, the same way.
        with workspace.session() as session:
            cells = list(runs_repo.iter_cells(session, run_id))
        lost = next(
            cell for cell, scores in cells if any(s.assertion_type == "select-best" for s in scores)
        )
        with workspace.session() as session:
            session.execute(
                sa_text("DELETE FROM score WHERE cell_id = :c AND assertion_type = 'select-best'"),
                {"c": lost.id},
            )
        regraded = asyncio.run(again(_Judge()))
        group = [c for c, _ in cells if (c.case_key, c.repeat) == (lost.case_key, lost.repeat)]
        assert sorted(w.cell_id for w in regraded) == sorted(c.id for c in group)
        for write in regraded:
            (best,) = [s for s in write.scores if s.assertion_type == "select-best"]
            assert best.passed == ("banana" in (write.output or ""))
    finally:
        workspace.close()
