"""Constructs met in promptfoo's own examples that the first importer got wrong or dropped.

Each config is a small one written for the test, shaped like the real example it
stands for (named in the test's docstring).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from promptdeck.core.importers.promptfoo.asserts import map_assertion, parse_assertion_string
from promptdeck.core.importers.promptfoo.importer import import_promptfoo
from promptdeck.core.importers.promptfoo.report import ImportReport
from promptdeck.errors import ConfigError
from promptdeck.paths import WorkspacePaths


def _import(tmp_path: Path, config: str, files: dict[str, str | bytes] | None = None) -> Any:
    src = tmp_path / "pf"
    src.mkdir(exist_ok=True)
    for name, content in (files or {}).items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            (src / name).write_bytes(content)
        else:
            (src / name).write_text(content)
    (src / "promptfooconfig.yaml").write_text(config)
    report = import_promptfoo(src / "promptfooconfig.yaml", tmp_path / "ws", "t")
    return report, WorkspacePaths(tmp_path / "ws")


def _skipped(report: Any) -> list[str]:
    return [f"{e.what}: {e.detail}" for e in report.entries if e.kind == "skipped"]


def _rows(paths: WorkspacePaths) -> list[dict[str, Any]]:
    return list(yaml.safe_load((paths.datasets / "t.yaml").read_text()))


def test_a_binary_var_or_a_json_built_by_nunjucks_skips_its_item_not_the_import(
    tmp_path: Path,
) -> None:
    """openai-vision, multiple-turn-conversation: an image var, a `{% for %}` chat template."""
    config = """\
prompts: [file://chat.json, 'Describe {{ image }} and {{ q }}']
providers: [openai:gpt-4o]
tests:
  - vars: {image: file://cat.jpg, q: one}
  - vars: {image: a cat, q: two}
"""
    chat = (
        '[{"role": "system", "content": {{ system | dump }}},\n'
        "{% for m in history %}{}{% endfor %}]"
    )
    report, paths = _import(tmp_path, config, {"chat.json": chat, "cat.jpg": b"\xff\xd8\xff\xe0"})
    skipped = _skipped(report)
    assert any("chat.json" in s and "builds the JSON chat array" in s for s in skipped)
    assert any("vars.image" in s and "binary" in s for s in skipped)
    assert [r["vars"]["q"] for r in _rows(paths)] == ["two"]


def test_a_json_tests_file_yaml_refuses_is_read_as_json(tmp_path: Path) -> None:
    """cyberseceval: JSON with an escaped surrogate pair, which YAML cannot read."""
    rows = (
        '[{"vars": {"q": "smile \\ud83d\\ude00"}, "assert": [{"type": "contains", "value": "x"}]}]'
    )
    report, paths = _import(
        tmp_path, "prompts: ['{{q}}']\nproviders: [openai:gpt-4o]\ntests: file://t.json\n",
        {"t.json": rows},
    )  # fmt: skip
    assert report.complete, _skipped(report)
    assert _rows(paths)[0]["vars"]["q"] == "smile \U0001f600"


def test_prompt_ids_that_are_text_and_class_method_functions(tmp_path: Path) -> None:
    """custom-prompt-function: `{id: 'inline text', label}` and `file://p.py:Prompt.make`."""
    config = """\
prompts:
  - id: 'You are a pirate. Tell me about {{topic}}'
    label: text
  - file://prompt_python.py:Prompt.prompt_with_cot
providers: [openai:gpt-4o]
tests: [{vars: {topic: ships}}]
"""
    report, paths = _import(tmp_path, config, {"prompt_python.py": "class Prompt: ..."})
    text = yaml.safe_load((paths.prompts / "text.prompt.yaml").read_text())
    assert text["template"] == "You are a pirate. Tell me about {{topic}}"
    assert _skipped(report) == [
        "prompts.1 file://prompt_python.py:Prompt.prompt_with_cot: "
        "prompt functions are code; promptdeck does not run them"
    ]


def test_test_files_as_path_objects_and_vars_files_relative_to_their_test_file(
    tmp_path: Path,
) -> None:
    """python-test-cases (`{path, config}`), separate-test-configs (`vars: ../vars/*.yaml`)."""
    config = """\
prompts: ['{{topic}} {{kind}}']
providers: [openai:gpt-4o]
tests:
  - path: file://gen.py:generate_tests
    config: {languages: [German]}
  - path: file://tests/more.yaml
  - file://tests/*.yaml
"""
    files = {
        "gen.py": "def generate_tests(config): ...",
        "tests/more.yaml": "- vars: ../vars/vars_*.yaml\n",
        "vars/vars_a.yaml": "topic: unicorns\n",
        "vars/vars_b.yaml": "kind: etiquette\n",
    }
    report, paths = _import(tmp_path, config, files)
    assert _skipped(report) == [
        "file://gen.py:generate_tests config: options of a test loader",
        "file://gen.py:generate_tests: test generators are code; promptdeck does not run them",
    ]
    assert [r["vars"] for r in _rows(paths)] == [{"topic": "unicorns", "kind": "etiquette"}] * 2


def test_default_test_metadata_threshold_and_scenario_fields_are_carried_or_reported(
    tmp_path: Path,
) -> None:
    """defaultTest metadata and threshold reach every case; unknown fields are named."""
    config = """\
prompts: ['{{q}}']
providers: [openai:gpt-4o]
defaultTest:
  metadata: {team: search, owner: {name: x}}
  threshold: 0.5
  provider: openai:gpt-4o-mini
  assert: [{type: contains, value: a}]
scenarios:
  - description: Greetings
    config: [{vars: {q: hi}, assert: [{type: contains, value: b}]}]
    tests: [{vars: {}}]
    extra: 1
tests:
  - vars: {q: yo}
    threshold: 0.9
"""
    report, paths = _import(tmp_path, config)
    skipped = _skipped(report)
    assert "defaultTest.metadata.owner: only text, numbers and lists of them become tags" in skipped
    assert any(s.startswith("defaultTest.provider: per-test providers") for s in skipped)
    assert "scenarios[0].extra: not a promptfoo scenario field" in skipped
    assert "scenarios[0].config[0].assert: not carried" in skipped
    rows = _rows(paths)
    assert [r["tags"] for r in rows] == [["team:search"], ["team:search"]]
    assert [r["assert"][0]["threshold"] for r in rows] == [0.9, 0.5]
    assert rows[1]["description"] == "Greetings"


def test_csv_config_columns_set_each_assertions_threshold(tmp_path: Path) -> None:
    """config-csv-metadata: `__config:__expected:threshold`, `__config:__expected2:threshold`."""
    csv = (
        "topic,__expected1,__expected2,__config:__expected:threshold,"
        "__config:__expected2:threshold,__prefix\n"
        'ml,"similar: algorithm","llm-rubric: accurate",0.9,0.8,Hi\n'
    )
    report, paths = _import(
        tmp_path, "prompts: ['{{topic}}']\nproviders: [openai:gpt-4o]\ntests: file://t.csv\n",
        {"t.csv": csv},
    )  # fmt: skip
    assert [a["threshold"] for a in _rows(paths)[0]["assert"]] == [0.9, 0.8]
    assert any(s.startswith("__prefix: promptfoo puts it before") for s in _skipped(report))


def test_cloud_routing_and_nested_generation_config_become_alias_params(tmp_path: Path) -> None:
    """amazon-bedrock `region`, google-vertex `generationConfig`, azure `apiVersion`."""
    config = """\
prompts: ['hi']
providers:
  - id: bedrock:anthropic.claude-3-haiku
    config: {region: us-west-2, max_gen_len: 100}
  - id: vertex:gemini-2.0-flash
    config:
      region: europe-west4
      projectId: my-project
      generationConfig: {temperature: 0.2, maxOutputTokens: 64, responseMimeType: text/plain}
  - id: azure:chat:my-deployment
    config: {apiVersion: 2024-10-21, max_output_tokens: 10}
"""
    report, paths = _import(tmp_path, config)
    models = tomllib.loads(paths.config.read_text())["models"]
    params = [m.get("params", {}) for m in models.values()]
    assert params == [
        {"aws_region_name": "us-west-2", "max_tokens": 100},
        {"vertex_location": "europe-west4", "vertex_project": "my-project", "temperature": 0.2,
         "max_tokens": 64},
        {"api_version": "2024-10-21", "max_tokens": 10},
    ]  # fmt: skip
    assert _skipped(report) == [
        "providers.1.config.generationConfig.responseMimeType: no promptdeck call parameter"
    ]


def test_assertion_vocabulary_edges() -> None:
    """`model-graded-factuality` is factuality; rubricPrompt is lost (said); non-types named."""
    mapped = map_assertion(
        {"type": "model-graded-factuality", "value": "x"}, lambda r: (r, None), None
    )
    assert mapped.spec == {"type": "factuality", "value": "x"}
    rubric = map_assertion(
        {"type": "llm-rubric", "value": "ok", "rubricPrompt": "Grade {{output}}"},
        lambda r: (r, None),
        None,
    )
    assert rubric.spec == {"type": "llm-rubric", "value": "ok"}
    assert rubric.why is not None and "rubricPrompt" in rubric.why
    empty = map_assertion({"type": "not-empty"}, lambda r: (r, None), None)
    assert empty.why == "`empty` is not a promptfoo assertion type either (promptfoo refuses it)"
    trace = map_assertion({"type": "trace-span-count", "value": {}}, lambda r: (r, None), None)
    assert trace.why is not None and "OpenTelemetry" in trace.why
    # A promptfoo type in a CSV cell is that type, not an `equals` of the whole cell.
    assert parse_assertion_string("levenshtein(5): hello")["type"] == "levenshtein"


def test_a_red_team_config_and_a_config_with_no_carried_prompt_say_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="red-team config"):
        _import(tmp_path, "targets: [openai:gpt-4o]\nredteam: {purpose: x, plugins: [pii]}\n")
    report, paths = _import(tmp_path, "prompts: [file://p.js]\nproviders: [openai:gpt-4o]\n")
    assert "prompts: no prompt could be carried: nothing written" in _skipped(report)
    assert not paths.suites.exists()
    assert not any("would refuse" in s for s in _skipped(report))


def test_no_tests_runs_each_prompt_once_with_its_variables_empty(tmp_path: Path) -> None:
    report, paths = _import(
        tmp_path, "prompts: ['Tell me about {{topic}}']\nproviders: [openai:gpt-4o]\n"
        "tests: [file://gen.py:tests]\n", {"gen.py": "..."},
    )  # fmt: skip
    assert _rows(paths)[0]["vars"] == {"topic": ""}
    assert any(e.what == "tests" and "fill them in" in e.detail for e in report.entries)


def test_the_same_item_repeated_in_one_file_is_one_report_line() -> None:
    report = ImportReport(config="c.yaml")
    for line in (3, 9, 12):
        report.skipped(f"t.json:{line}", "user_input", "not a promptfoo test field")
    report.skipped("u.json:1", "user_input", "not a promptfoo test field")
    lines = [line for line in report.lines() if "user_input" in line]
    assert len(lines) == 2
    assert lines[0].endswith("(and 2 more like it, lines 9, 12)")
    assert report.count("skipped") == 4


def test_tools_and_response_format_from_files(tmp_path: Path) -> None:
    """openai-structured-output, azure-openai-assistant: `file://` tools and schema."""
    schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    config = """\
prompts: ['hi']
providers:
  - id: openai:gpt-4o
    config: {response_format: file://schema.json, tools: file://tools.json}
tests: [{assert: [{type: is-valid-openai-tools-call}]}]
"""
    files = {"schema.json": json.dumps(schema), "tools.json": json.dumps(tools)}
    report, paths = _import(tmp_path, config, files)
    assert report.complete, _skipped(report)
    prompt = yaml.safe_load((paths.prompts / "t.prompt.yaml").read_text())
    assert prompt["params"]["response_format"] == schema
    assert _rows(paths)[0]["assert"][0]["value"] == tools


def test_a_refused_assertion_is_dropped_alone_and_missing_vars_are_empty(tmp_path: Path) -> None:
    """custom-grading-prompt (`llm-rubric` with no value), dynamic-var (a var from code)."""
    config = """\
prompts: ['{{q}} {{context}}']
providers: [openai:gpt-4o]
tests:
  - vars: {q: hi, context: file://load.py}
  - vars: {q: yo}
    assert: [{type: llm-rubric}, {type: contains, value: yo}]
"""
    report, paths = _import(tmp_path, config, {"load.py": "..."})
    assert (paths.suites / "t.suite.yaml").is_file()
    rows = _rows(paths)
    assert rows == [
        {"vars": {"q": "yo", "context": ""}, "assert": [{"type": "contains", "value": "yo"}]}
    ]
    assert any(s.startswith("llm-rubric: promptdeck would refuse it") for s in _skipped(report))
    assert any(e.what == "variable context" for e in report.entries if e.kind == "note")


def test_a_json_schema_given_as_text_is_parsed() -> None:
    """google-vertex gemini: `contains-json` with the schema as a JSON string."""
    text = '{"type": "object", "required": ["a"]}'
    mapped = map_assertion({"type": "contains-json", "value": text}, lambda r: (r, None), None)
    assert mapped.spec == {"type": "contains-json", "value": {"type": "object", "required": ["a"]}}
