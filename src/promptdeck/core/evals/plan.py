"""Plan an eval run: validate a suite whole and resolve what it runs, before any call.

Every problem is found here, none during the run: the suite validates, every
assertion validates, every prompt renders for every case.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from promptdeck.core.evals.plan_checks import check_suite
from promptdeck.core.evals.suites import (
    SUITE_SUFFIX,
    Case,
    LoadedSuite,
    load_suite,
    suite_files,
)
from promptdeck.core.prompts.refs import ResolvedPrompt, resolve_prompt
from promptdeck.core.scorers import ScoringOptions
from promptdeck.core.workspace.workspace import Workspace
from promptdeck.errors import ConfigError, NotFoundError, UsageError

__all__ = ["SuitePlan", "plan_suite", "plan_suites", "scoring_options"]


@dataclass(frozen=True)
class SuitePlan:
    """A validated suite, its prompt versions and models, ready to run."""

    suite: LoadedSuite
    prompts: list[ResolvedPrompt]
    models: list[str]
    judge: str | None

    @property
    def name(self) -> str:
        """The suite's name."""
        return self.suite.name

    @property
    def total(self) -> int:
        """Cells: prompts × models × cases × repeats."""
        return len(self.prompts) * len(self.models) * len(self.suite.cases) * self.suite.file.repeat

    def cells(self) -> Iterator[tuple[ResolvedPrompt, str, Case, int]]:
        """Every cell, case by case."""
        for case in self.suite.cases:
            for prompt in self.prompts:
                for model in self.models:
                    for repeat in range(self.suite.file.repeat):
                        yield prompt, model, case, repeat


def _suite_path(workspace: Workspace, name: str) -> Path:
    candidate = Path(name)
    if candidate.suffix == ".yaml" and candidate.exists():
        return candidate.resolve()
    path = workspace.paths.suites / f"{name}{SUITE_SUFFIX}"
    if not path.is_file():
        names = [p.name.removesuffix(SUITE_SUFFIX) for p in suite_files(workspace.paths)]
        raise NotFoundError(
            f"no suite named {name!r} in {workspace.paths.relative(workspace.paths.suites)}/",
            f"suites: {', '.join(names) or 'none yet'}",
        )
    return path


def plan_suite(
    workspace: Workspace,
    name: str,
    *,
    versions: dict[str, int] | None = None,
    refs: Sequence[str] | None = None,
) -> SuitePlan:
    """Validate a suite completely and resolve what it runs, before any call.

    A prompt version or model listed twice runs once.

    Args:
        workspace: The open (synced) workspace.
        name: The suite's name (or path to its file).
        versions: Pin prompts to these versions (name -> version).
        refs: Run exactly these prompt versions (``name@version``) instead of the
            suite's prompts, as a resumed run does.

    Raises:
        ConfigError: The first problem (its count in the title when there are more).
        NotFoundError: Unknown suite or prompt.
    """
    suite = load_suite(_suite_path(workspace, name), workspace.paths)
    options = scoring_options(workspace)
    with workspace.session() as session:
        resolved: dict[int, ResolvedPrompt] = {}
        for index, ref in enumerate(suite.file.prompts if refs is None else refs):
            base = ref.split("@", 1)[0]
            if versions and base in versions:
                ref = f"{base}@{versions[base]}"
            try:
                prompt = resolve_prompt(session, ref)
            except (NotFoundError, UsageError) as error:
                if refs is not None or index >= len(suite.prompt_sources):
                    raise
                # The suite names it: say where.
                raise ConfigError(
                    f"{suite.prompt_sources[index]}: {error.title}", error.hint
                ) from error
            resolved.setdefault(prompt.version_id, prompt)
        prompts = list(resolved.values())
    models, judge = check_suite(suite, [p.file for p in prompts], workspace.config, options)
    return SuitePlan(suite, prompts, models, judge)


def plan_suites(workspace: Workspace, names: Sequence[str]) -> list[SuitePlan]:
    """Plan the named suites (all of them when none is named)."""
    chosen = list(names) or [
        p.name.removesuffix(SUITE_SUFFIX) for p in suite_files(workspace.paths)
    ]
    if not chosen:
        raise NotFoundError(
            "this workspace has no suites", "add one in suites/ (see docs/formats.md)"
        )
    return [plan_suite(workspace, name) for name in chosen]


def scoring_options(workspace: Workspace) -> ScoringOptions:
    """The scoring options of a workspace (python asserts allowed, where state lives)."""
    return ScoringOptions(
        allow_python=workspace.config.evals.allow_python,
        workspace_root=workspace.paths.root,
        state_dir=workspace.paths.state,
    )
