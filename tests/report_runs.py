"""Stored runs for the report tests: two models, repeats, tags, a failure, an error, a flaky
case, a case without assertions, an answer holding markup, and a second run that changed."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import pytest

from promptdeck.cli.main import main
from promptdeck.core.gateway import engine
from promptdeck.core.providers.base import ChatRequest, ErrorKind, ProviderError
from promptdeck.core.providers.fake import FakeProvider
from promptdeck.paths import WorkspacePaths

HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'
"""An answer that would run script if the report wrote it as markup."""

UNPRICED = "openai/no-such-model-17"
"""A model no price map knows: its calls' cost is unknown."""

RICH_SUITE = f"""\
prompts: [classify-ticket]
models: [local/smollm2-135m, {UNPRICED}]
repeat: 2
cases:
  - description: double charge
    vars: {{ticket: I was charged twice}}
    expected: billing
    tags: [money]
    assert: [{{type: equals}}]
  - description: login
    vars: {{ticket: I cannot sign in}}
    expected: account
    tags: [auth]
    assert: [{{type: equals}}]
  - description: outage
    vars: {{ticket: The app crashes on start}}
    expected: technical
    tags: [bugs]
    assert: [{{type: equals}}]
  - description: parcel
    vars: {{ticket: Where is my parcel}}
    expected: shipping
    tags: [money, shipping]
    assert: [{{type: equals}}]
  - description: greeting
    vars: {{ticket: Hello there}}
"""
"""5 cases × 2 models × 2 repeats = 20 cells."""


@dataclass
class Answers:
    """The fake models' answers; ``second`` makes the second run differ from the first."""

    second: bool = False
    seen: Counter[tuple[str, str]] | None = None

    def __call__(self, request: ChatRequest) -> str:
        ticket = request.messages[-1]["content"]
        self.seen = self.seen or Counter()
        self.seen[(request.model, ticket)] += 1
        local = request.model.startswith("local/")
        if "charged" in ticket:
            return "refund" if self.second and local else "billing"  # regresses on local
        if "sign in" in ticket:
            return "account" if self.second and local else HOSTILE  # improves on local
        if "crashes" in ticket:
            # flaky: the first answer of each model is right, the next wrong
            return "technical" if self.seen[(request.model, ticket)] % 2 else "other"
        if "parcel" in ticket:
            if not local:
                raise ProviderError(ErrorKind.BAD_REQUEST, "the model refused the request")
            return "shipping"
        return "other"


@dataclass(frozen=True)
class Runs:
    """Two runs of the ``rich`` suite (the first blessed as the suite's baseline)."""

    args: list[str]
    first: str
    second: str


def _eval(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run the suite; return the run's id (from the progress line on stderr)."""
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main([*args, "eval", "rich", "--no-cache"])
    found = re.search(r"\brun (\S+)\s*$", capsys.readouterr().err, re.MULTILINE)
    assert found, "the eval printed no run id"
    return found.group(1)


def make_runs(
    paths: WorkspacePaths, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Runs:
    """Run the ``rich`` suite twice (answers changed in between); bless the first."""
    answers = Answers()
    provider = FakeProvider(default=answers)
    monkeypatch.setattr(engine, "make_provider_factory", lambda config, root: lambda t: provider)
    (paths.suites / "rich.suite.yaml").write_text(RICH_SUITE)
    args = ["--headless", "--workspace", str(paths.root)]
    first = _eval(args, capsys)
    with pytest.raises(SystemExit):
        main([*args, "eval", "bless", first])
    answers.second = True
    answers.seen = None
    second = _eval(args, capsys)
    capsys.readouterr()
    assert first != second
    return Runs(args, first, second)
