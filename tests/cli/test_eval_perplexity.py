"""perplexity end to end: a promptfoo config imported, then `promptdeck eval` against the stub.

gpt-4o-mini's answers come with token logprobs (the stub gives them to a request that
asks); gpt-4o's server gives none, so its perplexity assertions are not graded and its
cells fail with a one-line reason naming the model (never a crash, never a pass). A
second run is served from the cache and grades the same, and so does a cell whose
answer was stored but not graded when its run was interrupted (its logprobs are read
back from its call).
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from promptdeck.paths import WorkspacePaths
from tests.helpers import run_cli as run
from tests.stub_openai import Reply, StubServer, stub_server

CONFIG = """\
prompts: ['Name a colour like {{thing}}']
providers: [openai:gpt-4o-mini, openai:gpt-4o]
tests:
  - vars: {thing: the sky}
    assert:
      - {type: perplexity, threshold: 1.5}
      - {type: perplexity-score, threshold: 0.4}
  - vars: {thing: grass}
    assert:
      - {type: icontains, value: green}
"""
SURE = [-0.1, -0.3, -0.2]  # perplexity e^0.2 = 1.2214, score 0.4502


def _respond(body: dict[str, Any]) -> Reply:
    if body["model"] == "gpt-4o-mini":
        return Reply(text="blue as the sea", logprobs=SURE)
    return Reply(text="green like grass")  # a server that gives no logprobs


def _interrupt(paths: WorkspacePaths, uid: str) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    with sqlite3.connect(paths.database, timeout=30) as conn:
        (run_id,) = conn.execute("SELECT id FROM run WHERE uid = ?", (uid,)).fetchone()
        conn.execute(
            "UPDATE run SET status = 'running', finished_at = NULL WHERE id = ?", (run_id,)
        )
        conn.execute(
            "UPDATE run_cell SET status = 'pending', score = NULL, passed = NULL "
            "WHERE run_id = ? AND case_index = 0",
            (run_id,),
        )
        conn.execute(
            "DELETE FROM score WHERE cell_id IN "
            "(SELECT id FROM run_cell WHERE run_id = ? AND case_index = 0)",
            (run_id,),
        )
        conn.execute(
            "UPDATE run_lease SET ended_at = NULL, pid = ?, host = ? WHERE run_id = ?",
            (int(dead.stdout), socket.gethostname(), run_id),
        )


def _scenario(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[list[Any], StubServer]:
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(CONFIG)
    paths = WorkspacePaths(tmp_path / "ws")
    paths.root.mkdir()
    results: list[Any] = []

    async def scenario() -> StubServer:
        async with stub_server(StubServer(respond=_respond)) as stub:
            code, out, err = await asyncio.to_thread(
                run, capsys, "import", "promptfoo", str(config), "--to", str(paths.root)
            )
            assert code == 0, out + err  # nothing skipped: perplexity is carried
            head, mark, block = paths.config.read_text().partition("# >>> imported")
            block = re.sub(r"^(api_base|api_key_env) = .*\n", "", block, flags=re.M)
            block = re.sub(r"^(model = .*)$", rf'\1\napi_base = "{stub.base}"', block, flags=re.M)
            paths.config.write_text(head + mark + block)
            suite = next(paths.suites.glob("*.suite.yaml"))
            results.append(yaml.safe_load(next(paths.root.glob("datasets/*.yaml")).read_text()))
            for n in (1, 2):
                code, out, err = await asyncio.to_thread(
                    run, capsys, "--headless", "--workspace", str(paths.root), "eval",
                    suite.name.removesuffix(".suite.yaml"), "--json", str(tmp_path / f"r{n}.json"),
                )  # fmt: skip
                assert code == 1, out + err  # gpt-4o's perplexity cells fail
                results.append(json.loads((tmp_path / f"r{n}.json").read_text())["cells"])
            # Run 1 as a kill while grading leaves it: its answers stored, not graded.
            uid = re.findall(r"^(\d{8}-\d{6}-[0-9a-f]{6}): ", err, re.M)[0]
            _interrupt(paths, uid)
            code, out, err = await asyncio.to_thread(
                run, capsys, "--headless", "--workspace", str(paths.root), "eval",
                "--resume", uid, "--json", str(tmp_path / "r3.json"),
            )  # fmt: skip
            assert code == 1, out + err
            results.append(json.loads((tmp_path / "r3.json").read_text())["cells"])
            return stub

    return results, asyncio.run(scenario())


def test_perplexity_imported_and_graded_against_the_stub(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    (dataset, first, second, resumed), stub = _scenario(tmp_path, capsys)
    asserts = [a for case in dataset for a in case.get("assert", [])]
    assert {"type": "perplexity", "value": 1.5} in asserts
    assert {"type": "perplexity-score", "threshold": 0.4} in asserts

    # Only the requests of the case with perplexity assertions asked for logprobs.
    asked = {(b["model"], b["messages"][-1]["content"], b.get("logprobs")) for b in stub.requests}
    assert asked == {
        ("gpt-4o-mini", "Name a colour like the sky", True),
        ("gpt-4o", "Name a colour like the sky", True),
        ("gpt-4o-mini", "Name a colour like grass", None),
        ("gpt-4o", "Name a colour like grass", None),
    }
    assert len(stub.requests) == 4  # the second run came from the cache, the resume too
    for cells in (first, second, resumed):
        by = {(c["model"], c["case_index"]): c for c in cells}
        sure = {s["type"]: s for s in by[("gpt-4o-mini", 0)]["scores"]}
        assert by[("gpt-4o-mini", 0)]["status"] == "pass"
        assert sure["perplexity"]["passed"] and "1.221" in sure["perplexity"]["reason"]
        assert sure["perplexity-score"]["value"] == pytest.approx(1 / (1 + math.exp(0.2)))
        none = by[("gpt-4o", 0)]
        assert none["status"] == "fail" and none["error"] is None
        for score in none["scores"]:
            assert not score["passed"] and "\n" not in score["reason"]
            assert score["reason"].startswith("not graded: ")
            assert "gave no token logprobs" in score["reason"] and "gpt-4o" in score["reason"]
    assert {c["source"] for c in second} <= {"cached", "regraded"}
