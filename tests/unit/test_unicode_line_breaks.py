"""Text with U+2028, U+2029 or U+0085 in it is text: datasets, suites and configs split on "\\n".

JSON allows these characters unescaped in strings, and so do CSV, TOML and YAML 1.2;
only ``str.splitlines`` (and YAML 1.1) take them for line breaks.
"""

from __future__ import annotations

import json

import pytest
import yaml

from promptdeck.config import toml_line
from promptdeck.core.evals.suites import load_suite
from promptdeck.core.guardrails.suites import load_guard_suite
from promptdeck.core.workspace.yamlfile import dump_yaml, read_yaml
from promptdeck.errors import ConfigError
from promptdeck.paths import WorkspacePaths

ODD = ["line\u2028separator", "para\u2029graph", "next\x85line"]


def _suite(paths: WorkspacePaths, dataset: str) -> None:
    (paths.suites / "odd.suite.yaml").write_text(
        f"prompts: [classify-ticket]\ncases:\n  - dataset: datasets/{dataset}\n",
        encoding="utf-8",
    )


def test_a_jsonl_dataset_keeps_unicode_line_breaks_inside_strings(
    demo_paths: WorkspacePaths,
) -> None:
    rows = [json.dumps({"vars": {"ticket": text}}, ensure_ascii=False) for text in ODD]
    (demo_paths.datasets / "odd.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    _suite(demo_paths, "odd.jsonl")
    suite = load_suite(demo_paths.suites / "odd.suite.yaml", demo_paths)
    assert [c.vars["ticket"] for c in suite.cases] == ODD
    assert [c.source for c in suite.cases] == [f"datasets/odd.jsonl:{n}" for n in (1, 2, 3)]


def test_a_broken_jsonl_row_is_still_named_by_its_line(demo_paths: WorkspacePaths) -> None:
    good = json.dumps({"ticket": ODD[0]}, ensure_ascii=False)
    (demo_paths.datasets / "odd.jsonl").write_text(f"{good}\n{good}\n{{oops\n", encoding="utf-8")
    _suite(demo_paths, "odd.jsonl")
    with pytest.raises(ConfigError, match=r"datasets/odd\.jsonl:3: invalid JSON"):
        load_suite(demo_paths.suites / "odd.suite.yaml", demo_paths)


def test_a_csv_dataset_keeps_unicode_line_breaks_inside_cells(demo_paths: WorkspacePaths) -> None:
    lines = ["ticket,expected", *(f"{text},billing" for text in ODD), '"two\nlines",billing']
    (demo_paths.datasets / "odd.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _suite(demo_paths, "odd.csv")
    suite = load_suite(demo_paths.suites / "odd.suite.yaml", demo_paths)
    assert [c.vars["ticket"] for c in suite.cases] == [*ODD, "two\nlines"]


def test_yaml_datasets_and_suites_keep_unicode_line_breaks_and_their_line_numbers(
    demo_paths: WorkspacePaths,
) -> None:
    # Plain, single- and double-quoted scalars; YAML 1.1 parsers would fold, shift or fail.
    (demo_paths.datasets / "odd.yaml").write_text(
        f"- ticket: {ODD[0]} plain\n"
        f"- ticket: '{ODD[1]}'\n"
        f'- ticket: "{ODD[2]}  spaced"\n'
        "- not a mapping\n",
        encoding="utf-8",
    )
    _suite(demo_paths, "odd.yaml")
    with pytest.raises(ConfigError, match=r"datasets/odd\.yaml:4:"):
        load_suite(demo_paths.suites / "odd.suite.yaml", demo_paths)
    text = (demo_paths.datasets / "odd.yaml").read_text(encoding="utf-8")
    (demo_paths.datasets / "odd.yaml").write_text(text.rsplit("- not", 1)[0])
    suite = load_suite(demo_paths.suites / "odd.suite.yaml", demo_paths)
    assert [c.vars["ticket"] for c in suite.cases] == [
        f"{ODD[0]} plain",
        ODD[1],
        f"{ODD[2]}  spaced",
    ]
    assert [c.source for c in suite.cases] == [f"datasets/odd.yaml:{n}" for n in (1, 2, 3)]
    (demo_paths.suites / "inline.suite.yaml").write_text(
        f"prompts: [classify-ticket]\ncases:\n  - vars: {{ticket: {ODD[0]}}}\n"
        f"  - vars: {{ticket: {ODD[1]}}}\n",
        encoding="utf-8",
    )
    inline = load_suite(demo_paths.suites / "inline.suite.yaml", demo_paths)
    assert [c.vars["ticket"] for c in inline.cases] == ODD[:2]
    assert [c.source for c in inline.cases] == [
        "suites/inline.suite.yaml:3",
        "suites/inline.suite.yaml:4",
    ]


def test_a_guard_dataset_keeps_unicode_line_breaks(demo_paths: WorkspacePaths) -> None:
    rows = [json.dumps({"text": t, "expect": {"pii": False}}, ensure_ascii=False) for t in ODD]
    (demo_paths.datasets / "odd_guard.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (demo_paths.suites / "odd.guard.yaml").write_text(
        "cases:\n  - dataset: datasets/odd_guard.jsonl\n", encoding="utf-8"
    )
    suite = load_guard_suite(demo_paths.suites / "odd.guard.yaml", demo_paths)
    assert [c.text for c in suite.cases] == ODD


def test_a_toml_key_after_a_unicode_line_break_is_found_on_its_line() -> None:
    text = f'[models.a]\nmodel = "x{ODD[0]}y"\ntemperature = 2\n'
    assert toml_line(text, ("models", "a", "temperature")) == 3


@pytest.mark.parametrize("value", [*ODD, "two\nlines\u2028and a separator"])
def test_yaml_written_by_promptdeck_reads_back_the_same(value: str) -> None:
    text = dump_yaml({"vars": {"q": value}})
    assert read_yaml(text, "x.yaml")[0] == {"vars": {"q": value}}
    assert yaml.safe_load(text) == {"vars": {"q": value}}  # and by any YAML 1.1 reader
