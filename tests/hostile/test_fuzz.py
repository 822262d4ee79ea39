"""Malformed variants of every file format, made by hypothesis: the same contract.

Each example starts from a valid file of its format and breaks it (random bytes,
a cut, invalid UTF-8, a line given twice, deep nesting, an alias bomb). Whatever
comes out, reading it either succeeds or raises one ``ConfigError`` whose title is
one line naming the file; never another exception, never unbounded work. The reads
go through the same functions the commands use. Deterministic (``derandomize``)
and bounded (``max_examples``), so it runs in CI like any test.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptdeck.config import parse_config
from promptdeck.core.prompts.checks import load_prompt
from promptdeck.errors import ConfigError
from promptdeck.safeload.csvload import csv_records
from promptdeck.safeload.jsonload import json_array, json_lines
from promptdeck.safeload.limits import read_text
from promptdeck.safeload.yamlload import load_yaml

FUZZ = settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

PROMPT = """\
name: bad
description: A prompt.
tags: [a, b]
params:
  temperature: 0.2
  response_format: {type: json_object}
template: |
  Hello {{ x }}, {% if y %}yes{% endif %}
variables:
  x: {required: true}
  y: {default: 1}
guardrails:
  input:
    - scanner: pii
"""
SUITE = """\
prompts: [summarize]
cases:
  - vars: {text: a, n: [1, 2]}
    assert: [{type: contains, value: a}]
"""
TOML = """\
default_model = "local/smollm2-135m"
params = { seed = 42, stop = ["a"] }
[models.smol]
model = "local/smollm2-135m"
[ensembles.e]
members = ["smol", "openai/gpt-4o-mini"]
[cache]
exact = true
"""
JSONL = '{"text": "a", "vars": {"n": [1, 2]}}\n{"text": "b"}\n'
JSON = '[\n  {"text": "a", "n": {"m": [1]}},\n  {"text": "b"}\n]\n'
CSV = 'text,expected\n"a, quoted",x\nb,y\n'
YAML_DATASET = "- vars: {text: a}\n  expected: x\n- vars: {text: b}\n"


def _bomb() -> str:
    lines = ["b0: &b0 [lol]"]
    lines += [f"b{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


@st.composite
def broken(draw: st.DrawFn, base: str, flow: tuple[str, str] = ("[", "]")) -> bytes:
    """``base`` broken in one or two ways."""
    data = base.encode()
    for _ in range(draw(st.integers(1, 2))):
        at = draw(st.integers(0, len(data)))
        how = draw(
            st.sampled_from(["insert", "cut", "utf8", "twice", "deep", "deep-closed", "bomb"])
        )
        if how == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
        elif how == "cut":
            data = data[:at]
        elif how == "utf8":
            data = (
                data[:at]
                + draw(st.sampled_from([b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80"]))
                + data[at:]
            )
        elif how == "twice":
            lines = data.split(b"\n")
            i = draw(st.integers(0, max(0, len(lines) - 1)))
            data = b"\n".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])
        elif how in ("deep", "deep-closed"):
            depth = draw(st.sampled_from([99, 101, 3000, 60000]))
            opener, closer = flow
            nest = opener.encode() * depth
            if how == "deep-closed":
                nest += closer.encode() * depth
            data = data[:at] + nest + data[at:]
        else:
            data = data + b"\n" + _bomb().encode()
    return data


def _holds(read: Callable[[str], Any], data: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            read(read_text(path, name))
        except ConfigError as error:
            assert "\n" not in error.title, error.title
            assert error.title.startswith(name), error.title


@FUZZ
@given(broken(PROMPT, ("{a: ", "}")))
def test_prompt_files(data: bytes) -> None:
    _holds(lambda text: load_prompt(text, "bad.prompt.yaml"), data, "bad.prompt.yaml")


@FUZZ
@given(broken(SUITE))
def test_suites(data: bytes) -> None:
    _holds(lambda text: load_yaml(text, "bad.suite.yaml"), data, "bad.suite.yaml")


@FUZZ
@given(broken(YAML_DATASET, ("{a: ", "}")))
def test_yaml_datasets(data: bytes) -> None:
    _holds(lambda text: load_yaml(text, "bad.yaml"), data, "bad.yaml")


@FUZZ
@given(broken(TOML, ("{a = ", "}")))
def test_workspace_configuration(data: bytes) -> None:
    _holds(lambda text: parse_config(text, Path("promptdeck.toml")), data, "promptdeck.toml")


@FUZZ
@given(broken(JSONL))
def test_jsonl_datasets(data: bytes) -> None:
    _holds(lambda text: list(json_lines(text, "bad.jsonl")), data, "bad.jsonl")


@FUZZ
@given(broken(JSON, ('{"a": ', "}")))
def test_json_datasets(data: bytes) -> None:
    _holds(lambda text: list(json_array(text, "bad.json")), data, "bad.json")


@FUZZ
@given(broken(CSV))
def test_csv_datasets(data: bytes) -> None:
    _holds(lambda text: list(csv_records(text, "bad.csv")), data, "bad.csv")
