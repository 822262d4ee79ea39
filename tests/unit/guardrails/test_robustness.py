"""Scanners face untrusted text: pathological inputs must not make them slow."""

from __future__ import annotations

import time

import pytest

from promptdeck.core.guardrails import find_pii, find_secrets, normalize
from promptdeck.core.guardrails.classifiers import rule_findings
from promptdeck.core.guardrails.rules import INJECTION_RULES, JAILBREAK_RULES, TOXICITY_RULES


@pytest.mark.parametrize(
    "text",
    [
        "1 " * 25_000,
        "a." * 25_000 + "@",
        "1." * 25_000,
        ":" * 50_000,
        "Phone: " + "12 " * 15_000,
        "ignore all " * 5_000,
        "my name is " + "Aa " * 20_000,
        "{[(<$%^" * 7_000,
        "іgnоrе\u200b " * 6_000,
    ],
    ids=lambda t: repr(t[:12]),
)
def test_pathological_text_is_scanned_quickly(text: str) -> None:
    start = time.perf_counter()
    find_pii(text)
    find_secrets(text)
    norm = normalize(text)
    for rules, name in (
        (INJECTION_RULES, "injection"),
        (JAILBREAK_RULES, "jailbreak"),
        (TOXICITY_RULES, "toxicity"),
    ):
        rule_findings(norm, rules, name)
    assert time.perf_counter() - start < 3.0
