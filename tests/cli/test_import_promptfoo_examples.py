"""Real promptfoo example configs: imported, then run headless against a loopback stub.

The configs are copied from promptfoo's own ``examples/`` (see
``tests/fixtures/promptfoo/README.md``). After the import every alias of the
imported block is pointed at the stub, and the judge too; then ``eval`` must run to
completion (exit 0 or 1: checks may fail against a stub's answers, nothing may
break), and whatever the import could not carry must be in its report.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from promptdeck.paths import WorkspacePaths
from tests.helpers import run_cli as run
from tests.stub_openai import Reply, StubServer, stub_server

FIXTURES = Path(__file__).parents[1] / "fixtures" / "promptfoo"
EXAMPLES = sorted(p.name for p in FIXTURES.iterdir() if (p / "promptfooconfig.yaml").is_file())

# What each import must report as not carried (substrings of the report's lines).
MUST_SKIP: dict[str, list[str]] = {
    "json-output": ["transform", "javascript"],
    "simple-csv": ["`load`"],
    "self-grading": ["javascript"],
    "claude-vs-gpt": ["cache_control", "javascript"],
    "tool-use": ["tool_choice", "config.tools"],
    "groq": ["tool_choice"],
    "mistral": ["reasoning_effort"],
    "simple-test": ["python"],
    "eval-custom-grader-csv": ["customAssertion.ts"],
    "openai-function-call": ["functions", "is-valid-openai-function-call", "transform"],
    "config-separate-test-configs": ["tests2.yaml", "var_content_type.yaml", "assert.js"],
    "config-prompts-per-model": ["prompt2.txt", "providers.0.prompts", "providers.1.prompts"],
    "named-metrics": ["derivedMetrics: promptdeck computes no derived metrics", "python"],
    "python-test-cases": [
        "test_cases.py:generate_simple_tests: test generators are code",
        "test_cases.py:TestGenerator.generate_systematic_tests: test generators are code",
    ],
    "config-external-defaulttest": ["shared/defaultTest.yaml does not exist", "javascript"],
}
# Imported whole: nothing may be reported as skipped.
CLEAN = {
    "gpt-3.5-vs-4",
    "config-multiple-translations",
    "csv-metadata",
    "getting-started",
    "config-csv-metadata",
}


@pytest.fixture(scope="module")
def stub() -> Iterator[StubServer]:
    """A stub OpenAI server on its own thread: answers a JSON object every grader can read."""
    server = StubServer(default=Reply(text='{"reason": "stub", "pass": true, "score": 1}'))
    ready = threading.Event()
    stop: asyncio.Event | None = None
    loop = asyncio.new_event_loop()

    async def serve() -> None:
        nonlocal stop
        stop = asyncio.Event()
        async with stub_server(server):
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    yield server
    assert stop is not None
    loop.call_soon_threadsafe(stop.set)
    thread.join(10)


def _point_at(paths: WorkspacePaths, base: str) -> None:
    text = paths.config.read_text()
    head, _, block = text.partition("# >>> imported from promptfoo")
    block = re.sub(r"^(api_base|api_key_env) = .*\n", "", block, flags=re.MULTILINE)
    block = re.sub(r"^(model = .*)$", rf'\1\napi_base = "{base}"', block, flags=re.MULTILINE)
    paths.config.write_text(head + "# >>> imported from promptfoo" + block)


@pytest.mark.parametrize("example", EXAMPLES)
def test_a_real_example_imports_and_runs(
    example: str,
    tmp_path: Path,
    stub: StubServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    paths = WorkspacePaths(tmp_path / "ws")
    paths.root.mkdir()
    paths.config.write_text(
        f'judge_model = "stub-judge"\n\n[models.stub-judge]\nmodel = "openai/stub"\n'
        f'api_base = "{stub.base}"\n'
    )
    config = FIXTURES / example / "promptfooconfig.yaml"
    code, out, err = run(capsys, "import", "promptfoo", str(config), "--to", str(paths.root))
    assert code in (0, 1), err
    assert (code == 0) == (" 0 skipped" in out), out
    if example in CLEAN:
        assert code == 0, out
    for expected in MUST_SKIP.get(example, []):
        assert any("skipped" in line and expected in line for line in out.splitlines()), out
    suite = next(paths.suites.glob("*.suite.yaml")).name.removesuffix(".suite.yaml")
    _point_at(paths, stub.base)
    before = len(stub.requests)
    report = tmp_path / "report.json"
    code, out, err = run(
        capsys, "--headless", "--workspace", str(paths.root), "eval", suite, "--json", str(report)
    )
    assert code in (0, 1), (out, err)
    data = json.loads(report.read_text())
    assert len(stub.requests) > before
    assert data  # the run finished and wrote its report
