"""The checks that plan a run, on files alone: models known, assertions valid, prompts render.

:func:`~promptdeck.core.evals.plan.plan_suite` runs them on the stored prompt versions
it resolved; a new run's early start (:mod:`~promptdeck.core.evals.early_start`) runs
them on the prompt files before the store has opened. Light on purpose: no store.
"""

from __future__ import annotations

from collections.abc import Sequence

from promptdeck.config import WorkspaceConfig
from promptdeck.core.evals.suites import LoadedSuite, model_problems
from promptdeck.core.prompts.files import PromptFile
from promptdeck.core.prompts.templating import render_prompt
from promptdeck.core.scorers import ScoringOptions, check_cases, requires_judge
from promptdeck.errors import ConfigError, PromptdeckError

__all__ = ["check_suite"]


def check_suite(
    suite: LoadedSuite,
    prompts: Sequence[PromptFile],
    config: WorkspaceConfig,
    options: ScoringOptions,
) -> tuple[list[str], str | None]:
    """Check a suite whole before any call: its models, its assertions, its renders.

    One pass over the cases (read from their files as it goes, not held): their
    assertions checked, each prompt rendered for each, whether any needs a judge.

    Args:
        suite: The loaded suite.
        prompts: The prompts it runs.
        config: The workspace configuration.
        options: The scoring options (python assertions allowed, where state lives).

    Returns:
        The models to run (each once, the default model when the suite names none),
        and the judge model when an assertion needs one.

    Raises:
        ConfigError: The first problem (its count in the title when there are more).
    """
    unknown = model_problems(suite, config)
    if unknown:
        raise unknown[0]
    models = list(dict.fromkeys(suite.file.models)) or [config.default_model]
    problems: list[ConfigError] = []
    unrendered: list[list[ConfigError]] = [[] for _ in prompts]
    needs_judge = False
    for case in suite.cases:
        problems += check_cases((case,), options)
        needs_judge = needs_judge or any(requires_judge(spec) for spec in case.asserts)
        for prompt, failed in zip(prompts, unrendered, strict=True):
            try:
                render_prompt(prompt, case.vars, allow_extra=True, config=config)
            except PromptdeckError as error:
                failed.append(
                    ConfigError(f"{case.source}: {error.title}", error.hint or "fix the case")
                )
    problems += [problem for failed in unrendered for problem in failed]
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise ConfigError(f"{first.title}{more}", first.hint)
    judge = (suite.file.judge or config.judge_model) if needs_judge else None
    return models, judge
