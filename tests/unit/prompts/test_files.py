"""Prompt files: the demo prompts parse; mistakes name file and line; canonical form is stable."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptdeck.core.prompts.files import parse_prompt
from promptdeck.errors import ConfigError
from promptdeck.paths import bundled_dir

PATH = "prompts/greet.prompt.yaml"
GOOD = """\
name: greet
description: Say hello.
params:
  temperature: 0.2
template: |
  Hello {{ who }}!
variables:
  who:
    required: true
    max_length: 40
"""


@pytest.mark.parametrize(
    "path", sorted((bundled_dir("workspace_template") / "prompts").glob("*.prompt.yaml"))
)
def test_every_demo_prompt_parses(path: Path) -> None:
    parsed = parse_prompt(path.read_text(encoding="utf-8"), path)
    assert parsed.file.name == path.name.removesuffix(".prompt.yaml")
    assert len(parsed.content_hash) == 64


def test_customer_support_keeps_the_registry_example_structure() -> None:
    path = bundled_dir("workspace_template") / "prompts" / "customer-support.prompt.yaml"
    prompt = parse_prompt(path.read_text(encoding="utf-8"), path).file
    assert prompt.system and "{{ company_name }}" in prompt.system
    assert prompt.variables["user_query"].strip_html
    assert prompt.variables["customer_name"].max_length == 100
    assert prompt.guardrails is not None
    assert [r.scanner for r in prompt.guardrails.input] == ["pii", "jailbreak", "injection"]
    assert prompt.guardrails.output[0].threshold == 0.3


def test_same_meaning_same_hash_and_different_meaning_different_hash() -> None:
    reordered = """\
variables:
  who: {max_length: 40, required: true}
template: "Hello {{ who }}!\\n"
params: {temperature: 0.2}
description: 'Say hello.'
name: greet
"""
    a = parse_prompt(GOOD, PATH)
    b = parse_prompt(reordered, PATH)
    assert a.content_hash == b.content_hash
    assert a.canonical == b.canonical
    c = parse_prompt(GOOD.replace("0.2", "0.3"), PATH)
    assert c.content_hash != a.content_hash


def test_canonical_form_is_minimal_yaml_with_block_scalars() -> None:
    canonical = parse_prompt(GOOD, PATH).canonical
    assert "template: |" in canonical
    assert "null" not in canonical
    assert "strip_html" not in canonical  # defaults are left out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: greet\ntemplate: [unclosed\n", f"{PATH}:3: invalid YAML"),
        ("- just\n- a list\n", f"{PATH}:1: a prompt file must be a YAML mapping"),
        ("name: greet\ntemplate: hi\ntemprature: 1\n", f"{PATH}:3: temprature: unknown key"),
        ("name: greet\ndescription: x\n", f"{PATH}:1: a prompt needs a `template:`"),
        (
            "name: greet\ntemplate: hi\nparams:\n  temperature: 9\n",
            f"{PATH}:4: params.temperature: Input should be less than or equal to 2",
        ),
        (
            "name: greet\ntemplate: hi\nvariables:\n  who:\n    pattern: '(['\n",
            f"{PATH}:5: variables.who.pattern: pattern is not a valid regular expression",
        ),
        (
            "name: greet\nmessages:\n  - role: robot\n    content: hi\n",
            f"{PATH}:3: messages.0.role",
        ),
        ("name: other\ntemplate: hi\n", f"{PATH}:1: name 'other' does not match the file name"),
        ("name: Bad Name\ntemplate: hi\n", f"{PATH}:1: name: String should match pattern"),
    ],
)
def test_mistakes_name_file_and_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_prompt(text, PATH)
    assert caught.value.title.startswith(expected), caught.value.title


def test_yaml_tags_that_run_code_are_refused() -> None:
    text = "name: greet\ntemplate: !!python/object/apply:os.system ['echo pwned']\n"
    with pytest.raises(ConfigError, match="invalid YAML"):
        parse_prompt(text, PATH)
