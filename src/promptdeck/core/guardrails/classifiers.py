"""The ``injection``, ``jailbreak`` and ``toxicity`` scanners: rules plus a linear classifier.

Each text is normalised (:mod:`.normalize`), embedded with the local MiniLM model
(:mod:`.classifier_model`) and scored by a logistic-regression head
shipped in ``models/classifiers.npz`` (trained by ``scripts/train_guardrails.py`` on
permissively licensed data; see ``models/SOURCES.md``); the ``toxicity`` head also
reads the text's hashed word and character n-grams (:mod:`.lexical`). The heads are
calibrated so that 0.5 is their operating point. Rules (:mod:`.rules`) catch the obvious phrasings,
also inside base64 or hex payloads; the verdict's score is the higher of the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from promptdeck.core.guardrails.base import ScanContext, Span, Verdict, scanner
from promptdeck.core.guardrails.classifier_model import embed_for_classifiers
from promptdeck.core.guardrails.normalize import NormalizedText, normalize
from promptdeck.core.guardrails.rules import (
    INJECTION_RULES,
    JAILBREAK_RULES,
    TOXICITY_RULES,
    Rule,
    decode_payloads,
    match_rules,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "classify",
    "rule_findings",
    "scan_injection",
    "scan_jailbreak",
    "scan_toxicity",
]

DEFAULT_THRESHOLD = 0.5
"""Scores at or above this flag a text (the heads are calibrated to it)."""
ENCODED_PAYLOAD_SCORE = 0.6
"""Score of readable text hidden in base64 or hex inside a prompt (``injection``)."""


def rule_findings(
    norm: NormalizedText, rules: Sequence[Rule], name: str
) -> tuple[float, list[tuple[int, int, str]]]:
    """Return the rules' score and spans (on the normalised text), also inside payloads.

    Args:
        norm: The normalised text.
        rules: The scanner's rules.
        name: The scanner (``injection`` also flags any readable encoded payload).
    """
    score = 0.0
    found: list[tuple[int, int, str]] = []
    for hit in match_rules(norm.text, rules):
        score = max(score, hit.rule.score)
        found.append((hit.start, hit.end, hit.rule.type))
    for start, end, decoded in _payloads(norm.text):
        inner = match_rules(decoded, rules)
        if inner:
            score = max(score, *(h.rule.score for h in inner))
            found.append((start, end, f"ENCODED_{inner[0].rule.type}"))
        elif name == "injection":
            score = max(score, ENCODED_PAYLOAD_SCORE)
            found.append((start, end, "ENCODED_PAYLOAD"))
    return score, found


@lru_cache(maxsize=8)
def _payloads(text: str) -> tuple[tuple[int, int, str], ...]:
    """The readable encoded payloads of a normalised text, each normalised in turn.

    Cached: the three classifiers of one text (or chunk) look for them once.
    """
    return tuple(
        (start, end, normalize(decoded).text) for start, end, decoded in decode_payloads(text)
    )


def _head_probability(name: str, text: str, norm: NormalizedText, context: ScanContext) -> float:
    """The classifier head's probability (it reads the text's opening)."""
    from promptdeck.core.guardrails.linear import load_heads

    vector = context.embedding
    if vector is None:
        vector = embed_for_classifiers([text])[0]
    head = load_heads()[name]
    lexical = None
    if head.lexical is not None:
        from promptdeck.core.guardrails.lexical import lexical_features

        lexical = lexical_features([norm.text])
    return float(head.predict(vector[None, :], lexical)[0])


def classify(name: str, rules: Sequence[Rule], text: str, context: ScanContext) -> Verdict:
    """Score a text with the rules and the classifier head called ``name``.

    Args:
        name: The scanner (and head) name.
        rules: The scanner's rules.
        text: The text.
        context: Its context (``embedding`` is used when set).

    Returns:
        The verdict; its spans are the rule matches, in the original text. A later
        part of a long text (``context.part``) is read by the rules alone.
    """
    norm = normalize(text)
    rule_score, found = rule_findings(norm, rules, name)
    probability = 0.0 if context.part else _head_probability(name, text, norm, context)
    score = max(rule_score, probability)
    threshold = context.threshold(name, DEFAULT_THRESHOLD)
    spans = []
    for start, end, kind in sorted(found):
        o_start, o_end = norm.to_original(start, end)
        spans.append(Span(o_start, o_end, kind, text[o_start:o_end]))
    flagged = score >= threshold
    if spans and rule_score >= probability:
        reason = f"matched {', '.join(dict.fromkeys(s.type for s in spans))}"
    else:
        reason = f"classifier score {probability:.2f} {'>=' if flagged else '<'} {threshold:.2f}"
    return Verdict(name, flagged, score, tuple(spans), reason)


@scanner(
    "injection",
    description="Prompt injection: overriding or leaking the app's instructions.",
    uses_embedding=True,
    default=True,
    chunked=True,
)
def scan_injection(text: str, context: ScanContext) -> Verdict:
    """Flag attempts to override or extract the application's instructions."""
    return classify("injection", INJECTION_RULES, text, context)


@scanner(
    "jailbreak",
    description="Jailbreaks: role-play and set-ups that switch off the model's safety.",
    uses_embedding=True,
    default=True,
    chunked=True,
)
def scan_jailbreak(text: str, context: ScanContext) -> Verdict:
    """Flag attempts to switch off the model's safety or alignment."""
    return classify("jailbreak", JAILBREAK_RULES, text, context)


@scanner(
    "toxicity",
    sides=("input", "output"),
    description="Abusive, hateful or harassing text.",
    uses_embedding=True,
    default=True,
    chunked=True,
)
def scan_toxicity(text: str, context: ScanContext) -> Verdict:
    """Flag abusive, hateful or harassing text."""
    return classify("toxicity", TOXICITY_RULES, text, context)
