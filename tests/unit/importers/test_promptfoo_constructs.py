"""Each promptfoo construct, from small configs written for the test, and what it becomes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from promptdeck.core.evals.suites import load_suite
from promptdeck.core.importers.promptfoo.asserts import map_assertion, parse_assertion_string
from promptdeck.core.importers.promptfoo.importer import import_promptfoo
from promptdeck.core.importers.promptfoo.javascript import javascript_spec
from promptdeck.core.importers.promptfoo.nunjucks import to_jinja
from promptdeck.core.importers.promptfoo.providers import model_string
from promptdeck.core.scorers import check_cases
from promptdeck.core.scorers.perplexity import needs_logprobs
from promptdeck.errors import ConfigError
from promptdeck.paths import WorkspacePaths


def _import(tmp_path: Path, config: str, files: dict[str, str] | None = None, **kw: Any) -> Any:
    src = tmp_path / "pf"
    src.mkdir(exist_ok=True)
    for name, text in (files or {}).items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(text)
    (src / "promptfooconfig.yaml").write_text(config)
    report = import_promptfoo(src / "promptfooconfig.yaml", tmp_path / "ws", "t", **kw)
    return report, WorkspacePaths(tmp_path / "ws")


def _prompt(paths: WorkspacePaths, name: str) -> dict[str, Any]:
    return yaml.safe_load((paths.prompts / f"{name}.prompt.yaml").read_text())


def _skipped(report: Any) -> list[str]:
    return [f"{e.where} {e.what}: {e.detail}" for e in report.entries if e.kind == "skipped"]


def test_prompts_inline_files_separators_chat_globs_and_objects(tmp_path: Path) -> None:
    config = """\
prompts:
  - 'Say {{ word }}'
  - file://two.txt
  - file://chat.json
  - id: file://more/*.md
  - {label: Fancy One, raw: 'Hi {{ name | upper }}, {{ items.length }} items {{ x | dump }}'}
  - file://fn.py:make
  - 'Secret {{ env.KEY }}'
providers: [openai:gpt-4o-mini]
tests: [{vars: {word: a, name: b, items: [1], x: 1}}]
"""
    files = {
        "two.txt": "First {{ a }}\n---\nSecond {{ b }}\n",
        "chat.json": json.dumps(
            [{"role": "system", "content": "Be brief"}, {"role": "user", "content": "{{ q }}"}]
        ),
        "more/m1.md": "Markdown {{ c }}",
        "more/m2.md": "Other",
    }
    report, paths = _import(tmp_path, config, files)
    names = load_suite(paths.suites / "t.suite.yaml", paths).file.prompts
    assert names == ["t-1", "two-1", "two-2", "chat", "m1", "m2", "fancy-one"]
    assert _prompt(paths, "two-2")["template"] == "Second {{ b }}"
    assert _prompt(paths, "chat")["messages"][1] == {"role": "user", "content": "{{ q }}"}
    assert _prompt(paths, "chat")["variables"] == {"q": None}
    assert "(items | length)" in _prompt(paths, "fancy-one")["template"]
    assert "| tojson" in _prompt(paths, "fancy-one")["template"]
    skipped = _skipped(report)
    assert any("promptfooconfig.yaml:7" in s and "fn.py" in s and "code" in s for s in skipped)
    assert any("promptfooconfig.yaml:8" in s and "env" in s for s in skipped)
    assert not report.complete


@pytest.mark.parametrize(
    ("provider", "model"),
    [
        ("openai:chat:gpt-4o", "openai/gpt-4o"),
        ("openai:gpt-4o-mini", "openai/gpt-4o-mini"),
        ("openai:responses:o3", "openai/o3"),
        ("anthropic:messages:claude-3-5-haiku", "anthropic/claude-3-5-haiku"),
        ("azure:chat:my-deploy", "azure/my-deploy"),
        ("ollama:chat:llama3", "ollama_chat/llama3"),
        ("vertex:gemini-pro", "vertex_ai/gemini-pro"),
        ("bedrock:anthropic.claude-v2", "bedrock/anthropic.claude-v2"),
        ("groq:llama3-8b", "groq/llama3-8b"),
        ("mistral:mistral-small", "mistral/mistral-small"),
        ("openrouter:meta/llama", "openrouter/meta/llama"),
        ("litellm:gpt-4o", "gpt-4o"),
        ("exec:./run.sh", None),
    ],
)
def test_provider_ids(provider: str, model: str | None) -> None:
    assert model_string(provider) == model


def test_providers_params_endpoints_and_what_cannot_run(tmp_path: Path) -> None:
    config = """\
prompts: ['{{q}}']
providers:
  - id: openai:chat:local-model
    label: My Local
    config:
      apiBaseUrl: 'http://127.0.0.1:8000/v1'
      temperature: 0.2
      max_tokens: 64
      seed: 7
      stop: ['END']
      apiKeyEnvar: LOCAL_KEY
      response_format: {type: json_object}
      frobnicate: 1
  - exec:./run.sh
  - {id: 'file://provider.js'}
  - https://example.com/api
tests: [{vars: {q: hi}}]
"""
    (tmp_path / "ws").mkdir()
    original = '# mine\ndefault_model = "local/smollm2-135m"\n'
    (tmp_path / "ws" / "promptdeck.toml").write_text(original)
    report, paths = _import(tmp_path, config)
    text = paths.config.read_text()
    assert text.startswith(original)  # appended, never rewritten
    block = text[len(original) :]
    assert '[models."my-local"]' in block and 'model = "openai/local-model"' in block
    assert 'api_base = "http://127.0.0.1:8000/v1"' in block and 'api_key_env = "LOCAL_KEY"' in block
    assert 'params = { temperature = 0.2, max_tokens = 64, seed = 7, stop = ["END"] }' in block
    assert _prompt(paths, "t")["params"] == {"response_format": {"type": "json_object"}}
    skipped = "\n".join(_skipped(report))
    for what in ("frobnicate", "exec:./run.sh", "file://provider.js", "https://example.com/api"):
        assert what in skipped
    assert "promptfooconfig.yaml:13 providers.0.config.frobnicate" in skipped  # its own line


def test_tests_csv_columns_vars_expansion_and_file_vars(tmp_path: Path) -> None:
    config = """\
prompts: ['{{a}} {{b}} {{doc}}']
providers: [openai:gpt-4o]
defaultTest:
  vars: {doc: file://doc.txt}
  assert: [{type: icontains, value: ok}]
tests:
  - vars: {a: [x, y], b: [1, 2]}
  - file://rows.csv
"""
    files = {
        "doc.txt": "the document",
        "rows.csv": "a,b,__expected,__expected2,__description,__prefix\n"
        "p,q,contains:P,grade:is polite,row one,\n"
        "r,s,Paris,not-icontains:sorry,row two,pre\n",
    }
    report, paths = _import(tmp_path, config, files)
    suite = load_suite(paths.suites / "t.suite.yaml", paths)
    assert [c.vars["a"] + str(c.vars["b"]) for c in suite.cases[:4]] == ["x1", "x2", "y1", "y2"]
    assert all(c.vars["doc"] == "the document" for c in suite.cases)
    assert suite.file.defaults.asserts[0].type == "icontains"
    row_one, row_two = suite.cases[4], suite.cases[5]
    assert row_one.description == "row one"
    assert [(s.type, s.value) for s in row_one.asserts[1:]] == [
        ("contains", "P"),
        ("llm-rubric", "is polite"),
    ]
    assert [(s.type, s.value) for s in row_two.asserts[1:]] == [
        ("equals", "Paris"),
        ("not-icontains", "sorry"),
    ]
    assert any("__prefix" in s and "rows.csv:3" in s for s in _skipped(report))


def test_threshold_templated_values_and_assertion_options(tmp_path: Path) -> None:
    config = """\
prompts: ['{{city}}']
providers: [openai:gpt-4o]
defaultTest:
  options: {provider: 'openai:gpt-4o-mini'}
  assert: [{type: contains, value: '{{city}}'}]
tests:
  - vars: {city: Paris}
    threshold: 0.5
    assert:
      - {type: not-contains, value: sorry, weight: 2, metric: polite}
      - {type: latency, threshold: 500}
      - {type: moderation}
      - {type: javascript, value: 'output.length < 100'}
      - {type: javascript, value: 'file://check.js'}
      - {type: assert-set, threshold: 0.5, assert: [{type: is-json}, {type: select-best, value: x}]}
      - {type: factuality, value: '{{city}} is in France', provider: openai:gpt-4o-mini}
evaluateOptions: {maxConcurrency: 3, repeat: 2, delay: 100}
outputPath: out.json
"""
    report, paths = _import(tmp_path, config)
    suite = load_suite(paths.suites / "t.suite.yaml", paths)
    assert (suite.file.concurrency, suite.file.repeat, suite.file.judge) == (
        3,
        2,
        "gpt-4o-mini-judge",
    )
    (group,) = suite.cases[0].asserts
    assert group.type == "assert-set" and group.threshold == 0.5
    members = [m.model_dump(exclude_none=True, by_alias=True) for m in group.asserts or []]
    assert members[0] == {"type": "contains", "value": "Paris", "weight": 1.0}
    assert members[1] == {
        "type": "not-contains", "value": "sorry", "weight": 2.0, "metric": "polite"
    }  # fmt: skip
    assert members[2]["type"] == "latency" and members[2]["value"] == 500
    assert members[3]["type"] == "guard-pass" and members[3]["value"] == ["toxicity"]
    assert members[4] == {"type": "max-length", "value": 99, "weight": 1.0}
    assert members[5]["type"] == "assert-set" and len(members[5]["assert"]) == 1
    assert members[6]["value"] == "Paris is in France"
    skipped = "\n".join(_skipped(report))
    assert "check.js" in skipped and "select-best" in skipped and "delay" in skipped
    notes = "\n".join(e.detail for e in report.entries if e.kind == "note")
    assert "--json FILE" in notes and "toxicity" in notes


@pytest.mark.parametrize(
    ("expression", "spec"),
    [
        ("output.length <= 100", {"type": "max-length", "value": 100}),
        ("output.length > 10", {"type": "not-max-length", "value": 10}),
        ("output.includes('x')", {"type": "contains", "value": "x"}),
        ('!output.includes("x")', {"type": "not-contains", "value": "x"}),
        ("output.toLowerCase().includes('ok')", {"type": "icontains", "value": "ok"}),
        ("return output.startsWith('A');", {"type": "starts-with", "value": "A"}),
        ("output.trim() === 'yes'", {"type": "equals", "value": "yes"}),
        ("/^\\d+$/i.test(output)", {"type": "regex", "value": "(?i)^\\d+$"}),
        ("output.split(' ').length <= 50", {"type": "word-count", "value": {"max": 50}}),
        ("JSON.parse(output)", {"type": "is-json"}),
        (
            "JSON.parse(output).a.b === 'v'",
            {
                "type": "json-schema",
                "value": {
                    "type": "object",
                    "required": ["a"],
                    "properties": {
                        "a": {
                            "type": "object",
                            "required": ["b"],
                            "properties": {"b": {"const": "v"}},
                        }
                    },
                },
            },
        ),
        ("Math.max(0, 1 - output.length / 900)", None),
        ("output.includes('a') || output.includes('b')", None),
    ],
)
def test_javascript_expressions(expression: str, spec: dict[str, Any] | None) -> None:
    assert javascript_spec(expression) == spec


def test_expected_strings_and_unknown_types() -> None:
    assert parse_assertion_string("similar(0.8):Hello") == {
        "type": "similar", "value": "Hello", "threshold": 0.8
    }  # fmt: skip
    assert parse_assertion_string("Answer: 42") == {"type": "equals", "value": "Answer: 42"}
    assert parse_assertion_string("is-json") == {"type": "is-json"}
    assert parse_assertion_string("perplexity(1.5):") == {
        "type": "perplexity", "value": "", "threshold": 1.5
    }  # fmt: skip
    assert map_assertion({"type": "ruby", "value": "x"}, lambda r: (r, None), None).why
    assert "edit distance" in (
        map_assertion({"type": "levenshtein"}, lambda r: (r, None), None).why or ""
    )


def test_nunjucks_refusals() -> None:
    assert to_jinja("{{ x | load }}")[1] is not None
    assert to_jinja("{% if %}")[1] is not None
    assert to_jinja("{{ a }} {% for i in xs %}{{ loop.index }}{% endfor %}") == (
        "{{ a }} {% for i in xs %}{{ loop.index }}{% endfor %}",
        None,
    )


def test_exit_codes_dry_run_and_unreadable_configs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.helpers import run_cli

    src = tmp_path / "promptfooconfig.yaml"
    src.write_text("prompts: ['{{q}}']\nproviders: [openai:gpt-4o]\ntests: [{vars: {q: hi}}]\n")
    ws = tmp_path / "ws"
    code, out, _ = run_cli(capsys, "import", "promptfoo", str(src), "--to", str(ws), "--dry-run")
    assert code == 0 and "dry run" in out and not ws.exists()
    code, out, _ = run_cli(capsys, "import", "promptfoo", str(src), "--to", str(ws))
    assert code == 0 and (ws / "suites").is_dir()
    code, _, err = run_cli(capsys, "import", "promptfoo", str(src), "--to", str(ws))
    assert code == 2 and "already exists" in err  # nothing overwritten
    src.write_text("prompts: ['{{q}}']\nproviders:\n  - exec:x\ntests: []\n")
    code, _, _ = run_cli(capsys, "import", "promptfoo", str(src), "--to", str(ws), "--name", "b")
    assert code == 1
    src.write_text("prompts: [\n  - bad: : yaml\n")
    code, _, err = run_cli(capsys, "import", "promptfoo", str(src), "--to", str(ws), "--name", "c")
    assert code == 2 and f"{src}:2" in err and len(err.strip().splitlines()) == 2


def test_a_config_that_is_not_a_mapping(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("- just a list\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        import_promptfoo(tmp_path / "c.yaml", tmp_path / "ws")


def test_local_refs_csv_metadata_and_trimmed_csv_values(tmp_path: Path) -> None:
    config = """\
prompts: ['Tell me about {{topic}}']
providers: [openai:gpt-4o-mini]
tests:
  - vars: {topic: pirates}
    assert:
      - $ref: '#/assertionTemplates/noise'
      - {$ref: '#/assertionTemplates/noise', value: ahoy}
      - $ref: '#/nowhere/at-all'
  - file://rows.csv
assertionTemplates:
  noise: {type: icontains, value: arrr}
"""
    files = {
        "rows.csv": "topic,__expected1,__metadata:category,__metadata:tags[]\n"
        '"ml","contains: algorithm","tech","ai,data\\,science"\n'
    }
    report, paths = _import(tmp_path, config, files)
    suite = load_suite(paths.suites / "t.suite.yaml", paths)
    first, second = suite.cases
    assert [(a.type, a.value) for a in first.asserts] == [
        ("icontains", "arrr"),
        ("icontains", "ahoy"),
    ]
    skipped = "\n".join(_skipped(report))
    assert ":8" in skipped and "needs a `type`" in skipped  # the dangling $ref, by line
    assert "assertionTemplates" not in skipped
    assert [(a.type, a.value) for a in second.asserts] == [("contains", "algorithm")]
    assert set(second.tags) >= {"category:tech", "tags:ai", "tags:data,science"}


@pytest.mark.parametrize(
    ("raw", "spec", "note"),
    [
        ({"type": "perplexity", "threshold": 1.5}, {"type": "perplexity", "value": 1.5}, None),
        ({"type": "perplexity"}, {"type": "perplexity"}, None),
        ({"type": "perplexity", "threshold": 0}, {"type": "perplexity"}, None),  # 0: none
        (
            {"type": "perplexity", "threshold": 2, "weight": 2, "metric": "ppl", "value": 9},
            {"type": "perplexity", "value": 2, "weight": 2, "metric": "ppl"},
            "`value` has no effect",
        ),
        (
            {"type": "not-perplexity", "threshold": 2},
            {"type": "not-perplexity", "value": 2},
            "promptfoo ignores `not-`",
        ),
        (
            {"type": "perplexity-score", "threshold": 0.4},
            {"type": "perplexity-score", "threshold": 0.4},
            None,
        ),
        ({"type": "perplexity-score"}, {"type": "perplexity-score"}, None),
        (
            {"type": "perplexity-score", "threshold": 3},
            {"type": "perplexity-score", "threshold": 1},
            "can never pass",
        ),
        (
            {"type": "perplexity", "threshold": "low"},
            {"type": "perplexity"},
            "is not a number",
        ),
    ],
)
def test_perplexity_mapping(raw: dict[str, Any], spec: dict[str, Any], note: str | None) -> None:
    mapped = map_assertion(raw, lambda r: (r, None), None)
    assert (mapped.spec, mapped.why) == (spec, None)
    assert (note is None) == (not mapped.notes)
    assert note is None or any(note in n for n in mapped.notes)


def test_perplexity_is_carried_into_a_suite_that_runs(tmp_path: Path) -> None:
    config = """\
prompts: ['Say {{ word }}']
providers: [openai:gpt-4o-mini]
defaultTest:
  assert: [{type: perplexity-score, threshold: 0.3}]
tests:
  - vars: {word: hi}
    assert:
      - {type: perplexity, threshold: 1.5}
      - type: assert-set
        assert: [{type: perplexity, threshold: 3}, {type: contains, value: hi}]
"""
    report, paths = _import(tmp_path, config)
    assert not _skipped(report)
    suite = load_suite(paths.suites / "t.suite.yaml", paths)
    (case,) = suite.cases
    assert [a.type for a in case.asserts] == ["perplexity-score", "perplexity", "assert-set"]
    assert check_cases(suite.cases) == [] and needs_logprobs(case.asserts)
