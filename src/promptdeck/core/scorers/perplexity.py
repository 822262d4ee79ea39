"""``perplexity`` and ``perplexity-score``: how sure the model was of its own answer.

Both read the answer's token log-probabilities, which a call asks for only when its
case has one of these assertions (:func:`needs_logprobs`; see
:mod:`promptdeck.core.providers.logprobs`). With promptfoo's semantics:

- ``perplexity`` is ``exp(-mean token logprob)`` (1 when every token was certain).
  Its ``value`` is the highest perplexity that passes; without one it always passes.
  Binary: value 1 and passed, or 0 and failed.
- ``perplexity-score`` is ``1 / (1 + perplexity)``, in (0, 0.5] (higher is better),
  and is the score itself; it passes when it reaches ``threshold`` (default 0: always).

When the provider gave no logprobs (Anthropic, Bedrock, Ollama… do not), the
assertion is not graded: it fails, negated or not, with a one-line reason naming the
model, as promptfoo fails such a test with an error. An empty answer has no tokens
to average over, and is not graded either.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from promptdeck.core.evals.suites import AssertionSpec
from promptdeck.core.providers.logprobs import Logprobs
from promptdeck.core.scorers.base import AssertionContext, Outcome, Ungradable, assertion

__all__ = ["LOGPROB_TYPES", "needs_logprobs", "perplexity_score"]

LOGPROB_TYPES = frozenset({"perplexity", "perplexity-score"})
"""The assertion types that need the answer's token logprobs."""


def needs_logprobs(specs: Iterable[AssertionSpec]) -> bool:
    """True when any of these assertions (an ``assert-set``'s members included) needs logprobs."""
    for spec in specs:
        if spec.base_type in LOGPROB_TYPES:
            return True
        if spec.asserts and needs_logprobs(spec.asserts):
            return True
    return False


def _logprobs(ctx: AssertionContext, kind: str) -> Logprobs:
    found = ctx.meta.logprobs
    if found is None:
        model = ctx.meta.model or "the model"
        raise Ungradable(
            f"{model} gave no token logprobs, which {kind} needs "
            "(not every provider returns them: OpenAI and local models do, Anthropic does not)"
        )
    if found.count == 0:
        raise Ungradable(f"the answer has no tokens to compute {kind} from")
    return found


def _limit(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "the value must be a number: the highest perplexity that passes (e.g. 1.5)"
    if not math.isfinite(value) or value <= 0:
        return f"the value must be a positive number (perplexity is at least 1), not {value}"
    return None


@assertion("perplexity", value="optional", check=_limit)
def perplexity(output: str, ctx: AssertionContext) -> Outcome:
    """The answer's perplexity, exp(-mean token logprob), is at most the value."""
    found = _logprobs(ctx, "perplexity")
    ppl = found.perplexity
    shown = f"perplexity {ppl:.3f} over {found.count} tokens"
    if ctx.value is None:
        return Outcome.check(True, f"{shown} (no limit set)")
    limit = float(ctx.value)
    ok = ppl <= limit
    return Outcome.check(ok, f"{shown} {'≤' if ok else '>'} {limit:g}")


def perplexity_score(found: Logprobs) -> float:
    """The normalised perplexity of promptfoo: ``1 / (1 + perplexity)``, higher is better."""
    return 1.0 / (1.0 + found.perplexity)


@assertion("perplexity-score", threshold=0.0)
def perplexity_score_assertion(output: str, ctx: AssertionContext) -> Outcome:
    """1 / (1 + perplexity), at most 0.5; passes when it reaches the threshold."""
    found = _logprobs(ctx, "perplexity-score")
    score = perplexity_score(found)
    threshold = ctx.threshold or 0.0
    ok = score >= threshold
    reason = f"perplexity-score {score:.3f} (perplexity {found.perplexity:.3f})"
    if threshold:
        reason += f" {'≥' if ok else '<'} {threshold:g}"
    return Outcome(score, ok, reason)
