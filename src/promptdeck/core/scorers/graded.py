"""promptfoo's model-graded types: ``llm-rubric``, ``model-graded-closedqa``, ``factuality``.

The suite's judge (the same gateway judge that runs the deepeval metrics) is asked
a grading question in plain text; its answer is parsed as promptfoo parses it:

- ``llm-rubric``: a JSON object ``{reason, pass, score}``. It passes when the judge
  says ``pass`` (``true`` when left out) and, with a ``threshold``, when ``score``
  reaches it; ``score`` defaults to 1 for a pass and 0 for a fail.
- ``model-graded-closedqa``: reasoning, then ``Y`` or ``N`` on the last line; ``Y``
  passes (score 1).
- ``factuality``: the OpenAI evals categories A-E of the answer against a reference;
  every category but D (a disagreement) passes, with score 1 (D scores 0).

An answer outside that shape is this assertion's error (a failed, ungraded score).
"""

from __future__ import annotations

import json
import re
from typing import Any

from promptdeck.core.scorers.base import AssertionContext, Outcome, as_text, assertion

__all__ = ["ask_judge", "input_text", "json_object"]


def input_text(ctx: AssertionContext) -> str:
    """The question the answer replies to: the prompt sent, else the case's variables."""
    if ctx.meta.input:
        return ctx.meta.input
    return "\n".join(f"{k}: {as_text(v)}" for k, v in ctx.case.vars.items()) or "(no input)"


async def ask_judge(judge: Any, prompt: str) -> str:
    """Ask the judge one question in plain text and return its answer."""
    answer = await judge.a_generate(prompt)
    if not isinstance(answer, str) or not answer.strip():
        raise ValueError("the judge gave an empty answer")
    return answer


def json_object(text: str) -> dict[str, Any]:
    """The first JSON object in a judge's answer (fenced or bare).

    Raises:
        ValueError: When there is none.
    """
    from promptdeck.safeload.answers import (
        JSONLimitError,
        check_answer_json,
        decode_answer_json,
    )

    try:
        check_answer_json(text)
    except JSONLimitError as exc:
        raise ValueError(f"the judge's answer is refused: {exc}") from exc
    decoder = json.JSONDecoder()
    position = text.find("{")
    while position != -1:
        try:
            data, _ = decode_answer_json(decoder, text, position)
        except JSONLimitError as exc:
            raise ValueError(f"the judge's answer is refused: {exc}") from exc
        except ValueError:
            position = text.find("{", position + 1)
            continue
        if isinstance(data, dict):
            return data
        position = text.find("{", position + 1)
    raise ValueError(f"the judge did not answer with a JSON object: {text[:80]!r}")


def _text_value(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return None
    if isinstance(value, dict | list) and value:
        return None
    return "the value must be the criteria (a non-empty string)"


_RUBRIC = """You grade an output against a rubric. If the rubric's statement is true of \
the output, the output passes.
Reply with one JSON object and nothing else: \
{{"reason": "<one sentence>", "pass": true or false, "score": <0.0 to 1.0>}}

<Output>
{output}
</Output>
<Rubric>
{rubric}
</Rubric>"""


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "pass", "1")
    return bool(value)


@assertion("llm-rubric", value="required", threshold=0.0, check=_text_value)
async def llm_rubric(output: str, ctx: AssertionContext, judge: Any) -> Outcome:
    """The judge finds the rubric true of the output (and its score reaches any threshold)."""
    answer = await ask_judge(judge, _RUBRIC.format(output=output, rubric=as_text(ctx.value)))
    data = json_object(answer)
    said_pass = _truthy(data["pass"]) if "pass" in data else True
    raw = data.get("score")
    try:
        score = float(raw) if raw is not None else (1.0 if said_pass else 0.0)
    except (TypeError, ValueError):
        score = 1.0 if said_pass else 0.0
    threshold = ctx.threshold or 0.0
    ok = said_pass and score >= threshold
    why = " ".join(str(data.get("reason", "")).split())
    rule = f"; score {score:.2f} {'≥' if score >= threshold else '<'} {threshold:g}"
    return Outcome(
        score, ok, f"{'pass' if said_pass else 'fail'}{rule if threshold else ''}: {why}"
    )


_CLOSEDQA = """You assess a submitted answer on a task against a criterion.
[Task]: {input}
[Submission]: {output}
[Criterion]: {criteria}
Does the submission meet the criterion? Reason step by step, then write only the \
single letter Y or N on the last line."""


@assertion("model-graded-closedqa", value="required", check=_text_value)
async def model_graded_closedqa(output: str, ctx: AssertionContext, judge: Any) -> Outcome:
    """The judge answers Y: the output meets the criterion (OpenAI evals' closed QA)."""
    prompt = _CLOSEDQA.format(input=input_text(ctx), output=output, criteria=as_text(ctx.value))
    answer = await ask_judge(judge, prompt)
    lines = [line.strip().strip(".*").upper() for line in answer.strip().splitlines()]
    verdict = next((line for line in reversed(lines) if line in ("Y", "N")), None)
    if verdict is None:
        raise ValueError(f"the judge did not end with Y or N: {answer[-80:]!r}")
    ok = verdict == "Y"
    return Outcome.check(
        ok, f"the judge says {verdict}: the criterion is {'' if ok else 'not '}met"
    )


_FACTUALITY = """You compare the factual content of a submitted answer with an expert answer \
to the same question, ignoring style, grammar and punctuation.
[Question]: {input}
[Expert]: {reference}
[Submission]: {output}
Choose one option:
(A) The submission is a subset of the expert answer and fully consistent with it.
(B) The submission is a superset of the expert answer and fully consistent with it.
(C) The submission contains all the same details as the expert answer.
(D) The submission and the expert answer disagree.
(E) They differ, but the differences do not matter for factuality.
Reply with one JSON object: {{"category": "<A-E>", "reason": "<one sentence>"}}"""

_CATEGORIES = {
    "A": "a consistent subset of the reference",
    "B": "a consistent superset of the reference",
    "C": "equivalent to the reference",
    "D": "in disagreement with the reference",
    "E": "different from the reference in ways that do not matter",
}


def _category(answer: str) -> tuple[str, str]:
    try:
        data = json_object(answer)
        found = str(data.get("category", "")).strip().strip("()").upper()[:1]
        reason = " ".join(str(data.get("reason", "")).split())
    except ValueError:
        match = re.search(r"\(([A-E])\)|\b([A-E])\b\s*$", answer.strip())
        found = (match.group(1) or match.group(2)) if match else ""
        reason = ""
    if found not in _CATEGORIES:
        raise ValueError(f"the judge chose no category A-E: {answer[:80]!r}")
    return found, reason


@assertion("factuality", value="expected", check=_text_value)
async def factuality(output: str, ctx: AssertionContext, judge: Any) -> Outcome:
    """The output agrees with the reference facts (OpenAI evals' categories; D fails)."""
    prompt = _FACTUALITY.format(input=input_text(ctx), reference=as_text(ctx.value), output=output)
    category, reason = _category(await ask_judge(judge, prompt))
    ok = category != "D"
    return Outcome.check(
        ok, f"({category}) {_CATEGORIES[category]}" + (f": {reason}" if reason else "")
    )
