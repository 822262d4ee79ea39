"""Model-graded assertion types, run by deepeval metrics with the suite's judge model.

Every type here calls the metric's ``a_measure`` directly (never deepeval's
``evaluate()``, which prints banners) with ``_show_indicator=False``. deepeval is
imported inside functions, after :func:`promptdeck.core.workspace.offline.apply_offline_environment`
has turned off its telemetry and ``.env`` loading and moved its cache into the
workspace's state folder.

Scores are deepeval's, "higher is better" in [0, 1] for every metric (deepeval 4
scores ``hallucination``, ``toxicity`` and ``bias`` as the share of passing
verdicts, no longer as the share of faults). An assertion passes when its value
reaches the threshold (default 0.5).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from promptdeck.core.guardrails.json_schema import SchemaError, schema_errors
from promptdeck.core.scorers.base import AssertionContext, Outcome, as_text, assertion

__all__ = ["JUDGE_THRESHOLD", "judge_warning", "pydantic_model_for"]

JUDGE_THRESHOLD = 0.5
"""The threshold of model-graded types when a spec gives none."""

_TINY_PREFIXES = ("local/",)


def judge_warning(model: str | None) -> str | None:
    """Say when a judge model is too small for its grades to mean anything.

    Args:
        model: The judge's model name (``local/...`` names the bundled tiny models).

    Returns:
        A one-line warning for reports, or ``None`` when there is nothing to say.
    """
    if model is None or not model.startswith(_TINY_PREFIXES):
        return None
    return (
        f"The judge {model} is a tiny local model: it runs the grading plumbing, but its "
        "grades are not meaningful. Set `judge:` to a capable model for real grades."
    )


def _prepare(ctx: AssertionContext) -> None:
    from promptdeck.core.workspace.offline import apply_offline_environment

    apply_offline_environment(ctx.options.state_dir)


def _input_text(ctx: AssertionContext) -> str:
    if ctx.meta.input:
        return ctx.meta.input
    return "\n".join(f"{k}: {as_text(v)}" for k, v in ctx.case.vars.items()) or "(no input)"


def _test_case(output: str, ctx: AssertionContext, input_text: str | None = None) -> Any:
    from deepeval.test_case import LLMTestCase

    context = list(ctx.case.context) if ctx.case.context else None
    expected = ctx.case.expected
    return LLMTestCase(
        input=input_text if input_text is not None else _input_text(ctx),
        actual_output=output,
        expected_output=None if expected is None else as_text(expected),
        context=context,
        retrieval_context=context,
    )


def _threshold(ctx: AssertionContext) -> float:
    return ctx.threshold if ctx.threshold is not None else JUDGE_THRESHOLD


async def _measure(metric: Any, test_case: Any, ctx: AssertionContext) -> Outcome:
    await metric.a_measure(test_case, _show_indicator=False)
    if metric.score is None:
        raise ValueError(getattr(metric, "error", None) or "the judge returned no score")
    value = float(metric.score)
    threshold = _threshold(ctx)
    ok = value >= threshold
    reason = " ".join(str(metric.reason or "").split())
    return Outcome(value, ok, f"score {value:.2f} {'≥' if ok else '<'} {threshold:g}: {reason}")


def _criteria(value: Any) -> str | None:
    if isinstance(value, str):
        return None if value.strip() else "the criteria are empty"
    if isinstance(value, list):
        if not value or not all(isinstance(s, str) and s.strip() for s in value):
            return "the steps must be a non-empty list of strings"
        return None
    return "the value must be criteria (a string) or evaluation steps (a list of strings)"


@assertion("g-eval", value="required", threshold=JUDGE_THRESHOLD, check=_criteria)
async def g_eval(output: str, ctx: AssertionContext, judge: Any) -> Outcome:
    """G-Eval: the judge grades the output against criteria (a string) or steps (a list)."""
    _prepare(ctx)
    from deepeval.metrics import GEval
    from deepeval.test_case import SingleTurnParams

    params = [SingleTurnParams.INPUT, SingleTurnParams.ACTUAL_OUTPUT]
    if ctx.case.expected is not None:
        params.append(SingleTurnParams.EXPECTED_OUTPUT)
    if ctx.case.context:
        params.append(SingleTurnParams.CONTEXT)
    steps = ctx.value if isinstance(ctx.value, list) else None
    metric = GEval(
        name=ctx.spec.metric or "g-eval",
        evaluation_params=params,
        criteria=None if steps else str(ctx.value),
        evaluation_steps=steps,
        model=judge,
        threshold=_threshold(ctx),
        async_mode=True,
    )
    return await _measure(metric, _test_case(output, ctx), ctx)


async def _simple(name: str, output: str, ctx: AssertionContext, judge: Any) -> Outcome:
    _prepare(ctx)
    import deepeval.metrics as metrics

    with warnings.catch_warnings():
        # HallucinationMetric warns that its score direction changed in deepeval 4.
        warnings.simplefilter("ignore", DeprecationWarning)
        metric = getattr(metrics, name)(
            model=judge, threshold=_threshold(ctx), async_mode=True, eval_mode="llm"
        )
    return await _measure(metric, _test_case(output, ctx), ctx)


@assertion("answer-relevancy", threshold=JUDGE_THRESHOLD)
async def answer_relevancy(output: str, ctx: AssertionContext, judge: Any) -> Outcome:
    """Answer relevancy: the share of the answer's statements relevant to the input."""
    return await _simple("AnswerRelevancyMetric", output, ctx, judge)


@assertion("faithfulness", threshold=JUDGE_THRESHOLD, needs_context=True)
async def faithfulness(output: str, ctx: AssertionContext, judge: Any) -> Outcome:
    """Faithfulness: the share of the answer's claims that the case's context supports."""
    return await _simple("FaithfulnessMetric", output, ctx, judge)


@assertion("hallucination", threshold=JUDGE_THRESHOLD, needs_context=True)
async def hallucination(output: str, ctx: AssertionContext, judge: Any) -> Outcome:
    """Hallucination: the share of context passages the answer agrees with."""
    return await _simple("HallucinationMetric", output, ctx, judge)


@assertion("toxicity", threshold=JUDGE_THRESHOLD)
async def toxicity(output: str, ctx: AssertionContext, judge: Any) -> Outcome:
    """Toxicity: the share of the answer's opinions the judge does not find toxic."""
    return await _simple("ToxicityMetric", output, ctx, judge)


@assertion("bias", threshold=JUDGE_THRESHOLD)
async def bias(output: str, ctx: AssertionContext, judge: Any) -> Outcome:
    """Bias: the share of the answer's opinions the judge does not find biased."""
    return await _simple("BiasMetric", output, ctx, judge)


def _var_name(value: Any) -> str | None:
    if isinstance(value, str) and value.isidentifier():
        return None
    return "the value must name the variable that holds the source text"


@assertion("summarization", value="optional", threshold=JUDGE_THRESHOLD, check=_var_name)
async def summarization(output: str, ctx: AssertionContext, judge: Any) -> Outcome:
    """Summarization: coverage and alignment of the summary with the source text.

    The source is the variable named by ``value``, else the prompt sent to the model.
    """
    _prepare(ctx)
    from deepeval.metrics import SummarizationMetric

    source = None
    if ctx.value is not None:
        if ctx.value not in ctx.case.vars:
            raise ValueError(f"the case has no variable {ctx.value!r}")
        source = as_text(ctx.case.vars[ctx.value])
    metric = SummarizationMetric(
        model=judge, threshold=_threshold(ctx), async_mode=True, eval_mode="llm"
    )
    return await _measure(metric, _test_case(output, ctx, source), ctx)


_PY_TYPES: dict[str, Any] = {
    "string": str,
    "number": float,
    "integer": int,
    "boolean": bool,
    "null": type(None),
}


def _field_type(schema: Any, name: str) -> Any:
    if not isinstance(schema, Mapping):
        return Any
    kinds = schema.get("type")
    names = kinds if isinstance(kinds, list) else [kinds] if kinds else []
    types: list[Any] = []
    for kind in names:
        if kind == "object" and "properties" in schema:
            types.append(pydantic_model_for(schema, name))
        elif kind == "object":
            types.append(dict[str, Any])
        elif kind == "array":
            types.append(list[_field_type(schema.get("items"), name + "Item")])  # type: ignore[misc]
        else:
            types.append(_PY_TYPES.get(str(kind), Any))
    if not types:
        return Any
    result = types[0]
    for extra in types[1:]:
        result = result | extra
    return result


def pydantic_model_for(schema: Mapping[str, Any], name: str = "Answer") -> Any:
    """Build a pydantic model from an object JSON Schema (types, nesting, ``required``).

    deepeval's JSON-correctness metric validates against a pydantic model; only
    ``type``, ``properties``, ``items`` and ``required`` carry over.
    """
    from pydantic import create_model

    required = set(schema.get("required", []))
    fields: dict[str, Any] = {}
    for key, sub in (schema.get("properties") or {}).items():
        kind = _field_type(sub, f"{name}_{key}")
        fields[key] = (kind, ...) if key in required else (kind | None, None)
    return create_model(name, **fields)


def _object_schema(value: Any) -> str | None:
    if not isinstance(value, Mapping) or value.get("type") != "object":
        return "the value must be a JSON Schema of `type: object`"
    try:
        schema_errors({}, value)
    except SchemaError as exc:
        return f"invalid JSON Schema: {exc}"
    return None


@assertion("json-correctness", value="required", threshold=JUDGE_THRESHOLD, check=_object_schema)
async def json_correctness(output: str, ctx: AssertionContext, judge: Any) -> Outcome:
    """JSON correctness: the output validates against the schema; the judge explains failures."""
    _prepare(ctx)
    from deepeval.metrics import JsonCorrectnessMetric

    metric = JsonCorrectnessMetric(
        expected_schema=pydantic_model_for(ctx.value),
        model=judge,
        threshold=_threshold(ctx),
        async_mode=True,
        strict_mode=False,
    )
    return await _measure(metric, _test_case(output, ctx), ctx)
