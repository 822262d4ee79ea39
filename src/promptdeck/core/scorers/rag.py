"""promptfoo's retrieval metrics: ``answer-relevance`` and ``context-*`` (RAGAS-style).

Each asks the suite's judge and scores a share in [0, 1]; it passes when the share
reaches the threshold, which is 0 unless given (as in promptfoo):

- ``answer-relevance``: the judge writes three questions the answer would reply to;
  the score is their mean embedding cosine (local MiniLM) to the question asked
  (the ``query`` variable, else the prompt sent);
- ``context-recall``: the share of the reference's (``value``) sentences that the
  context supports;
- ``context-relevance``: the share of the context's sentences needed to answer the
  question;
- ``context-faithfulness``: the share of the answer's statements the context supports.

The context is the case's ``context``, else its ``context`` variable, else the prompt.
"""

from __future__ import annotations

import re
from typing import Any

from promptdeck.core.scorers.base import AssertionContext, Outcome, as_text, assertion
from promptdeck.core.scorers.graded import ask_judge, input_text, json_object

__all__ = ["context_text", "query_text", "sentences"]

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def sentences(text: str) -> list[str]:
    """Split a text into its sentences (and lines)."""
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def context_text(ctx: AssertionContext) -> str:
    """The context passages: the case's ``context``, its ``context`` variable, or the prompt."""
    if ctx.case.context:
        return "\n".join(ctx.case.context)
    value = ctx.case.vars.get("context")
    if value is not None:
        return "\n".join(as_text(v) for v in value) if isinstance(value, list) else as_text(value)
    return input_text(ctx)


def query_text(ctx: AssertionContext) -> str:
    """The question: the ``query`` variable when it is text, else the prompt sent."""
    query = ctx.case.vars.get("query")
    return query if isinstance(query, str) else input_text(ctx)


def _verdicts(answer: str, count: int) -> list[bool]:
    data = json_object(answer)
    verdicts = data.get("verdicts")
    if not isinstance(verdicts, list) or len(verdicts) != count:
        raise ValueError(f"the judge gave no list of {count} verdicts")
    return [str(v).strip().lower() in ("yes", "true", "1") for v in verdicts]


def _share(ctx: AssertionContext, hits: int, total: int, what: str) -> Outcome:
    score = hits / total if total else 0.0
    threshold = ctx.threshold or 0.0
    ok = score >= threshold
    rule = f"{'≥' if ok else '<'} {threshold:g}"
    return Outcome(score, ok, f"{hits}/{total} {what} (score {score:.2f} {rule})")


_CHECK = """Context:
{context}

For each numbered statement, say whether the context above supports it.
{items}
Reply with one JSON object: {{"verdicts": ["yes" or "no", ...]}} (one per statement, in order)."""


async def _supported(judge: Any, context: str, items: list[str]) -> list[bool]:
    numbered = "\n".join(f"{i}. {s}" for i, s in enumerate(items, start=1))
    answer = await ask_judge(judge, _CHECK.format(context=context, items=numbered))
    return _verdicts(answer, len(items))


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "the value must be a string"


@assertion("context-recall", value="expected", threshold=0.0, check=_text)
async def context_recall(output: str, ctx: AssertionContext, judge: Any) -> Outcome:
    """The context supports the reference's sentences (the share that it does)."""
    items = sentences(as_text(ctx.value))
    verdicts = await _supported(judge, context_text(ctx), items)
    return _share(ctx, sum(verdicts), len(items), "reference sentences found in the context")


@assertion("context-faithfulness", threshold=0.0)
async def context_faithfulness(output: str, ctx: AssertionContext, judge: Any) -> Outcome:
    """The context supports the answer's statements (the share that it does)."""
    items = sentences(output)
    if not items:
        return Outcome.check(False, "the answer has no statements")
    verdicts = await _supported(judge, context_text(ctx), items)
    return _share(ctx, sum(verdicts), len(items), "answer statements supported by the context")


_RELEVANT = """Question: {query}

For each numbered sentence of the context, say whether it is needed to answer the question.
{items}
Reply with one JSON object: {{"verdicts": ["yes" or "no", ...]}} (one per sentence, in order)."""


@assertion("context-relevance", threshold=0.0)
async def context_relevance(output: str, ctx: AssertionContext, judge: Any) -> Outcome:
    """The context's sentences are needed for the question (the share that are)."""
    items = sentences(context_text(ctx))
    if not items:
        return Outcome.check(False, "the context is empty")
    numbered = "\n".join(f"{i}. {s}" for i, s in enumerate(items, start=1))
    answer = await ask_judge(judge, _RELEVANT.format(query=query_text(ctx), items=numbered))
    verdicts = _verdicts(answer, len(items))
    return _share(ctx, sum(verdicts), len(items), "context sentences relevant to the question")


_QUESTIONS = """Write three different questions that this answer replies to.
Answer: {output}
Reply with one JSON object: {{"questions": ["...", "...", "..."]}}"""


@assertion("answer-relevance", threshold=0.0)
async def answer_relevance(output: str, ctx: AssertionContext, judge: Any) -> Outcome:
    """Questions the answer replies to are close to the question asked (mean cosine)."""
    data = json_object(await ask_judge(judge, _QUESTIONS.format(output=output)))
    questions = [str(q) for q in data.get("questions", []) if str(q).strip()]
    if not questions:
        raise ValueError("the judge wrote no questions")
    embedder = ctx.options.embedder
    if embedder is None:
        from promptdeck.core.providers.embeddings import get_embedder

        embedder = get_embedder()
    from promptdeck.core.scorers.semantic import cosine_similarities

    similarity = cosine_similarities(embedder, query_text(ctx), questions)
    score = max(0.0, sum(similarity) / len(similarity))
    threshold = ctx.threshold or 0.0
    ok = score >= threshold
    return Outcome(score, ok, f"relevance {score:.2f} {'≥' if ok else '<'} {threshold:g}")
