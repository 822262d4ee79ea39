"""``import_promptfoo``: one promptfoo config → ordinary promptdeck files, and a report.

The steps in order: read the config (:mod:`.source`), its prompts (:mod:`.prompts`),
providers (:mod:`.providers`) and tests (:mod:`.cases`, assertions by
:mod:`.asserts`), the suite-level settings here; then plan the files
(:mod:`.writer`), check them with promptdeck's own loaders, and write them unless
it is a dry run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from promptdeck.core.importers.promptfoo.cases import CaseDraft, Grading, read_cases
from promptdeck.core.importers.promptfoo.nunjucks import variables_of
from promptdeck.core.importers.promptfoo.prompts import read_prompts, slug
from promptdeck.core.importers.promptfoo.providers import (
    AliasDraft,
    ProviderSet,
    model_string,
    read_providers,
)
from promptdeck.core.importers.promptfoo.report import ImportReport
from promptdeck.core.importers.promptfoo.source import Source
from promptdeck.core.importers.promptfoo.writer import (
    Plan,
    alias_block,
    case_rows,
    existing_aliases,
    prompt_text,
    unique,
    write_plan,
)
from promptdeck.errors import ConfigError, UsageError
from promptdeck.paths import WorkspacePaths

__all__ = ["import_promptfoo"]

_HANDLED = {
    "prompts", "providers", "targets", "tests", "defaultTest", "scenarios", "description",
    "evaluateOptions", "outputPath",
}  # fmt: skip
_TOP_WHY = {
    "redteam": "promptdeck does not generate red-team tests (its guardrails scan answers instead)",
    "env": "promptfoo sets these environment variables; set them in your shell instead",
    "derivedMetrics": "promptdeck computes no derived metrics; compute them from `eval --json`",
    "extensions": "extension hooks are code; promptdeck does not run them",
    "nunjucksFilters": "custom Nunjucks filters are code; prompts using them are skipped",
    "tracing": "promptfoo's OpenTelemetry receiver; promptdeck records its own traces",
}


def _suite_name(config: Path, name: str | None) -> str:
    if name is not None:
        clean = slug(name, "")
        if clean != name:
            raise UsageError(
                f"{name!r} is not a suite name", "use lowercase letters, digits, '.', '_' and '-'"
            )
        return name
    stem = config.name
    for suffix in (".yaml", ".yml", ".json"):
        stem = stem.removesuffix(suffix)
    if stem in ("promptfooconfig", "promptfoo", "config"):
        stem = config.resolve().parent.name
    return slug(stem.removeprefix("promptfooconfig.").removeprefix("promptfooconfig-"), "imported")


def _settings(source: Source, report: ImportReport) -> dict[str, Any]:
    doc, data = source.doc, source.doc.data
    out: dict[str, Any] = {}
    if isinstance(data.get("description"), str):
        out["description"] = data["description"]
    options = data.get("evaluateOptions") or {}
    where = doc.at(["evaluateOptions"])
    for key, value in options.items() if isinstance(options, dict) else []:
        if key == "maxConcurrency" and isinstance(value, int) and 1 <= value <= 256:
            out["concurrency"] = value
            report.carried(where, "evaluateOptions.maxConcurrency", f"suite concurrency {value}")
        elif key == "repeat" and isinstance(value, int) and 1 <= value <= 100:
            out["repeat"] = value
            report.carried(where, "evaluateOptions.repeat", f"suite repeat {value}")
        elif key in ("cache", "showProgressBar"):
            report.note(where, f"evaluateOptions.{key}", "promptdeck's cache and progress apply")
        elif key == "delay":
            report.skipped(
                where,
                "evaluateOptions.delay",
                "no pause between calls; promptdeck's rate limits apply",
            )
        else:
            report.skipped(where, f"evaluateOptions.{key}", "not carried")
    if "outputPath" in data:
        report.note(
            doc.at(["outputPath"]),
            f"outputPath {data['outputPath']}",
            "write the results with `eval NAME --json FILE` (or `--junit FILE`, `--markdown FILE`)",
        )
    for key in sorted(set(data) - _HANDLED):
        if key in source.referenced:
            report.carried(doc.at([key]), key, "used where `$ref` points into it")
        elif key.startswith("$") or key in ("sharing", "tags", "writeLatestResults"):
            report.note(doc.at([key]), key, "has no meaning in promptdeck; left out")
        else:
            report.skipped(doc.at([key]), key, _TOP_WHY.get(key, "not a promptfoo config field"))
    return out


def _judge(grading: Grading, providers: ProviderSet, report: ImportReport) -> str | None:
    chosen: str | None = None
    for where, grader in grading.graders:
        if isinstance(grader, dict) and "embedding" in grader:
            report.note(where, "grader embedding", "similar uses promptdeck's local MiniLM")
        if isinstance(grader, dict) and "text" in grader:
            grader = grader["text"]
        provider_id = grader.get("id") if isinstance(grader, dict) else grader
        model = model_string(provider_id) if isinstance(provider_id, str) else None
        if model is None:
            report.skipped(where, f"grader {provider_id}", "not a model promptdeck can call")
            continue
        known = [*providers.aliases, *providers.judges]
        alias = next((a for a in known if a.model == model), None)
        if alias is None:
            alias = AliasDraft(slug(model.split("/", 1)[-1]) + "-judge", model, where)
            providers.judges.append(alias)
        if chosen is None:
            chosen = alias.name
            report.carried(where, f"grader {provider_id}", f"the suite's judge ({alias.name})")
        elif alias.name != chosen:
            report.skipped(where, f"grader {provider_id}", f"one judge per suite: {chosen}")
    return chosen


def import_promptfoo(
    config: Path, workspace: Path, name: str | None = None, *, dry_run: bool = False
) -> ImportReport:
    """Import a promptfoo config into a workspace (created when it has no promptdeck.toml).

    Args:
        config: The promptfoo config (YAML or JSON).
        workspace: The workspace folder.
        name: The suite's name (default: from the config's file or folder name).
        dry_run: Only report; write nothing.

    Returns:
        The report (``complete`` when nothing was skipped).

    Raises:
        ConfigError: The config cannot be read (its file and line).
        UsageError: A bad name, or the suite already exists.
    """
    source = Source(config)
    paths = WorkspacePaths(workspace.expanduser().resolve())
    suite = _suite_name(config, name)
    report = ImportReport(
        config=str(config), workspace=str(paths.root), suite=suite, dry_run=dry_run
    )
    suite_path = paths.suites / f"{suite}.suite.yaml"
    if suite_path.exists():
        raise UsageError(f"{paths.relative(suite_path)} already exists", "choose another --name")
    if "prompts" not in source.doc.data and "redteam" in source.doc.data:
        raise ConfigError(
            f"{source.doc.at(['redteam'])}: a promptfoo red-team config (no `prompts:`); "
            "promptdeck does not generate red-team tests, so there is nothing to import",
            "import an eval config (prompts:, providers:, tests:)",
        )
    drafts = read_prompts(source, report, suite)
    providers = read_providers(source.doc, report, source.value)
    grading = Grading()
    cases, defaults = read_cases(source, report, providers.tools, grading)
    settings = _settings(source, report)
    judge = _judge(grading, providers, report)
    plan = _plan(paths, report, suite, drafts, providers, cases, defaults, settings, judge)
    from promptdeck.core.importers.promptfoo.checks import check_plan, judged_note

    if not drafts:
        report.skipped(report.config, "prompts", "no prompt could be carried: nothing written")
        plan.files.clear()
        plan.toml_block = ""
    check_plan(paths, plan, report)
    judged_note(plan, judge, paths, report)
    if not dry_run and drafts:
        report.files = write_plan(paths, plan)
    return report


def _same(existing: Any, alias: AliasDraft) -> bool:
    if not isinstance(existing, dict) or alias.params or alias.api_key_env:
        return False
    return bool(existing.get("model") == alias.model and existing.get("api_base") == alias.api_base)


def _fill_missing(cases: list[CaseDraft], used: list[str], report: ImportReport) -> None:
    """A variable a case lacks is empty, as promptfoo renders an undefined one (noted)."""
    missing: dict[str, int] = {}
    for case in cases:
        for name in used:
            if name not in case.vars:
                case.vars[name] = ""
                missing[name] = missing.get(name, 0) + 1
    for name, count in missing.items():
        report.note(
            report.config,
            f"variable {name}",
            f"missing in {count} of {len(cases)} cases: empty there, as promptfoo renders it",
        )


def _plan(
    paths: WorkspacePaths,
    report: ImportReport,
    suite: str,
    drafts: list[Any],
    providers: ProviderSet,
    cases: list[Any],
    defaults: list[dict[str, Any]],
    settings: dict[str, Any],
    judge: str | None,
) -> Plan:
    plan = Plan(create_workspace=not paths.config.exists())
    taken = {p.name.removesuffix(".prompt.yaml") for p in paths.prompts.glob("*.prompt.yaml")}
    params = {"response_format": providers.response_format} if providers.response_format else {}
    names = []
    for draft in drafts:
        draft.name = unique(taken, draft.name)
        names.append(draft.name)
        plan.files[paths.prompts / f"{draft.name}.prompt.yaml"] = prompt_text(
            draft, draft.what, params
        )
        report.carried(draft.where, draft.what, f"prompts/{draft.name}.prompt.yaml")
    existing = existing_aliases(paths)
    new_aliases: list[AliasDraft] = []
    renamed: dict[str, str] = {}
    for alias in [*providers.aliases, *providers.judges]:
        same = next((k for k, v in existing.items() if _same(v, alias)), None)
        old = alias.name
        if same is not None:
            alias.name = same
        else:
            alias.name = unique(set(existing) | {a.name for a in new_aliases}, alias.name)
            new_aliases.append(alias)
        renamed[old] = alias.name
    models = [a.name for a in providers.aliases]
    judge = renamed.get(judge, judge) if judge else None
    texts = [d.template or "" for d in drafts]
    texts += [m["content"] for d in drafts for m in d.messages or []]
    used = variables_of(*texts)
    if not cases:  # promptfoo runs each prompt once, its variables empty
        empty = dict.fromkeys(used, "")
        cases = [CaseDraft("no tests carried: each prompt once", empty, [])]
        if empty:
            report.note(
                report.config,
                "tests",
                f"one case with {', '.join(empty)} empty, as promptfoo runs it; fill them in",
            )
    _fill_missing(cases, used, report)
    plan.toml_block = alias_block(new_aliases, report.config)
    from promptdeck.core.importers.promptfoo.suite import suite_text

    datasets = {p.name for p in paths.datasets.glob("*")} if paths.datasets.is_dir() else set()
    dataset = unique({d.removesuffix(".yaml") for d in datasets}, suite)
    plan.files[paths.datasets / f"{dataset}.yaml"] = case_rows(cases) if cases else ""
    plan.files[paths.suites / f"{suite}.suite.yaml"] = suite_text(
        names, models, f"datasets/{dataset}.yaml", defaults, settings, judge, report
    )
    report.carried(report.config, "tests", f"{len(cases)} cases in datasets/{dataset}.yaml")
    return plan
