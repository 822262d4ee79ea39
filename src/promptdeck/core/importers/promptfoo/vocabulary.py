"""promptfoo's assertion vocabulary: what each type is called there, and why some are not carried.

The list is promptfoo's own (``BaseAssertionTypesSchema`` and its special types in
``src/types/index.ts``); a type outside it is refused by promptfoo too, which the
report says rather than blaming promptdeck.
"""

from __future__ import annotations

__all__ = ["PROMPTFOO_TYPES", "RENAMED", "unsupported_reason"]

PROMPTFOO_TYPES = frozenset(
    {
        "answer-relevance", "bleu", "classifier", "contains", "contains-all", "contains-any",
        "contains-html", "contains-json", "contains-sql", "contains-xml",
        "context-faithfulness", "context-recall", "context-relevance",
        "conversation-relevance", "cost", "equals", "factuality", "finish-reason", "g-eval",
        "gleu", "guardrails", "icontains", "icontains-all", "icontains-any", "is-html",
        "is-json", "is-refusal", "is-sql", "is-valid-function-call",
        "is-valid-openai-function-call", "is-valid-openai-tools-call", "is-xml", "javascript",
        "latency", "levenshtein", "llm-rubric", "pi", "meteor", "model-graded-closedqa",
        "model-graded-factuality", "moderation", "perplexity", "perplexity-score", "python",
        "regex", "rouge-n", "ruby", "similar", "starts-with", "trace-error-spans",
        "trace-span-count", "trace-span-duration", "webhook", "word-count", "select-best",
        "human", "max-score", "assert-set",
    }
)  # fmt: skip
"""Every assertion type promptfoo accepts (without ``not-``)."""

RENAMED = {"model-graded-factuality": "factuality"}
"""promptfoo's aliases → the name promptdeck knows the same check by."""

_WHY = {
    "conversation-relevance": "no promptdeck assertion grades a whole conversation's relevance",
    "trace-span-count": "promptfoo's OpenTelemetry span checks have no promptdeck counterpart",
    "trace-span-duration": "promptfoo's OpenTelemetry span checks have no promptdeck counterpart",
    "trace-error-spans": "promptfoo's OpenTelemetry span checks have no promptdeck counterpart",
    "guardrails": "it reads a provider's own guardrail verdict, which promptdeck does not get",
    "gleu": "no GLEU score in promptdeck (bleu and rouge-n are there)",
    "meteor": "no METEOR score in promptdeck (bleu and rouge-n are there)",
    "human": "a grade given by hand in promptfoo's web viewer",
}


def unsupported_reason(base: str) -> str:
    """Why an assertion type (without ``not-``) that promptdeck lacks is not carried."""
    if base in _WHY:
        return _WHY[base]
    if base not in PROMPTFOO_TYPES:
        return f"`{base}` is not a promptfoo assertion type either (promptfoo refuses it)"
    return f"no promptdeck assertion type `{base}`"
