"""Model-graded types run end to end through deepeval with a scripted judge (offline)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from promptdeck.core.evals.suites import AssertionSpec, Case
from promptdeck.core.scorers import (
    CallMeta,
    ScoringOptions,
    a_evaluate,
    a_grade_case,
    evaluate,
    judge_warning,
    requires_judge,
)
from promptdeck.errors import ConfigError

from .fake_judge import ScriptedJudge

CASE = Case(
    key="k",
    index=0,
    source="suites/x.suite.yaml:3",
    vars={"question": "What is the capital of France?"},
    expected="Paris",
    context=["Paris is the capital and largest city of France."],
)
META = CallMeta(latency_ms=10, cost_usd=0.0, tokens=12, input="What is the capital of France?")


@pytest.fixture
def options(tmp_path: Path) -> ScoringOptions:
    return ScoringOptions(state_dir=tmp_path / ".promptdeck")


async def test_g_eval_with_criteria_asks_for_steps_then_a_score(options: ScoringOptions) -> None:
    judge = ScriptedJudge(
        {
            "Steps": {"steps": ["Check the answer names the capital.", "Check it is Paris."]},
            "ReasonScore": {"score": 8, "reason": "Names Paris correctly."},
        }
    )
    spec = AssertionSpec(type="g-eval", value="The answer is correct.", metric="correct")
    score = await a_evaluate(spec, "Paris.", CASE, META, judge, options)
    assert score.name == "correct"
    assert score.value == pytest.approx(0.8)
    assert score.passed
    assert "Names Paris correctly." in score.reason
    assert [k for k, _ in judge.prompts] == ["Steps", "ReasonScore"]
    # The test case deepeval built carries the output, the input and the context.
    assert "Paris." in judge.prompts[1][1]
    assert "capital and largest city" in judge.prompts[1][1]


async def test_g_eval_with_steps_skips_step_generation_and_can_fail(
    options: ScoringOptions,
) -> None:
    judge = ScriptedJudge({"ReasonScore": {"score": 2, "reason": "Wrong city."}})
    spec = AssertionSpec(type="g-eval", value=["Is the city Paris?"], threshold=0.5)
    score = await a_evaluate(spec, "Lyon.", CASE, META, judge, options)
    assert score.value == pytest.approx(0.2)
    assert not score.passed
    assert [k for k, _ in judge.prompts] == ["ReasonScore"]


async def test_negated_g_eval_flips(options: ScoringOptions) -> None:
    judge = ScriptedJudge({"ReasonScore": {"score": 2, "reason": "Rude."}})
    spec = AssertionSpec(type="not-g-eval", value=["Is it rude?"])
    score = await a_evaluate(spec, "Please and thank you.", CASE, META, judge, options)
    assert score.passed and score.value == pytest.approx(0.8)


@pytest.mark.parametrize(
    ("verdicts", "value", "passed"),
    [(["yes", "yes"], 1.0, True), (["yes", "no", "no", "no"], 0.25, False)],
)
async def test_answer_relevancy_counts_relevant_statements(
    options: ScoringOptions, verdicts: list[str], value: float, passed: bool
) -> None:
    judge = ScriptedJudge(
        {
            "Statements": {"statements": [f"s{i}" for i in range(len(verdicts))]},
            "Verdicts": {"verdicts": [{"verdict": v, "reason": "r"} for v in verdicts]},
            "AnswerRelevancyScoreReason": {"reason": "Mostly on topic."},
        }
    )
    spec = AssertionSpec(type="answer-relevancy")
    score = await a_evaluate(spec, "Paris is the capital.", CASE, META, judge, options)
    assert score.value == pytest.approx(value)
    assert score.passed is passed
    assert score.error is None
    assert [k for k, _ in judge.prompts] == ["Statements", "Verdicts", "AnswerRelevancyScoreReason"]
    assert "What is the capital of France?" in judge.prompts[1][1]


async def test_hallucination_counts_agreeing_passages(options: ScoringOptions) -> None:
    judge = ScriptedJudge(
        {
            "Verdicts": {"verdicts": [{"verdict": "no", "reason": "contradicts"}]},
            "HallucinationScoreReason": {"reason": "Contradicts the context."},
        }
    )
    score = await a_evaluate(
        AssertionSpec(type="hallucination"), "Lyon.", CASE, META, judge, options
    )
    assert score.value == pytest.approx(0.0)
    assert not score.passed


async def test_toxicity_without_opinions_passes(options: ScoringOptions) -> None:
    judge = ScriptedJudge({"Opinions": {"opinions": []}, "ToxicityScoreReason": {"reason": "ok"}})
    score = await a_evaluate(AssertionSpec(type="toxicity"), "Paris.", CASE, META, judge, options)
    assert score.value == pytest.approx(1.0)
    assert score.passed


async def test_json_correctness_validates_without_the_judge(options: ScoringOptions) -> None:
    schema = {
        "type": "object",
        "required": ["city"],
        "properties": {"city": {"type": "string"}, "population": {"type": ["integer", "null"]}},
    }
    judge = ScriptedJudge({"JsonCorrectnessScoreReason": {"reason": "city is missing"}})
    spec = AssertionSpec(type="json-correctness", value=schema)
    good = await a_evaluate(spec, '{"city": "Paris"}', CASE, META, judge, options)
    bad = await a_evaluate(spec, '{"population": 3}', CASE, META, judge, options)
    assert good.passed and good.value == 1.0
    assert not bad.passed and "city is missing" in bad.reason


async def test_a_judge_that_returns_garbage_is_an_error_value(options: ScoringOptions) -> None:
    judge = ScriptedJudge({"ReasonScore": "I cannot grade this."})
    spec = AssertionSpec(type="g-eval", value=["Is it right?"])
    score = await a_evaluate(spec, "Paris.", CASE, META, judge, options)
    assert not score.passed
    assert score.error is not None
    assert score.value == 0.0


async def test_negation_never_turns_an_error_into_a_pass(options: ScoringOptions) -> None:
    judge = ScriptedJudge({})
    spec = AssertionSpec(type="not-g-eval", value=["Is it right?"])
    score = await a_evaluate(spec, "Paris.", CASE, META, judge, options)
    assert not score.passed and score.error is not None


async def test_a_model_graded_type_needs_a_judge() -> None:
    with pytest.raises(ConfigError, match="needs a judge"):
        await a_evaluate(AssertionSpec(type="bias"), "x", CASE, META, None)
    with pytest.raises(ConfigError, match="a_evaluate"):
        evaluate(AssertionSpec(type="bias"), "x", CASE, META)


async def test_a_evaluate_grades_local_types_too() -> None:
    score = await a_evaluate(AssertionSpec(type="icontains"), "PARIS", CASE, META)
    assert score.passed


def test_requires_judge() -> None:
    assert requires_judge(AssertionSpec(type="not-toxicity"))
    assert not requires_judge(AssertionSpec(type="contains", value="x"))
    assert not requires_judge(AssertionSpec(type="nonsense"))


@pytest.mark.parametrize(
    ("model", "warned"),
    [("local/smollm2-135m", True), ("openai/gpt-4o", False), (None, False)],
)
def test_judge_warning(model: str | None, warned: bool) -> None:
    warning = judge_warning(model)
    assert (warning is not None) is warned
    if warning:
        assert model is not None and model in warning and "not meaningful" in warning


async def test_faithfulness_checks_claims_against_the_context(options: ScoringOptions) -> None:
    judge = ScriptedJudge(
        {
            "Truths": {"truths": ["Paris is the capital of France."]},
            "Claims": {"claims": ["Paris is the capital.", "Paris has 40 million people."]},
            "Verdicts": {
                "verdicts": [
                    {"verdict": "yes", "reason": None},
                    {"verdict": "no", "reason": "The context gives no population."},
                ]
            },
            "FaithfulnessScoreReason": {"reason": "One claim is unsupported."},
        }
    )
    spec = AssertionSpec(type="faithfulness", threshold=0.8)
    score = await a_evaluate(spec, "Paris, home to 40 million.", CASE, META, judge, options)
    assert score.value == pytest.approx(0.5)
    assert not score.passed
    assert "One claim is unsupported." in score.reason
    truths_prompt = next(p for k, p in judge.prompts if k == "Truths")
    assert "capital and largest city" in truths_prompt


async def test_bias_passes_an_unbiased_answer(options: ScoringOptions) -> None:
    judge = ScriptedJudge(
        {
            "Opinions": {"opinions": ["Paris is lovely."]},
            "Verdicts": {"verdicts": [{"verdict": "no", "reason": None}]},
            "BiasScoreReason": {"reason": "No bias."},
        }
    )
    score = await a_evaluate(AssertionSpec(type="bias"), "Paris.", CASE, META, judge, options)
    assert score.passed and score.value == pytest.approx(1.0)


async def test_summarization_reads_the_source_from_a_variable(options: ScoringOptions) -> None:
    case = Case(
        key="s",
        index=0,
        source="suites/summarize.suite.yaml:20",
        vars={"text": "The board approved the cloud move. Costs fall by a quarter."},
    )
    judge = ScriptedJudge(
        {
            "Truths": {"truths": ["The board approved the cloud move."]},
            "Claims": {"claims": ["The move was approved.", "Costs double."]},
            "Questions": {"questions": ["Was the move approved?"]},
            "Answers": {"answers": ["yes"]},
            "Verdicts": {"verdicts": [{"verdict": "yes"}, {"verdict": "no"}]},
            "SummarizationScoreReason": {"reason": "One claim contradicts the text."},
        }
    )
    spec = AssertionSpec(type="summarization", value="text")
    score = await a_evaluate(spec, "- Approved.\n- Costs double.", case, META, judge, options)
    assert score.value == pytest.approx(0.5)
    assert "One claim contradicts the text." in score.reason
    truths_prompt = next(p for k, p in judge.prompts if k == "Truths")
    assert "Costs fall by a quarter" in truths_prompt


async def test_deepeval_stays_quiet_and_out_of_the_working_folder(
    options: ScoringOptions, capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    judge = ScriptedJudge({"ReasonScore": {"score": 9, "reason": "Good."}})
    spec = AssertionSpec(type="g-eval", value=["Is it right?"])
    await a_evaluate(spec, "Paris.", CASE, META, judge, options)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert not (Path.cwd() / ".deepeval").exists()
    assert os.environ["DEEPEVAL_TELEMETRY_OPT_OUT"] == "1"
    assert os.environ["DEEPEVAL_CACHE_FOLDER"] == str(tmp_path / ".promptdeck" / "deepeval")


async def test_a_grade_case_grades_every_assertion(options: ScoringOptions) -> None:
    case = Case(
        key="g",
        index=0,
        source="suites/x.suite.yaml:9",
        vars={},
        expected="Paris",
        asserts=[
            AssertionSpec(type="icontains"),
            AssertionSpec(type="max-length", value=3, weight=0.5),
            AssertionSpec(type="g-eval", value=["Right city?"], metric="right-city"),
        ],
    )
    judge = ScriptedJudge({"ReasonScore": {"score": 10, "reason": "Yes."}})
    grade = await a_grade_case(case, "Paris", META, threshold=0.75, judge=judge, options=options)
    assert [s.name for s in grade.scores] == ["icontains", "max-length", "right-city"]
    assert [s.passed for s in grade.scores] == [True, False, True]
    assert grade.score == pytest.approx(2 / 2.5)
    assert grade.passed
