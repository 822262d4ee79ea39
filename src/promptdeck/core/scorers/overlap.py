r"""Reference-overlap assertion types: ``levenshtein``, ``rouge-n``, ``rouge-l`` and ``bleu``.

Each compares the output with a reference (``value``, else the case's ``expected``;
a list of references scores against the best one) and passes when the score reaches
the threshold. ROUGE and BLEU work on lower-cased word tokens (``\w+``);
Levenshtein on characters.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from promptdeck.core.scorers.base import AssertionContext, Outcome, as_text, assertion

__all__ = [
    "bleu",
    "check_references",
    "levenshtein_distance",
    "levenshtein_similarity",
    "rouge_l",
    "rouge_n",
    "tokenize",
]

_TOKEN = re.compile(r"\w+", flags=re.UNICODE)
_BLEU_EPSILON = 0.1


def tokenize(text: str) -> list[str]:
    """Split text into lower-cased word tokens."""
    return _TOKEN.findall(text.casefold())


def levenshtein_distance(a: str, b: str) -> int:
    """Return the edit distance (insertions, deletions, substitutions) between two strings."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def levenshtein_similarity(a: str, b: str) -> float:
    """Return ``1 - distance(a, b) / max(len(a), len(b))`` (1 for two empty strings)."""
    longest = max(len(a), len(b))
    return 1.0 if longest == 0 else 1.0 - levenshtein_distance(a, b) / longest


def _ngrams(tokens: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def _f1(overlap: float, candidate_total: float, reference_total: float) -> float:
    if overlap == 0 or candidate_total == 0 or reference_total == 0:
        return 0.0
    precision, recall = overlap / candidate_total, overlap / reference_total
    return 2 * precision * recall / (precision + recall)


def rouge_n(candidate: str, reference: str, n: int = 1) -> float:
    """ROUGE-N F1 over word n-grams.

    With ``m`` the clipped n-gram overlap, ``P = m / |candidate n-grams|`` and
    ``R = m / |reference n-grams|``; returns ``2PR / (P + R)``, 0 when either side
    has no n-grams.
    """
    cand, ref = _ngrams(tokenize(candidate), n), _ngrams(tokenize(reference), n)
    overlap = sum((cand & ref).values())
    return _f1(overlap, sum(cand.values()), sum(ref.values()))


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1: ``P = LCS / |cand|``, ``R = LCS / |ref|`` over word tokens; ``2PR / (P + R)``."""
    cand, ref = tokenize(candidate), tokenize(reference)
    return _f1(_lcs(cand, ref), len(cand), len(ref))


def bleu(candidate: str, reference: str, max_n: int = 4) -> float:
    """Sentence BLEU with uniform weights and smoothing method 1 (Chen and Cherry, 2014).

    ``BLEU = BP * exp(sum_n log(p_n) / N)`` with ``N = min(max_n, |cand|, |ref|)``
    (short texts use fewer n-gram orders), ``p_n`` the clipped n-gram precision
    (``epsilon = 0.1`` replaces a zero match count) and the brevity penalty
    ``BP = 1`` if ``c > r`` else ``exp(1 - r / c)`` for candidate and reference
    lengths ``c`` and ``r``.
    """
    cand, ref = tokenize(candidate), tokenize(reference)
    orders = min(max_n, len(cand), len(ref))
    if orders == 0:
        return 0.0
    log_sum = 0.0
    for n in range(1, orders + 1):
        c_grams, r_grams = _ngrams(cand, n), _ngrams(ref, n)
        matches = sum((c_grams & r_grams).values())
        total = sum(c_grams.values())
        log_sum += math.log((matches or _BLEU_EPSILON) / total)
    c, r = len(cand), len(ref)
    penalty = 1.0 if c > r else math.exp(1 - r / c)
    return penalty * math.exp(log_sum / orders)


def check_references(value: Any) -> str | None:
    """Return a problem with a reference value (text, or a non-empty list of texts)."""
    if isinstance(value, list):
        if not value:
            return "the list of references is empty"
        return (
            None
            if all(isinstance(v, str | int | float) for v in value)
            else ("every reference must be a string")
        )
    if isinstance(value, Mapping):
        return "the value must be a reference text or a list of them"
    return None


def _rouge_n_value(value: Any) -> str | None:
    if isinstance(value, Mapping):
        if set(value) - {"n", "reference"}:
            return "the value mapping takes only `n` and `reference`"
        n = value.get("n", 1)
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 4:
            return "`n` must be a whole number from 1 to 4"
        return check_references(value["reference"]) if "reference" in value else None
    return check_references(value)


def _best(ctx: AssertionContext, refs: Any, score: Any, label: str) -> Outcome:
    if refs is None:
        raise ValueError("no reference: give a value or an expected answer")
    candidates = [as_text(r) for r in refs] if isinstance(refs, list) else [as_text(refs)]
    best = max(score(r) for r in candidates)
    threshold = ctx.threshold if ctx.threshold is not None else 0.0
    ok = best >= threshold
    return Outcome(best, ok, f"{label} {best:.3f} {'≥' if ok else '<'} {threshold:g}")


@assertion("levenshtein", value="expected", threshold=0.8, check=check_references)
def levenshtein(output: str, ctx: AssertionContext) -> Outcome:
    """Normalised Levenshtein similarity to the reference reaches the threshold (default 0.8)."""
    text = output.strip()
    return _best(ctx, ctx.value, lambda r: levenshtein_similarity(text, r.strip()), "similarity")


@assertion("rouge-n", value="expected", threshold=0.5, check=_rouge_n_value)
def rouge_n_assertion(output: str, ctx: AssertionContext) -> Outcome:
    """ROUGE-N F1 with the reference reaches the threshold (value: text or ``{n, reference}``)."""
    value, n = ctx.value, 1
    if isinstance(value, Mapping):
        n = int(value.get("n", 1))
        value = value.get("reference", ctx.case.expected)
    return _best(ctx, value, lambda r: rouge_n(output, r, n), f"ROUGE-{n}")


@assertion("rouge-l", value="expected", threshold=0.5, check=check_references)
def rouge_l_assertion(output: str, ctx: AssertionContext) -> Outcome:
    """ROUGE-L F1 (longest common subsequence) with the reference reaches the threshold."""
    return _best(ctx, ctx.value, lambda r: rouge_l(output, r), "ROUGE-L")


@assertion("bleu", value="expected", threshold=0.5, check=check_references)
def bleu_assertion(output: str, ctx: AssertionContext) -> Outcome:
    """Smoothed sentence BLEU against the reference reaches the threshold (default 0.5)."""
    return _best(ctx, ctx.value, lambda r: bleu(output, r), "BLEU")
