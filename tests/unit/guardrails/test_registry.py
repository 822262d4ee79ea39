"""One registry of scanners: registering, listing, resolving, verdict records."""

from __future__ import annotations

import pytest

from promptdeck.core.guardrails import (
    ScanContext,
    Span,
    Verdict,
    base,
    get_scanner,
    resolve_scanners,
    scan_texts,
    scanner,
    scanner_names,
)
from promptdeck.errors import UsageError


def test_builtin_scanners_input_side_first() -> None:
    assert scanner_names() == [
        "pii", "secrets", "injection", "jailbreak", "toxicity", "context-size",
        "pii-leak", "format", "refusal", "grounding",
    ]  # fmt: skip
    assert [s.name for s in resolve_scanners(None)] == [
        "pii", "secrets", "injection", "jailbreak", "toxicity",
    ]  # fmt: skip


def test_adding_a_scanner_is_one_function(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "_REGISTRY", dict(base._REGISTRY))

    @scanner("shouting", sides=("output",), description="All capitals.")
    def shouting(text: str, context: ScanContext) -> Verdict:
        loud = text.isupper()
        return Verdict("shouting", loud, 1.0 if loud else 0.0, (), "")

    assert get_scanner("shouting").scan("HELLO").flagged
    assert scan_texts(["quiet"], ["shouting"]) == [
        {"shouting": Verdict("shouting", False, 0.0, (), "")}
    ]
    with pytest.raises(ValueError, match="already registered"):
        scanner("shouting", description="again")(lambda t, c: shouting(t, c))


def test_unknown_scanner_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown guardrail scanner 'nope'"):
        resolve_scanners(["pii", "nope"])


def test_verdicts_are_frozen_and_clamped() -> None:
    verdict = Verdict("x", True, 1.7, (Span(0, 3, "T", "abc"),), "r")
    assert verdict.score == 1.0
    with pytest.raises(AttributeError):
        verdict.flagged = False  # type: ignore[misc]
    assert verdict.to_dict() == {
        "flagged": True,
        "score": 1.0,
        "spans": [{"start": 0, "end": 3, "type": "T", "text": "abc"}],
        "reason": "r",
    }


def test_one_context_per_text() -> None:
    contexts = [ScanContext(context_window=1), ScanContext(context_window=100)]
    results = scan_texts(["a b c", "a b c"], ["context-size"], contexts)
    assert [r["context-size"].flagged for r in results] == [True, False]
    with pytest.raises(ValueError, match="one context per text"):
        scan_texts(["a"], ["context-size"], contexts)
