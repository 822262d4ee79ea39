"""A long string with brackets and escapes in it is read in memory that does not grow with it.

The readers count brackets outside strings before parsing; their string pattern
``"(?:[^"\\\n]|\\.)*"`` kept a backtracking entry per character, so one 10 MB JSON
Lines row (a ``guard --input`` text with brackets and escapes) took 1.2 GB. The
pattern is now possessive: the same tokens, in constant memory.
"""

from __future__ import annotations

import os
import random
import re
import resource
import subprocess
import sys

import pytest

import promptdeck
from promptdeck.safeload import answers, jsonload, tomlload

BEFORE = re.compile(r'"(?:[^"\\\n]|\\.)*"|[\[\]{}]')
CHILD = """
import json
from promptdeck.safeload.jsonload import json_lines
from promptdeck.safeload.answers import check_answer_json
text = ("[x] {y} \\u200b \\\\ " * 600_000)[:10_000_000]
row = json.dumps({"id": 1, "text": text})
assert len(list(json_lines(row, "big.jsonl"))) == 1
check_answer_json(json.dumps([text[:2_000_000]]))
print("ok")
"""


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    limit = 400 * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.mark.parametrize("pattern", [jsonload._TOKENS, answers._TOKENS])
def test_the_json_tokens_are_the_same(pattern: re.Pattern[str]) -> None:
    rng = random.Random(15)
    for _ in range(2000):
        text = "".join(rng.choice('ab"\\\n[]{} ') for _ in range(rng.randint(0, 60)))
        assert [m.span() for m in pattern.finditer(text)] == [
            m.span() for m in BEFORE.finditer(text)
        ], text


def test_the_toml_tokens_still_skip_strings() -> None:
    text = 'a = "x [ \\" {"\nb = [1, [2]]\n'
    assert [m.group() for m in tomlload._TOKENS.finditer(text)] == [
        '"x [ \\" {"',
        "[",
        "[",
        "]",
        "]",
    ]


def test_a_10_mb_row_with_brackets_and_escapes_reads_in_400_mb() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(promptdeck.__file__))},
        preexec_fn=_limit_memory,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
