"""Checks ``promptdeck eval`` makes before its first call: near-duplicate cases."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from promptdeck.cli.output import echo_warning

if TYPE_CHECKING:
    from promptdeck.core.evals.plan import SuitePlan
    from promptdeck.core.providers.router import ModelRouter
    from promptdeck.core.workspace.workspace import Workspace

__all__ = ["warn_concurrency_cap", "warn_duplicates"]


def warn_concurrency_cap(
    router: ModelRouter, plans: Sequence[SuitePlan], asked: int | None
) -> None:
    """Warn when a run's concurrency is more than ``[concurrency]`` lets its models take.

    ``--concurrency 32`` against one model whose calls are capped at 8 runs 8 at once;
    the user should know the cap and where it is set, not find a run four times slower.
    """
    for plan in plans:
        wanted = asked or plan.suite.file.concurrency
        if not wanted:
            continue
        limits: dict[str, int] = {}
        for name in plan.models:
            if name in router.config.ensembles:
                continue  # an ensemble's members are called under their own caps
            model, size = router.call_limit(name)
            limits[model] = size
        most = sum(limits.values())
        if limits and wanted > most:
            echo_warning(
                f"suite {plan.suite.name}: concurrency {wanted}, but at most {most} calls run "
                "at once: [concurrency] in promptdeck.toml caps each model "
                f"(default = {router.config.concurrency.default}); raise `default` or "
                "`per_model` there"
            )


def warn_duplicates(workspace: Workspace, names: Sequence[str]) -> None:
    """Warn (stderr) about cases of the suites ``names`` that near-duplicate another case.

    Every suite of the workspace is compared (a duplicate in another suite leaks
    between tuning and test sets); suites that do not load are left to `prompts lint`.
    Only cases `prompts lint` has embedded are compared: embedding is the slow part
    (a model load and ~tens of ms a case), and a run's first call must not wait for
    it. Cases not embedded yet are counted in one note.
    """
    threshold = workspace.config.evals.duplicate_threshold
    if threshold is None or not names:
        return
    from promptdeck.core.similar.service import case_vectors_file

    if not case_vectors_file(workspace.paths).is_file():
        echo_warning(
            "near-duplicate check: no case embedded yet; `promptdeck prompts lint` checks them"
        )
        return
    from promptdeck.core.evals.suites import load_suite, suite_files
    from promptdeck.core.similar.duplicates import near_duplicates
    from promptdeck.core.similar.service import case_embedder
    from promptdeck.errors import PromptdeckError

    suites = []
    for path in suite_files(workspace.paths):
        try:
            suites.append(load_suite(path, workspace.paths))
        except PromptdeckError:
            continue
    wanted = set(names)
    embed = case_embedder(workspace.paths, known_only=True)
    try:
        pairs = [
            pair
            for pair in near_duplicates(suites, embed, threshold)
            if pair.first_suite in wanted or pair.second_suite in wanted
        ]
    except PromptdeckError as error:  # the embedder is not installed
        echo_warning(f"near-duplicate check skipped: {error.title}")
        return
    if embed.unknown:
        echo_warning(
            f"near-duplicate check: {embed.unknown} case(s) not embedded yet; "
            "`promptdeck prompts lint` checks them"
        )
    for pair in pairs:
        first, second = pair.first, pair.second
        if pair.first_suite not in wanted:  # the run's own case first
            first, second = second, first
        echo_warning(
            f"{first}: case is a near-duplicate of {second} "
            f"(cosine {pair.similarity:.2f}; [evals] duplicate_threshold)"
        )
