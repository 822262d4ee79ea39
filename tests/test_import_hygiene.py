"""The engine stays free of front ends and heavy imports; --help stays light.

import-linter checks the static import graph (`make test` runs `lint-imports`);
these tests check what is really loaded at run time, in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ["litellm", "deepeval", "llama_cpp", "torch", "onnxruntime"]
FRONT_ENDS = ["textual", "click", "rich", "promptdeck.tui", "promptdeck.cli"]


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return {
        name.split(".")[0] if not name.startswith("promptdeck.") else name
        for name in json.loads(out)
    }


@pytest.mark.parametrize(
    "module",
    [
        "promptdeck.core",
        "promptdeck.core.workspace.workspace",
        "promptdeck.core.prompts.sync",
        "promptdeck.core.workspace.init",
        "promptdeck.core.workspace.warmup",
        "promptdeck.core.workspace.offline",
        "promptdeck.core.providers.tokens",
        "promptdeck.core.providers.local_model",
        "promptdeck.core.providers.embeddings",
        "promptdeck.core.guardrails",
        "promptdeck.core.guardrails.classifiers",
        "promptdeck.core.guardrails.classifier_model",
        "promptdeck.core.guardrails.linear",
        "promptdeck.core.guardrails.output",
        "promptdeck.core.guardrails.history",
        "promptdeck.core.guardrails.policy",
        "promptdeck.core.guardrails.checks",
        "promptdeck.core.guardrails.suites",
        "promptdeck.core.scorers.guard",
        "promptdeck.core.providers.base",
        "promptdeck.core.providers.fake",
        "promptdeck.core.providers.local",
        "promptdeck.core.providers.openai_http",
        "promptdeck.core.providers.litellm_adapter",
        "promptdeck.core.providers.router",
        "promptdeck.core.providers.targets",
        "promptdeck.core.gateway.engine",
        "promptdeck.core.gateway.otlp",
        "promptdeck.core.gateway.prompt_call",
        "promptdeck.store.calls_repo",
        "promptdeck.store.cache_repo",
        "promptdeck.store.traces_repo",
        "promptdeck.store.spend_repo",
        "promptdeck.store.tables",
        "promptdeck.store.migrations",
        "promptdeck.config",
        "promptdeck.core.prompts.templating",
        "promptdeck.core.prompts.versions",
        "promptdeck.core.prompts.export",
        "promptdeck.core.scorers",
        "promptdeck.core.scorers.engine",
        "promptdeck.core.scorers.judged",
        "promptdeck.core.scorers.semantic",
        "promptdeck.core.evals.stats",
        "promptdeck.core.evals.results",
        "promptdeck.core.evals.reports",
        "promptdeck.core.compare.ensembles",
        "promptdeck.core.compare.ensemble_trace",
        "promptdeck.core.compare.ensemble_result",
        "promptdeck.core.compare.agreement",
        "promptdeck.core.compare.columns",
        "promptdeck.core.evals.suite_cases",
        "promptdeck.store.feedback_repo",
    ],
)
def test_engine_imports_no_front_end_and_nothing_heavy(module: str) -> None:
    loaded = _loaded_after(f"import {module}")
    assert module in loaded or module.split(".")[0] in loaded
    for name in HEAVY + FRONT_ENDS:
        assert name not in loaded, f"importing {module} loaded {name}"


def test_the_registry_reader_is_light() -> None:
    loaded = _loaded_after("import promptdeck.registry")
    forbidden = ["pydantic", "sqlalchemy", "sqlmodel", "jinja2", "yaml", "cryptography"]
    for name in [*HEAVY, *FRONT_ENDS, *forbidden]:
        assert name not in loaded, f"importing promptdeck.registry loaded {name}"


def test_the_registry_reader_imports_in_well_under_100_ms() -> None:
    """CPU time, not wall time (other processes share the machine): about 40 ms today."""
    code = (
        "import time\n"
        "start = time.process_time()\n"
        "import promptdeck.registry\n"
        "print(time.process_time() - start)\n"
    )
    runs = sorted(
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(3)
    )
    assert runs[1] < 0.1, f"importing promptdeck.registry took {runs[1] * 1000:.0f} ms of CPU"


def test_the_command_line_imports_only_click_for_help() -> None:
    loaded = _loaded_after("import promptdeck.cli.main")
    for name in [*HEAVY, "textual", "sqlalchemy", "sqlmodel", "pydantic", "yaml"]:
        assert name not in loaded, f"importing the CLI loaded {name}"


EVAL_RUN = """
import json, sys
from promptdeck.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit as done:
    print(json.dumps({"code": done.code, "modules": sorted(sys.modules)}))
"""

PLAIN_PROMPT = """\
name: plain
template: "What is {{ a }} plus {{ b }}?"
system: You answer briefly.
variables:
  a: {type: integer, required: true}
  b: {type: integer, required: true}
"""


async def test_a_headless_eval_loads_only_what_its_calls_need(tmp_path: Path) -> None:
    """A run's start-up is mostly imports (see bench/evals.py): nothing heavy on its path.

    A suite of plain prompts over an OpenAI-compatible server loads no model runtime,
    no embedder or vector index, no Jinja2 (plain templates, even when the prompt file
    is new and its templates are checked by the sync before the run), no TUI, no
    litellm, and no PostgreSQL driver (a SQLite workspace).
    """
    import asyncio
    import os

    from promptdeck.core.workspace.init import init_workspace
    from tests.stub_openai import Reply, StubServer, stub_server

    paths = init_workspace(tmp_path / "ws")
    (paths.suites / "plain.suite.yaml").write_text(
        "prompts: [plain]\nmodels: [stub]\n"
        "defaults:\n  assert: [{type: contains, value: '4'}]\n"
        "cases:\n  - vars: {a: 2, b: 2}\n  - vars: {a: 1, b: 3}\n"
    )
    async with stub_server(StubServer(default=Reply(text="4"))) as stub:
        with paths.config.open("a") as config:
            config.write(
                f'\n[models.stub]\nmodel = "openai/stub"\napi_base = "{stub.base}"\n'
                'api_key_env = "STUB_KEY"\n'
            )
        # The workspace's first command checks every new prompt file once (Jinja2 compiles
        # the demo's templates); the run's own prompt is written after it, as when a user
        # edits a prompt and runs its suite: the run's sync checks it.
        first = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "promptdeck", "--headless", "-w", str(paths.root),
            "prompts", "list", stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        assert await first.wait() == 0
        (paths.prompts / "plain.prompt.yaml").write_text(PLAIN_PROMPT)
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            EVAL_RUN,
            "--headless",
            "-w",
            str(paths.root),
            "eval",
            "plain",
            env={**os.environ, "STUB_KEY": "k"},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(child.communicate(), timeout=120)
    done = json.loads(out.decode().splitlines()[-1])
    assert done["code"] == 0, err.decode()
    assert len(stub.requests) == 2
    loaded = {name.split(".")[0] for name in done["modules"]}
    assert {"sqlalchemy", "aiohttp"} <= loaded  # the run's own path, as a sanity check
    unwanted = [*HEAVY, "textual", "rich", "numpy", "jinja2", "usearch", "opentelemetry", "psycopg"]
    for name in [*unwanted, "tokenizers", "huggingface_hub", "cryptography", "playwright"]:
        assert name not in loaded, f"a headless eval loaded {name}"
