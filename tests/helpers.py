"""Helpers shared by the test modules."""

from __future__ import annotations

import pytest

from promptdeck.cli.main import main


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the real entry point in-process; return (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 0), out, err


MINI_SUITE = """\
prompts: [classify-ticket]
cases:
  - description: double charge
    vars: {ticket: I was charged twice}
    expected: billing
    assert: [{type: equals}]
  - description: login
    vars: {ticket: I cannot sign in}
    expected: account
    assert: [{type: equals}]
"""
"""A two-case suite of the demo's classify-ticket prompt (``mini``)."""
