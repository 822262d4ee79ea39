"""Lint prompts: variables, suite cases, token budget, secrets and PII in the prompt text.

Each finding has a severity, a location (``file:line``) and a message. Errors make
``promptdeck prompts lint`` exit 1; warnings and notes do not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from promptdeck.config import WorkspaceConfig
from promptdeck.core.evals.suites import LoadedSuite, load_suite, model_problems, suite_files
from promptdeck.core.prompts.checks import prompt_problems
from promptdeck.core.prompts.files import PromptFile, parse_prompt_node
from promptdeck.core.prompts.lint_render import render_refusal
from promptdeck.core.prompts.templating import render_prompt, template_variables
from promptdeck.core.workspace.yamlfile import yaml_line
from promptdeck.errors import ConfigError, PromptdeckError, location
from promptdeck.paths import WorkspacePaths
from promptdeck.safeload.limits import read_text

__all__ = [
    "FILE_RULES",
    "Finding",
    "Severity",
    "TokenCounter",
    "duplicate_findings",
    "lint_prompt",
    "lint_prompts",
    "lint_text",
    "lint_workspace",
    "scan_secrets_and_pii",
]

# Names Jinja2 provides itself; using them is not an undeclared variable.
JINJA_GLOBALS = {"range", "lipsum", "dict", "cycler", "joiner", "namespace", "loop", "self"}


class Severity(StrEnum):
    """How bad a finding is."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One lint finding."""

    severity: Severity
    location: str
    message: str
    rule: str
    hint: str = ""


TokenCounter = Callable[[str, list[dict[str, str]]], tuple[int, int | None]]
"""(model, messages) -> (tokens, context window or None when unknown)."""

TextScanner = Callable[[str], list[tuple[int, str, bool]]]
"""text -> findings as (offset, what was found, is it a secret)."""

Embed = Callable[[Sequence[str]], Any]
"""texts -> L2-normalised vectors (the near-duplicate check)."""


def _line_of(text: str, pattern: re.Pattern[str]) -> int | None:
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _sample_values(prompt: PromptFile, suites: list[LoadedSuite]) -> dict[str, object] | None:
    """Values to render with: the first suite case that renders, else placeholders."""
    for suite in suites:
        for case in suite.cases:
            try:
                render_prompt(prompt, case.vars, allow_extra=True)
            except PromptdeckError:
                continue
            return dict(case.vars)
    values: dict[str, object] = {}
    for name, spec in prompt.variables.items():
        if spec.default is None and spec.required:
            values[name] = spec.enum[0] if spec.enum else f"<{name}>"
    return values


MAX_SCANNED_CHARS = 2_000_000
"""Characters of a prompt file lint scans for secrets and PII, and counts tokens of.

Both take seconds a megabyte; past this, lint says what it left out (a warning).
"""

FILE_RULES = frozenset({"parse", "suite"})
"""Rules whose findings are files every command refuses (``prompts lint`` exits 2)."""


def _file_finding(error: ConfigError, rule: str = "parse") -> Finding:
    """A file that does not load, as a finding (``file:line`` and what is wrong)."""
    where, _, message = error.title.partition(": ")
    return Finding(Severity.ERROR, where, message or error.title, rule, error.hint)


def lint_prompt(
    path: Path,
    paths: WorkspacePaths,
    config: WorkspaceConfig,
    *,
    suites: list[LoadedSuite] | None = None,
    count_tokens: TokenCounter | None = None,
    scan_text: TextScanner | None = None,
) -> list[Finding]:
    """Lint one prompt file on disk (see :func:`lint_text` for the arguments).

    Args:
        path: The prompt file.
        paths: The workspace (for the location shown in findings).
        config: The workspace configuration.
        suites: The workspace's loaded suites.
        count_tokens: Counts tokens of rendered messages for a model.
        scan_text: Finds secrets and PII in text.

    Returns:
        The findings, errors first.
    """
    rel = paths.relative(path)
    try:
        text = read_text(path, rel, what="prompt file")
    except ConfigError as error:
        return [_file_finding(error)]
    return lint_text(
        text,
        rel,
        config,
        suites=suites,
        count_tokens=count_tokens,
        scan_text=scan_text,
    )


def lint_text(
    text: str,
    rel: str,
    config: WorkspaceConfig,
    *,
    suites: list[LoadedSuite] | None = None,
    count_tokens: TokenCounter | None = None,
    scan_text: TextScanner | None = None,
) -> list[Finding]:
    """Lint a prompt file's text (an editor buffer not yet saved, say).

    Args:
        text: The prompt file's text.
        rel: Its path relative to the workspace (for locations).
        config: The workspace configuration.
        suites: The workspace's loaded suites.
        count_tokens: Counts tokens of rendered messages for a model.
        scan_text: Finds secrets and PII in text.

    Returns:
        The findings, errors first.
    """
    try:
        parsed, node = parse_prompt_node(text, rel)
    except ConfigError as error:
        return [_file_finding(error)]
    prompt = parsed.file
    problems = prompt_problems(prompt, node, rel)
    if problems:
        return [_file_finding(error) for error in problems]
    findings: list[Finding] = []
    used = template_variables(prompt) - JINJA_GLOBALS
    declared = set(prompt.variables)
    for name in sorted(used - declared):
        line = _line_of(text, re.compile(r"\{[{%][^}]*\b" + re.escape(name) + r"\b"))
        findings.append(
            Finding(
                Severity.ERROR,
                location(rel, line),
                f"the template uses {{{{ {name} }}}} but `{name}` is not declared under variables",
                "undeclared-variable",
            )
        )
    for name in sorted(declared - used):
        findings.append(
            Finding(
                Severity.WARNING,
                location(rel, yaml_line(node, ["variables", name])),
                f"variable `{name}` is declared but no template uses it",
                "unused-variable",
            )
        )
    using = [
        s for s in suites or [] if any(r.split("@", 1)[0] == prompt.name for r in s.file.prompts)
    ]
    required = {n for n, s in prompt.variables.items() if s.required and s.default is None}
    for suite in using:
        for case in suite.cases:
            missing = sorted(required - {k for k, v in case.vars.items() if v is not None})
            if missing:
                findings.append(
                    Finding(
                        Severity.ERROR,
                        case.source,
                        f"case of suite {suite.name!r} misses required variable(s) "
                        f"{', '.join(missing)} of {prompt.name!r}",
                        "case-missing-variable",
                    )
                )
    refusal = render_refusal(prompt, using, config)
    if refusal is not None:
        findings.append(Finding(Severity.ERROR, rel, refusal, "render-refused"))
    model = config.resolve_model(prompt.model or config.default_model)
    if count_tokens is not None and not any(f.severity is Severity.ERROR for f in findings):
        try:
            rendered = render_prompt(
                prompt, _sample_values(prompt, using) or {}, allow_extra=True, config=config
            )
            size = sum(len(m["content"]) for m in rendered.messages)
            if size > MAX_SCANNED_CHARS:
                raise PromptdeckError(f"the rendered prompt is {size:,} characters")
            tokens, window = count_tokens(model, rendered.messages)
        except PromptdeckError as error:
            findings.append(
                Finding(Severity.WARNING, rel, f"cannot count tokens: {error.title}", "tokens")
            )
        else:
            reserve = prompt.params.max_tokens or 0
            if window is None:
                findings.append(
                    Finding(
                        Severity.INFO,
                        rel,
                        f"{tokens} tokens for {model} (context window unknown)",
                        "tokens",
                    )
                )
            elif tokens + reserve > window:
                findings.append(
                    Finding(
                        Severity.ERROR,
                        rel,
                        f"{tokens} prompt tokens + {reserve} for the answer exceed {model}'s "
                        f"context window of {window}",
                        "context-window",
                    )
                )
            else:
                findings.append(
                    Finding(
                        Severity.INFO,
                        rel,
                        f"{tokens} tokens for {model}; fits its context window of {window} "
                        f"with {reserve} reserved for the answer",
                        "tokens",
                    )
                )
    if scan_text is not None:
        if len(text) > MAX_SCANNED_CHARS:
            findings.append(
                Finding(
                    Severity.WARNING,
                    rel,
                    f"the file is {len(text):,} characters: secrets and personal data were "
                    f"looked for in its first {MAX_SCANNED_CHARS:,} only",
                    "size",
                )
            )
        for start, kind, secret in scan_text(text[:MAX_SCANNED_CHARS]):
            line = text.count("\n", 0, start) + 1
            if secret:
                message = f"the prompt file contains a secret ({kind}); remove it and rotate it"
            else:
                message = f"the prompt file contains personal data ({kind}); use made-up values"
            findings.append(
                Finding(
                    Severity.ERROR if secret else Severity.WARNING,
                    location(rel, line),
                    message,
                    "secret" if secret else "pii",
                )
            )
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    return sorted(findings, key=lambda f: order[f.severity])


def scan_secrets_and_pii(text: str) -> list[tuple[int, str, bool]]:
    """Find secrets and PII in text with the guardrail scanners (the lint hook)."""
    from promptdeck.core.guardrails.base import get_scanner

    found: list[tuple[int, str, bool]] = []
    for name, secret in (("secrets", True), ("pii", False)):
        verdict = get_scanner(name).scan(text)
        found += [(span.start, span.type, secret) for span in verdict.spans]
    return sorted(found)


def lint_prompts(
    paths: WorkspacePaths,
    config: WorkspaceConfig,
    names: Iterable[str] | None = None,
    *,
    buffers: Mapping[str, str] | None = None,
    embed: Embed | None = None,
) -> dict[str, list[Finding]]:
    """Every check ``promptdeck prompts lint`` runs, tokens, secrets and PII included.

    The CLI and the workbench's Lint tab both call this, so they show the same findings.

    Args:
        paths: The workspace.
        config: Its configuration.
        names: Only these prompts (default: all).
        buffers: Prompt name -> text to lint instead of its file (an unsaved editor).
        embed: Embeds case texts for the near-duplicate check (none: no check).

    Returns:
        Prompt name (or ``suites``) -> findings, errors first.
    """
    from promptdeck.core.providers.tokens import TokenCounting

    return lint_workspace(
        paths,
        config,
        names,
        count_tokens=TokenCounting(config, paths.root),
        scan_text=scan_secrets_and_pii,
        buffers=buffers,
        embed=embed,
    )


def lint_workspace(
    paths: WorkspacePaths,
    config: WorkspaceConfig,
    names: Iterable[str] | None = None,
    *,
    count_tokens: TokenCounter | None = None,
    scan_text: TextScanner | None = None,
    buffers: Mapping[str, str] | None = None,
    embed: Embed | None = None,
) -> dict[str, list[Finding]]:
    """Lint the workspace's prompt files (or the named ones): name -> findings.

    A suite that does not load is itself reported as an error under ``suites``; a
    prompt in ``buffers`` is linted from that text instead of its file; with
    ``embed``, near-duplicate cases (``[evals] duplicate_threshold``) are warnings there.
    """
    from promptdeck.core.prompts.sync import prompt_files

    suites: list[LoadedSuite] = []
    results: dict[str, list[Finding]] = {}
    for path in suite_files(paths):
        try:
            suites.append(load_suite(path, paths))
        except ConfigError as error:
            results.setdefault("suites", []).append(_file_finding(error, "suite"))
    wanted = set(names) if names else None
    files = {p.name.removesuffix(".prompt.yaml"): p for p in prompt_files(paths)}
    for suite in suites:
        for problem in model_problems(suite, config):
            results.setdefault("suites", []).append(_file_finding(problem, "suite"))
        for index, ref in enumerate(suite.file.prompts):
            name = ref.split("@", 1)[0].strip()
            if name not in files:
                where = suite.prompt_sources[index] if index < len(suite.prompt_sources) else ""
                results.setdefault("suites", []).append(
                    Finding(
                        Severity.ERROR,
                        where or str(suite.path.name),
                        f"suite {suite.name!r} names prompt {name!r}, which has no file",
                        "suite",
                        f"add prompts/{name}.prompt.yaml or fix the name",
                    )
                )
    if wanted:
        unknown = sorted(wanted - set(files))
        if unknown:
            from promptdeck.errors import NotFoundError

            raise NotFoundError(
                f"no prompt file for {unknown[0]!r}", "see `promptdeck prompts list`"
            )
    for name, path in files.items():
        if wanted is not None and name not in wanted:
            continue
        text = (buffers or {}).get(name)
        if text is None:
            results[name] = lint_prompt(
                path, paths, config, suites=suites, count_tokens=count_tokens, scan_text=scan_text
            )
            continue
        results[name] = lint_text(
            text,
            paths.relative(path),
            config,
            suites=suites,
            count_tokens=count_tokens,
            scan_text=scan_text,
        )
    broken = any(f.rule in FILE_RULES for fs in results.values() for f in fs)
    # Near-duplicates are a warning about files that load: while one does not, its
    # error is what to fix first, and the embedder's time and memory are not spent.
    if embed is not None and config.evals.duplicate_threshold is not None and not broken:
        duplicates = duplicate_findings(suites, embed, config.evals.duplicate_threshold)
        if duplicates:
            results.setdefault("suites", []).extend(duplicates)
    return results


def duplicate_findings(
    suites: Sequence[LoadedSuite], embed: Embed, threshold: float, only: str | None = None
) -> list[Finding]:
    """A warning per pair of near-duplicate cases, naming both files and lines."""
    from promptdeck.core.similar.duplicates import near_duplicates
    from promptdeck.errors import RuntimeFailureError

    try:
        pairs = near_duplicates(suites, embed, threshold, only=only)
    except RuntimeFailureError as error:  # the embedder is not installed
        return [Finding(Severity.INFO, "suites", f"near-duplicate check skipped: {error}", "")]
    except MemoryError:  # the embedder's runtime could not allocate its buffers
        return [Finding(Severity.INFO, "suites", "near-duplicate check skipped: out of memory", "")]
    return [
        Finding(
            Severity.WARNING,
            pair.first,
            f"case is a near-duplicate of {pair.second} (cosine {pair.similarity:.2f}): "
            "duplicates inflate pass rates and leak between suites",
            "near-duplicate",
        )
        for pair in pairs
    ]
