"""The template sandbox: every render bounded in output, time and operand sizes.

Each hostile payload is refused with one line naming the prompt and what was refused;
the nastiest run again in a subprocess limited to 500 MB of address space.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from promptdeck.errors import ExitCode, PromptdeckError
from promptdeck.rendering import (
    PromptTemplate,
    RenderLimits,
    RenderRefusedError,
    VariableRules,
    render_messages,
)

SRC = Path(__file__).resolve().parents[3] / "src"


def render(template: str, limits: RenderLimits | None = None, **values: Any) -> str:
    prompt = PromptTemplate(
        name="evil", template=template, variables={k: VariableRules() for k in values}
    )
    kwargs = {"limits": limits} if limits else {}
    messages, _ = render_messages(prompt, values, **kwargs)
    return messages[-1]["content"]


#: (payload, what the one-line refusal names)
PAYLOADS = [
    ("{{ 'a' * 1000000000 }}", "'a' * 1000000000"),
    ("{{ 1000000000 * 'a' }}", "1000000000 * 'a'"),
    ("{{ '{:>1000000000}'.format('a') }}", "format width"),
    ("{{ '{:.1000000000f}'.format(1.5) }}", "format width or precision"),
    ("{{ '{:{w}}'.format('a', w=1000000000) }}", "format width"),
    ("{{ '%1000000000s'|format('a') }}", "format width"),
    ("{{ '%*s'|format(1000000000, 'a') }}", "format width"),
    ("{{ '%1000000000s' % 'a' }}", "format width"),
    ("{{ '%900000s' * 1 * 9 % (1,2,3,4,5,6,7,8,9) }}", "would make"),
    ("{{ ('{:>900000}' * 50).format(*range(50)) }}", "str.format would make"),
    ("{{ x|center(1000000000) }}", "center would make"),
    ("{{ x|indent(1000000000) }}", "indent width"),
    ("{{ (x * 900000)|indent(900000, true) }}", "would make"),
    ("{{ x.ljust(1000000000) }}", "str.ljust"),
    ("{{ x.zfill(1000000000) }}", "str.zfill"),
    ("{{ ('a' * 900000).replace('a', 'aaaa') }}", "str.replace"),
    ("{{ ('a' * 900000)|replace('a', 'aaaa') }}", "replace would make"),
    ("{{ ('\t' * 1000).expandtabs(100000) }}", "str.expandtabs"),
    ("{{ (1).to_bytes(1000000000, 'big') }}", "int.to_bytes"),
    ("{{ (1,) * 1000000000 }}", "tuple of 1 * 1000000000"),
    ("{{ [1, 2] * 1000000000 }}", "list of 2 * 1000000000"),
    ("{{ range(100000)|join(',') * 3000 }}", "* 3000"),
    ("{{ ','.join(['x' * 900000, 'y' * 900000]) }}", "str.join"),
    ("{{ ['x' * 900000, 'y' * 900000]|join }}", "join would make"),
    ("{{ (2 ** 8000000000) > 1 }}", "2 ** 8000000000"),
    ("{{ 10 ** 100000 }}", "10 ** 100000 would have about 100,000 digits"),
    ("{{ (10 ** 4000) * (10 ** 4000) }}", "digits"),
    ("{{ range(1000000) }}", "range of 1,000,000"),
    ("{{ [1]|batch(1000000000, 0)|list }}", "linecount"),
    ("{{ [1]|slice(1000000000)|list }}", "slices"),
    ("{{ lipsum(100000, max=100000) }}", "lipsum"),
    ("{{ x|tojson(indent=1000000000) }}", "tojson indent"),
    (
        "{% set ns = namespace(s='a') %}{% for i in range(40) %}"
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
        "the ~ operator",
    ),
    (
        "{% set ns = namespace(s='a') %}{% for i in range(40) %}"
        "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length }}",
        "would make",
    ),
    (
        "{% set ns = namespace(s='a') %}{% for i in range(40) %}"
        "{% set ns.s = '%s%s' % (ns.s, ns.s) %}{% endfor %}{{ ns.s|length }}",
        "would make",
    ),
    (
        "{% set ns = namespace(l=[1]) %}{% for i in range(60) %}"
        "{% set ns.l = [ns.l, ns.l] %}{% endfor %}{{ ns.l }}",
        "would print as over",
    ),
    (
        "{% set ns = namespace(l=[1]) %}{% for i in range(60) %}"
        "{% set ns.l = [ns.l] + [ns.l] %}{% endfor %}{{ ns.l|length }}",
        "would print as over",
    ),
    (
        "{% macro d(s) %}{{ s }}{{ s }}{% endmacro %}{% set ns = namespace(s='ab') %}"
        "{% for i in range(40) %}{% set ns.s = d(ns.s) %}{% endfor %}{{ ns.s|length }}",
        "counting macros and blocks",
    ),
    ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "calls nested deeper than 40"),
    ("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{% set x = f(1) %}ok", "nested deeper"),
    ("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}", "passed 1,000,000 bytes"),
    (
        "{% for i in range(100000) %}{% for j in range(100) %}{{ 'x' * 100 }}"
        "{% endfor %}{% endfor %}",
        "passed 1,000,000 bytes",
    ),
    (
        "{% set x %}{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}{% endset %}",
        "counting macros and blocks",
    ),
]


@pytest.mark.parametrize(("payload", "named"), PAYLOADS, ids=[p for p, _ in PAYLOADS])
def test_a_hostile_payload_is_refused_in_one_line(payload: str, named: str) -> None:
    started = time.process_time()
    with pytest.raises(RenderRefusedError) as refused:
        render(payload, x="a")
    error = refused.value
    assert error.title.startswith("prompt 'evil': template: refused by the template sandbox:")
    assert named in error.title
    assert "\n" not in error.title
    assert isinstance(error, PromptdeckError) and error.exit_code == ExitCode.USAGE
    assert time.process_time() - started < 5  # CPU seconds: refused before the work


@pytest.mark.parametrize(
    "payload",
    [
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "{% set l = range(100000)|list %}{% for a in l %}{% for b in l %}{% endfor %}{% endfor %}",
        "{% for i in range(100000) %}{% for j in range(100000) %}{% if i < 0 %}x{% endif %}"
        "{% endfor %}{% endfor %}",
        "{% for i in range(100000) recursive %}{% for j in range(100000) %}{% endfor %}"
        "{% endfor %}",
        "{{ range(100000)|map('string')|map('length')|sum }}"
        "{% for i in range(100000) %}{% set y = range(100000)|sum %}{% endfor %}",
    ],
)
def test_a_loop_that_prints_nothing_stops_at_the_time_limit(payload: str) -> None:
    with pytest.raises(RenderRefusedError, match=r"rendering took over 0\.2 s"):
        render(payload, RenderLimits(timeout=0.2))


def test_the_output_limit_is_configurable() -> None:
    small = RenderLimits(max_output_bytes=1_000)
    with pytest.raises(RenderRefusedError, match="passed 1,000 bytes"):
        render("{% for i in range(400) %}{{ i }}, {% endfor %}", small)
    assert render("{% for i in range(200) %}{{ i }}, {% endfor %}").startswith("0, 1, 2")
    with pytest.raises(RenderRefusedError, match="passed 1,000 bytes"):
        render("{{ x }}", small, x="é" * 600)  # bytes, not characters; plain templates too


def test_ordinary_templates_still_render() -> None:
    template = textwrap.dedent(
        """\
        {% macro item(n) %}- {{ n }}{% endmacro %}
        {% for n in names %}{{ item(n) }}
        {% endfor %}{{ '{:>5}|{:<5}|'.format('a', 'b') }} {{ '%05.1f' % 3.14159 }}
        {{ 'ab' * 3 }} {{ [1, 2] + [3] }} {{ 2 ** 10 }} {{ names|join(', ')|center(30) }}
        {{ 'x\ny'|indent(2, true) }} {{ {'a': 1}|tojson }} {{ 'a-b'.replace('-', '+') }}
        {{ range(3)|list }} {{ '%s and %s'|format('x', 'y') }} {% set ns = namespace(t=0) %}
        {%- for i in range(10) %}{% set ns.t = ns.t + i %}{% endfor %}{{ ns.t }}"""
    )
    out = render(template, names=["ana", "bo"])
    assert "- ana\n- bo" in out
    assert "    a|b    |" in out and "003.1" in out
    assert "ababab [1, 2, 3] 1024" in out
    assert "  x\n  y" in out and '{"a": 1}' in out and "a+b" in out
    assert "[0, 1, 2] x and y" in out and out.endswith("45")


def test_a_deep_but_finite_macro_recursion_renders() -> None:
    out = render(
        "{% macro down(n) %}{{ n }}{% if n > 0 %} {{ down(n - 1) }}{% endif %}{% endmacro %}"
        "{{ down(30) }}"
    )
    assert out.endswith("2 1 0")


def test_registry_and_workbench_render_with_the_same_bounds() -> None:
    from promptdeck.core.prompts.files import PromptFile
    from promptdeck.core.prompts.templating import render_prompt

    file = PromptFile.model_validate({"name": "evil", "template": "{{ 'a' * 1000000000 }}"})
    with pytest.raises(RenderRefusedError, match="prompt 'evil': template: refused"):
        render_prompt(file, {})


_SUBPROCESS = """
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (500 * 2**20, 500 * 2**20))
from promptdeck.rendering import PromptTemplate, VariableRules, render_messages
results = []
for payload in json.loads(sys.argv[1]):
    started = time.process_time()
    prompt = PromptTemplate(name="evil", template=payload, variables={"x": VariableRules()})
    try:
        render_messages(prompt, {"x": "a"})
        outcome = "rendered"
    except Exception as exc:
        outcome = type(exc).__name__ + ": " + str(exc).splitlines()[0]
    results.append([outcome, time.process_time() - started])
print(json.dumps(results))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is enforced on Linux")
def test_the_nastiest_payloads_stay_under_500_mb_and_a_few_seconds() -> None:
    payloads = [p for p, _ in PAYLOADS] + [
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    ]
    done = subprocess.run(
        [sys.executable, "-c", _SUBPROCESS, json.dumps(payloads)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for payload, (outcome, cpu) in zip(payloads, json.loads(done.stdout), strict=True):
        assert outcome.startswith("RenderRefusedError: prompt 'evil'"), (payload, outcome)
        assert cpu < 10, (payload, cpu)
