"""Importing the guardrails, the embedder or the guard command loads no heavy module."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "statement",
    [
        "import promptdeck.core.providers.embeddings",
        "import promptdeck.core.guardrails; promptdeck.core.guardrails.scanner_names()",
        "import promptdeck.cli.commands.guard",
    ],
)
def test_nothing_heavy_at_import(statement: str) -> None:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    loaded = {name.split(".")[0] for name in json.loads(out)}
    for heavy in ("numpy", "onnxruntime", "tokenizers", "torch", "litellm", "textual", "rich"):
        assert heavy not in loaded, f"{statement!r} loaded {heavy}"
