"""The early start's requests are the run's requests; it starts only when nothing can stop them.

A request sent early is only ever used by the cell that asks the very same request (by
exact-cache key), so a plan that built a request differently would pay for a call no
cell takes. These tests build the requests both ways, over prompts with the parts that
change a request (examples, parameters, a JSON schema, a context window that lowers
``max_tokens``, a perplexity assertion that asks for logprobs), and check the early
start stands aside for every run whose calls something could stop or change.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from promptdeck.core.evals.batches import CellPlanner
from promptdeck.core.evals.early_start import EarlyStart
from promptdeck.core.evals.plan import plan_suite
from promptdeck.core.gateway import begin_stage
from promptdeck.core.gateway.early_answers import (
    EarlyAnswer,
    Journal,
    journaled_keys,
    orphaned_journals,
    read_journal,
)
from promptdeck.core.gateway.engine import Gateway
from promptdeck.core.gateway.spec import CallSpec
from promptdeck.core.providers.base import Completion, Usage
from promptdeck.core.providers.router import ModelRouter
from promptdeck.core.workspace.init import init_workspace
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.paths import WorkspacePaths

ALIASES = """
[models.a]
model = "openai/early-a"
api_base = "http://127.0.0.1:9/v1"
api_key_env = "EARLY_KEY"
params = { temperature = 0.3 }

[models.small]
model = "openai/early-small"
api_base = "http://127.0.0.1:9/v1"
context_window = 120
"""
PROMPTS = {
    "plain": "name: plain\ntemplate: 'Tell me about {{ topic }}'\nvariables: {topic: {}}\n",
    "rich": """\
name: rich
system: You are terse.
params: {temperature: 0.7, max_tokens: 400, seed: 7}
examples:
  - {input: 'about cats', output: 'They purr.'}
template: 'Now about {{ topic }}, in one line.'
variables: {topic: {}}
""",
    "schema": """\
name: schema
params:
  response_format:
    type: json_schema
    json_schema: {name: t, schema: {type: object, properties: {t: {type: string}}}}
template: 'JSON about {{ topic }}'
variables: {topic: {}}
""",
}
SUITE = """\
prompts: [plain, rich, schema]
models: [a, small]
repeat: 2
cases:
  - vars: {topic: cats}
    assert: [{type: contains, value: x}]
  - vars: {topic: dogs}
    assert: [{type: perplexity, value: 3}]
  - vars: {topic: cats}
    assert: [{type: icontains, value: y}]
"""


@pytest.fixture
def paths(tmp_path: Path) -> WorkspacePaths:
    made = init_workspace(tmp_path / "ws")
    made.config.write_text(made.config.read_text() + ALIASES)
    for name, text in PROMPTS.items():
        (made.prompts / f"{name}.prompt.yaml").write_text(text)
    (made.suites / "s.suite.yaml").write_text(SUITE)
    return made


def _early(paths: WorkspacePaths, **kwargs: object) -> EarlyStart | None:
    options: dict[str, object] = {"cache": "read", "concurrency": None, "max_cost": None}
    options.update(kwargs)
    return EarlyStart.plan(paths.root, ["s"], **options)  # type: ignore[arg-type]


def _keys(early: EarlyStart) -> list[str]:
    return [request.key for request in early._requests]


def test_the_early_requests_are_the_requests_the_run_makes(paths: WorkspacePaths) -> None:
    early = _early(paths)
    assert early is not None
    workspace = Workspace.open(paths)
    try:
        workspace.sync()
        plan = plan_suite(workspace, "s")
        gateway = Gateway.for_workspace(workspace)
        planner = CellPlanner(workspace, gateway, "read")
        run_keys: list[str] = []
        lowered = 0
        for prompt, model, case, repeat in plan.cells():
            spec, _ = planner.spec(plan, prompt, model, case, repeat, None)
            call, blocked = begin_stage.begin(
                spec, workspace.config, gateway.budgets, gateway.router, gateway.windows
            )
            assert blocked is None
            lowered += "max_tokens" in call.spec.overrides
            if call.key not in run_keys:
                run_keys.append(call.key)
    finally:
        workspace.close()
    assert lowered  # the small window lowered some max_tokens: that case is covered
    assert _keys(early) == run_keys  # the same requests, in the same order, each once
    sent = {r.key: r.spec for r in early._requests}
    assert any(spec.overrides.get("logprobs") for spec in sent.values())
    assert any(spec.response_format for spec in sent.values())


def test_cached_requests_are_not_sent_early(paths: WorkspacePaths) -> None:
    early = _early(paths)
    assert early is not None
    keys, first = _keys(early), early._requests[0]
    done = Completion(text="x", usage=Usage(1, 1), model=first.model_name, provider="http")
    answer = EarlyAnswer("u1", first.key, first.spec, first.model_name, done, seconds=0.01)
    workspace = Workspace.open(paths)
    try:
        gateway = Gateway.for_workspace(workspace)
        assert asyncio.run(gateway.record_early([answer])) == 1  # its trace, its cache entry
        assert asyncio.run(gateway.record_early([answer])) == 0  # once
    finally:
        workspace.close()
    again = _early(paths)
    assert again is not None
    assert _keys(again) == keys[1:]


@pytest.mark.parametrize(
    ("file", "old", "new"),
    [
        ("config", 'action = "warn"', 'action = "block"'),
        ("config", 'action = "warn"', 'action = "switch_to: a"'),
        ("config", "[approval]", "[evals]\nmax_cost = 1.0\n\n[approval]"),
        ("config", "exact = true", "exact = false"),
        ("config", "params = { temperature = 0.3 }", 'on_timeout = "cached"'),
        ("config", "[approval]", '[guardrails]\ninput = [{ scanner = "injection" }]\n[approval]'),
        ("config", "# promptdeck", 'database_url = "postgresql://u@localhost/x"\n# promptdeck'),
        ("suite", "repeat: 2", "repeat: 2\ncache: semantic"),
        ("suite", "models: [a, small]", "models: [a, local/smollm2-135m]"),
        ("suite", "models: [a, small]", "models: [a, anthropic/claude-3-haiku-20240307]"),
        ("suite", "prompts: [plain, rich, schema]", "prompts: [plain@1, rich]"),
        ("prompt", "name: plain", "name: plain\nguardrails:\n  input: [{scanner: injection}]"),
    ],
)
def test_it_stands_aside_when_something_could_stop_or_change_a_call(
    paths: WorkspacePaths, file: str, old: str, new: str
) -> None:
    from promptdeck.config import load_config
    from promptdeck.core.evals.suites import load_suite

    assert _early(paths) is not None
    path = {
        "config": paths.config,
        "suite": paths.suites / "s.suite.yaml",
        "prompt": paths.prompts / "plain.prompt.yaml",
    }[file]
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    load_config(paths.config)  # still valid: it is the change that decides
    load_suite(paths.suites / "s.suite.yaml", paths)
    assert _early(paths) is None


def test_it_stands_aside_for_max_cost_two_suites_and_a_shared_database(
    paths: WorkspacePaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _early(paths, max_cost=1.0) is None
    assert (
        EarlyStart.plan(paths.root, ["s", "s"], cache="read", concurrency=None, max_cost=None)
        is None
    )
    assert EarlyStart.plan(paths.root, [], cache="read", concurrency=None, max_cost=None) is None
    monkeypatch.setenv("PROMPTDECK_DATABASE_URL", "postgresql://u@localhost/x")
    assert _early(paths) is None


def test_a_suite_that_does_not_validate_gets_no_early_start(paths: WorkspacePaths) -> None:
    (paths.suites / "s.suite.yaml").write_text(SUITE + "  - vars: {}\n")  # topic missing
    assert _early(paths) is None


# -- the journal -----------------------------------------------------------------------


def _answer(key: str, text: str = "fine") -> EarlyAnswer:
    spec = CallSpec(model="a", messages=[{"role": "user", "content": "hi"}], repeat=1)
    done = Completion(text=text, usage=Usage(5, 3), cost_usd=0.5, latency_ms=42.0, model="a")
    return EarlyAnswer("u" + key, key, spec, "a", done, seconds=0.042)


def test_a_journal_reads_back_what_was_written_and_masks_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EARLY_KEY", "sk-live-0123456789abcdef")
    journal = Journal(tmp_path)
    journal.append(_answer("k1"))
    journal.append(_answer("k2", "the key is sk-live-0123456789abcdef"))
    journal.close()
    damaged = json.loads(journal.path.read_text().splitlines()[0])
    damaged["spec"]["messages"] = ["not a message"]
    with journal.path.open("a") as torn:
        torn.write(json.dumps(damaged) + "\n")  # a line damaged some other way
        torn.write('{"uid": "cut sh')  # a line a kill cut short
    assert "sk-live-0123456789abcdef" not in journal.path.read_text()
    router = ModelRouter.__new__(ModelRouter)  # resolve() is not needed without attempts
    answers = read_journal(journal.path, router)
    assert [a.key for a in answers] == ["k1", "k2"]
    first = answers[0]
    assert first.completion.text == "fine" and first.completion.usage.prompt_tokens == 5
    assert first.completion.cost_usd == 0.5 and first.seconds == pytest.approx(0.042)
    assert first.spec.repeat == 1 and first.spec.messages == [{"role": "user", "content": "hi"}]
    assert "sk-live" not in answers[1].completion.text
    journal.remove()
    assert not journal.path.exists()


def test_only_the_journals_of_processes_that_are_gone_are_orphans(tmp_path: Path) -> None:
    mine = Journal(tmp_path)
    mine.append(_answer("live"))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    gone = tmp_path / "early" / f"{dead.stdout.strip()}-0000.jsonl"
    gone.write_text(mine.path.read_text().replace("ulive", "ugone").replace('"live"', '"gone"'))
    assert orphaned_journals(tmp_path) == [gone]
    assert journaled_keys(tmp_path) == {"gone"}
    assert json.loads(gone.read_text())["uid"] == "ugone"
    assert os.getpid() == int(mine.path.name.split("-")[0])
    mine.remove()


def test_a_journal_whose_process_id_was_taken_by_another_process_is_an_orphan(
    tmp_path: Path,
) -> None:
    from promptdeck.core.gateway.early_answers import _started

    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        folder = tmp_path / "early"
        folder.mkdir()
        line = '{"key": "k"}\n'
        same = folder / f"{other.pid}-{_started(other.pid)}-aaaa0000.jsonl"
        reused = folder / f"{other.pid}-{int(_started(other.pid)) + 1}-bbbb0000.jsonl"
        for path in (same, reused):
            path.write_text(line)
        assert _started(other.pid) != "0"
        assert orphaned_journals(tmp_path) == [reused]  # the pid is another process's now
    finally:
        other.kill()
        other.wait()
    assert sorted(orphaned_journals(tmp_path)) == sorted([same, reused])
