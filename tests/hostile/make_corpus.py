"""Write the hostile-file corpus (``corpus/``): run once, the files are checked in.

Each file is named ``<kind>.<class>.<variant>.<ext>``; ``kind`` says where the test
puts it (see ``test_corpus.py``). Kept as a script so a reader sees how each file
was made, and can add a class.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent / "corpus"


def bomb(indent: str = "", levels: int = 9) -> str:
    """A "billion laughs": nine aliases of nine aliases of... (as YAML mapping lines)."""
    lines = [f"{indent}a0: &a0 [lol]"]
    for i in range(1, levels + 1):
        lines.append(f"{indent}a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


PROMPT_HEAD = "name: bad\ntemplate: 'Hello {{ x }}'\nvariables: {x: {}}\n"
SUITE_HEAD = "prompts: [summarize]\n"

FILES: dict[str, str | bytes] = {
    # promptdeck.toml (appended to the demo's)
    "toml.syntax.unclosed.toml": 'default_model = "x\n',
    "toml.deep.inline-tables.toml": "x = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n",
    "toml.deep.arrays.toml": "[params]\nstop = " + "[" * 5000 + "]" * 5000 + "\n",
    "toml.deep.dotted-keys.toml": "[params]\n" + ".".join(["a"] * 3000) + " = 1\n",
    "toml.duplicate.table.toml": '[models.smol]\nmodel = "local/smollm2-135m"\n',
    "toml.duplicate.key.toml": "[cache]\nexact = false\n",
    "toml.utf8.bad-byte.toml": b"# caf\xe9\n",
    "toml.reference.ensemble-member.toml": '[ensembles.e]\nmembers = ["smol", "nosuch"]\n',
    "toml.reference.ensemble-local.toml": '[ensembles.e]\nmembers = ["local/nosuch"]\n',
    "toml.reference.scanner.toml": '[[guardrails.input]]\nscanner = "nosuch"\n',
    "toml.reference.keymap.toml": '[keymap]\n"screen.stat" = "s"\n',
    # prompt files (prompts/bad.prompt.yaml)
    "prompt.syntax.unclosed.yaml": "name: bad\ntemplate: [unclosed\n",
    "prompt.syntax.tab.yaml": "name: bad\n\ttemplate: x\n",
    "prompt.utf8.bad-byte.yaml": b"name: bad\ntemplate: caf\xe9\n",
    "prompt.utf8.truncated.yaml": b"name: bad\ntemplate: \xe2\x82\n",
    "prompt.deep.tags-flow.yaml": "name: bad\ntemplate: hi\ntags: " + "[" * 50000 + "\n",
    "prompt.deep.response-format.yaml": PROMPT_HEAD
    + "params:\n  response_format: "
    + "{a: " * 3000
    + "1"
    + "}" * 3000
    + "\n",
    "prompt.deep.block.yaml": PROMPT_HEAD
    + "params:\n  response_format:\n"
    + "".join("  " * (i + 2) + "a:\n" for i in range(400))
    + "  " * 402
    + "x\n",
    "prompt.bomb.params.yaml": PROMPT_HEAD + "params:\n  response_format:\n" + bomb("    "),
    "prompt.bomb.default.yaml": "name: bad\ntemplate: 'Hello {{ x }}'\nvariables:\n  x:\n"
    "    default:\n" + bomb("      "),
    "prompt.alias.recursive.yaml": PROMPT_HEAD + "params:\n  response_format: &r {a: *r}\n",
    "prompt.duplicate.template.yaml": "name: bad\ntemplate: one\ntemplate: two\n",
    "prompt.template.unclosed.yaml": "name: bad\ntemplate: 'Hello {{ x '\nvariables: {x: {}}\n",
    "prompt.template.unknown-filter.yaml": "name: bad\ntemplate: '{{ x | nosuch }}'\n"
    "variables: {x: {}}\n",
    "prompt.template.block.yaml": "name: bad\ntemplate: |\n  line one\n  {% if x %}never closed\n"
    "variables: {x: {}}\n",
    "prompt.scanner.unknown.yaml": PROMPT_HEAD + "guardrails:\n  input:\n    - scanner: nosuch\n",
    "prompt.tag.python.yaml": "name: bad\ntemplate: !!python/object/apply:os.system [ls]\n",
    "prompt.shape.list.yaml": "- name: bad\n",
    # suites (suites/bad.suite.yaml)
    "suite.syntax.unclosed.yaml": SUITE_HEAD + "cases: [\n",
    "suite.utf8.bad-byte.yaml": b"prompts: [summarize]\ncases:\n  - vars: {text: \xc3\x28}\n",
    "suite.deep.vars.yaml": SUITE_HEAD + "cases:\n  - vars: {text: " + "[" * 50000 + "}\n",
    "suite.bomb.vars.yaml": SUITE_HEAD + "cases:\n  - vars:\n      text: x\n" + bomb("      "),
    "suite.duplicate.prompts.yaml": SUITE_HEAD + "prompts: [summarize]\n"
    "cases:\n  - vars: {text: a}\n",
    "suite.reference.missing-prompt.yaml": "prompts:\n  - summarize\n  - nosuch\n"
    "cases:\n  - vars: {text: a}\n",
    "suite.reference.unknown-model.yaml": SUITE_HEAD + "models:\n  - nosuchmodel\n"
    "cases:\n  - vars: {text: a}\n",
    "suite.reference.unknown-judge.yaml": SUITE_HEAD + "judge: nosuchjudge\n"
    "cases:\n  - vars: {text: a}\n    assert: [{type: llm-rubric, value: short}]\n",
    "suite.reference.missing-dataset.yaml": SUITE_HEAD
    + "cases:\n  - dataset: datasets/nosuch.jsonl\n",
    # datasets (datasets/bad.<ext>, named by suites/bad.suite.yaml)
    "dataset.deep.row.jsonl": '{"text": "ok"}\n{"text": ' + "[" * 100000 + "]" * 100000 + "}\n",
    "dataset.duplicate.key.jsonl": '{"text": "a"}\n{"text": "a", "text": "b"}\n',
    "dataset.utf8.bad-byte.jsonl": b'{"text": "a"}\n{"text": "\xff"}\n',
    "dataset.syntax.truncated.jsonl": '{"text": "a"}\n{"text": \n',
    "dataset.syntax.not-object.jsonl": '{"text": "a"}\n[1, 2]\n',
    "dataset.deep.array.json": "[" * 100000 + "]" * 100000,
    "dataset.duplicate.key.json": '[\n  {"text": "a"},\n  {"text": "a",\n   "text": "b"}\n]\n',
    "dataset.syntax.trailing.json": '[\n  {"text": "a"},\n]\n',
    "dataset.utf8.bad-byte.csv": b"text\nok\ncaf\xe9\n",
    "dataset.shape.extra-cells.csv": "text\nok\na,b\n",
    "dataset.bomb.rows.yaml": "- vars: {text: x}\n  extra:\n" + bomb("    "),
    "dataset.deep.flow.yaml": "- vars: {text: " + "[" * 50000 + "}\n",
    "dataset.duplicate.key.yaml": "- vars: {text: a}\n- vars: {text: b}\n  vars: {text: c}\n",
    # guard suites (suites/bad.guard.yaml)
    "guard.deep.text.yaml": "cases:\n  - text: " + "[" * 50000 + "\n",
    "guard.bomb.expect.yaml": "cases:\n  - text: x\n    expect: {pii: true}\n" + bomb(),
    "guard.duplicate.cases.yaml": "cases:\n  - text: x\n    expect: {pii: true}\n"
    "cases:\n  - text: y\n    expect: {pii: true}\n",
    "guard.utf8.bad-byte.yaml": b"cases:\n  - text: \xff\n    expect: {pii: true}\n",
    "guard.reference.scanner.yaml": "cases:\n  - text: x\n    expect: {nosuch: true}\n",
    # themes (themes/bad.toml)
    "theme.deep.colors.toml": 'name = "t"\n[colors]\nprimary = ' + "[" * 5000 + "\n",
    "theme.utf8.bad-byte.toml": b'name = "t\xff"\n[colors]\nprimary = "#fff"\n',
    "theme.duplicate.key.toml": 'name = "t"\nname = "u"\n[colors]\nprimary = "#fff"\n',
}


def main() -> None:
    """Write every corpus file (and remove files no longer listed)."""
    HERE.mkdir(exist_ok=True)
    for old in HERE.iterdir():
        if old.name not in FILES:
            old.unlink()
    for name, content in FILES.items():
        path = HERE / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


if __name__ == "__main__":
    main()
