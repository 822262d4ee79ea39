"""Plain templates (text and ``{{ name }}``) render without Jinja2, exactly as Jinja2 does."""

from __future__ import annotations

import random
import subprocess
import sys
from typing import Any

import pytest

from promptdeck.rendering.render import _environment, _fill_plain, _plain

VALUES: list[Any] = [
    0,
    -3,
    2.5,
    1e20,
    None,
    True,
    "",
    "plain",
    "two\nlines\n",
    "crlf\r\nkept",
    "{{ not a tag }}",
    "ünïcødé ✓",
    [1, "a"],
    {"k": [None]},
    (1,),
]
TEXTS = ["", " ", "Hello ", "\n", "\r\n", "\r", "a\nb", "x\r\ny\n", "}} {", "{ {", "end\n\n", "}"]
SPACES = ["", " ", "  ", "\n", "\t"]


def _jinja(source: str, values: dict[str, Any]) -> str:
    return _environment().from_string(source).render(**values)


def _random_template(rng: random.Random) -> tuple[str, dict[str, Any]]:
    names = ["a", "b", "case_1", "_x", "Name"]
    parts = [rng.choice(TEXTS)]
    values: dict[str, Any] = {}
    for _ in range(rng.randrange(0, 4)):
        name = rng.choice(names)
        values[name] = rng.choice(VALUES)
        parts.append(f"{{{{{rng.choice(SPACES)}{name}{rng.choice(SPACES)}}}}}")
        parts.append(rng.choice(TEXTS))
    return "".join(parts), values


def test_plain_templates_render_as_jinja2_does() -> None:
    rng = random.Random(20261122)
    checked = 0
    for _ in range(2000):
        source, values = _random_template(rng)
        if _plain(source) is None:  # text ending in "{" before a tag: Jinja2's own case
            assert "{{{" in source.replace(" ", "").replace("\n", "")
            continue
        assert _fill_plain(source, values) == _jinja(source, values), repr(source)
        checked += 1
    assert checked > 1500


@pytest.mark.parametrize(
    "source",
    [
        "{{ x | upper }}",
        "{{ x.attr }}",
        "{{ x + 1 }}",
        "{% if x %}y{% endif %}",
        "{# comment #} {{ x }}",
        "{{ true }}",
        "{{ None }}",
        "{{- x }}",
        "{{ x -}}",
        "{{ 'lit' }}",
        "{{ x }}{{",
        "{{{ x }}",
    ],
)
def test_anything_else_is_left_to_jinja2(source: str) -> None:
    assert _plain(source) is None


def test_a_missing_or_unprintable_value_is_left_to_jinja2() -> None:
    class Broken:
        def __str__(self) -> str:
            raise ValueError("no")

    assert _fill_plain("Hi {{ who }}", {}) is None
    assert _fill_plain("Hi {{ who }}", {"who": Broken()}) is None
    assert _fill_plain("Hi {{ who }}", {"who": "you"}) == "Hi you"


def test_rendering_a_plain_prompt_does_not_import_jinja2() -> None:
    code = (
        "import sys\n"
        "from promptdeck.rendering import PromptTemplate, VariableRules, render_messages\n"
        "p = PromptTemplate(name='p', variables={'x': VariableRules(required=True)},"
        " template='Say {{ x }}.', system='Be brief.')\n"
        "print(render_messages(p, {'x': 'hi'})[0][-1]['content'])\n"
        "print('jinja2' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["Say", "hi.", "False"]
