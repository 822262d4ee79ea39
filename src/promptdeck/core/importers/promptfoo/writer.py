"""The promptdeck files of an import: prompt files, the suite, its dataset and the aliases.

Every file is new (names that exist get a ``-2`` suffix; an existing suite is an
error); ``promptdeck.toml`` only gets a marked block appended as text, never a
rewrite. Everything is checked with promptdeck's own loaders before a file is written.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptdeck.core.importers.promptfoo.cases import CaseDraft
from promptdeck.core.importers.promptfoo.nunjucks import variables_of
from promptdeck.core.importers.promptfoo.prompts import PromptDraft
from promptdeck.core.importers.promptfoo.providers import AliasDraft
from promptdeck.core.workspace.yamlfile import dump_yaml
from promptdeck.errors import UsageError
from promptdeck.paths import CONFIG_FILE, WorkspacePaths
from promptdeck.timeutil import utcnow

__all__ = ["Plan", "alias_block", "existing_aliases", "write_plan"]


@dataclass
class Plan:
    """What an import writes."""

    files: dict[Path, str] = field(default_factory=dict)
    toml_block: str = ""
    create_workspace: bool = False


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def existing_aliases(paths: WorkspacePaths) -> dict[str, dict[str, Any]]:
    """The ``[models.*]`` aliases already in the workspace's ``promptdeck.toml``."""
    try:
        data = tomllib.loads(paths.config.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    models = data.get("models")
    return dict(models) if isinstance(models, dict) else {}


def alias_block(aliases: list[AliasDraft], config: str) -> str:
    """The marked block of aliases appended to ``promptdeck.toml``."""
    if not aliases:
        return ""
    stamp = utcnow().strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "",
        f"# >>> imported from promptfoo: {config} ({stamp}); edit freely",
    ]
    for alias in aliases:
        lines.append(f"[models.{json.dumps(alias.name)}]")
        lines.append(f"model = {_toml(alias.model)}")
        if alias.api_base:
            lines.append(f"api_base = {_toml(alias.api_base)}")
        if alias.api_key_env:
            lines.append(f"api_key_env = {_toml(alias.api_key_env)}")
        if alias.params:
            inner = ", ".join(f"{k} = {_toml(v)}" for k, v in alias.params.items())
            lines.append(f"params = {{ {inner} }}")
    lines.append("# <<< end of the promptfoo import")
    return "\n".join(lines) + "\n"


def unique(taken: set[str], base: str) -> str:
    """``base``, or ``base-2``, ``base-3``… whichever is not taken (then taken)."""
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def prompt_text(draft: PromptDraft, source: str, params: dict[str, Any]) -> str:
    """A prompt file's YAML."""
    data: dict[str, Any] = {"name": draft.name, "description": f"Imported from promptfoo: {source}"}
    merged = {**params, **draft.params}
    if merged:
        data["params"] = merged
    if draft.messages is not None:
        data["messages"] = draft.messages
        texts = [m["content"] for m in draft.messages]
    else:
        data["template"] = draft.template
        texts = [draft.template or ""]
    names = variables_of(*texts)
    if names:
        data["variables"] = dict.fromkeys(names)
    return dump_yaml(data)


def case_rows(cases: list[CaseDraft]) -> str:
    """The dataset's YAML: one case per item."""
    rows = []
    for case in cases:
        row: dict[str, Any] = {}
        if case.description:
            row["description"] = str(case.description)
        row["vars"] = case.vars
        if case.asserts:
            row["assert"] = case.asserts
        if case.tags:
            row["tags"] = case.tags
        rows.append(row)
    return dump_yaml(rows)


def write_plan(paths: WorkspacePaths, plan: Plan) -> list[str]:
    """Write the planned files (never over an existing one) and append the alias block.

    Returns:
        The files written or appended to, relative to the workspace.

    Raises:
        UsageError: When a planned file appeared meanwhile.
    """
    if plan.create_workspace:
        from promptdeck.core.workspace.workspace import ensure_state_dir

        paths.root.mkdir(parents=True, exist_ok=True)
        for folder in (paths.prompts, paths.suites, paths.datasets):
            folder.mkdir(exist_ok=True)
        if not paths.config.exists():
            paths.config.write_text(
                "# promptdeck workspace settings: see docs/formats.md\n", encoding="utf-8"
            )
        ensure_state_dir(paths)
    written = []
    for path, text in plan.files.items():
        if path.exists():
            raise UsageError(f"{paths.relative(path)} already exists", "nothing was overwritten")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(paths.relative(path))
    if plan.toml_block:
        with paths.config.open("a", encoding="utf-8") as handle:
            handle.write(plan.toml_block)
        written.append(CONFIG_FILE)
    return written
