"""Append a case to a suite file: the one place promptdeck writes a user's suite.

It happens only when asked (``compare --save-case SUITE``). A missing suite file is
created; an existing one gets the case appended to its ``cases:`` list as text,
so the user's comments, key order and formatting stay exactly as they were. The
result is re-read and checked before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from promptdeck.core.evals.suites import SUITE_SUFFIX
from promptdeck.core.workspace.yamlfile import dump_yaml
from promptdeck.errors import ConfigError, UsageError
from promptdeck.safeload.limits import read_text
from promptdeck.safeload.yamlload import load_yaml

if TYPE_CHECKING:
    from pathlib import Path

    from promptdeck.paths import WorkspacePaths

__all__ = ["append_case", "case_text", "default_assertions"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_TOP_KEY = re.compile(r"^[A-Za-z_][\w-]*\s*:")
_CASES = re.compile(r"^cases\s*:\s*(\[\s*\])?\s*(#.*)?$")
_ITEM = re.compile(r"^(\s*)-\s")


def case_text(
    variables: Mapping[str, Any],
    description: str,
    indent: str = "  ",
    *,
    expected: Any = None,
    tags: Sequence[str] = (),
) -> str:
    """The YAML of one case as a list item, indented by ``indent``."""
    case: dict[str, Any] = {"description": description, "vars": dict(variables)}
    if expected is not None:
        case["expected"] = expected
    if tags:
        case["tags"] = list(tags)
    body = dump_yaml(case)
    lines = body.rstrip("\n").split("\n")
    out = [f"{indent}- {lines[0]}"] + [f"{indent}  {line}" if line else "" for line in lines[1:]]
    return "\n".join(out) + "\n"


def _new_suite(prompts: Sequence[str], models: Sequence[str], case: str, origin: str) -> str:
    head: dict[str, Any] = {"description": f"Cases saved from {origin}.", "prompts": list(prompts)}
    if models:
        head["models"] = list(models)
    return dump_yaml(head) + "cases:\n" + case


def _appended(text: str, case: Callable[[str], str], rel: str) -> str:
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if _CASES.match(line)), None)
    if start is None:
        raise ConfigError(
            f"{rel}: no top-level `cases:` list to append to",
            "add `cases:` to the suite (or save to a new suite name)",
        )
    end = len(lines)
    for i in range(start + 1, len(lines)):
        if _TOP_KEY.match(lines[i]):
            end = i
            break
    indent = "  "
    for line in lines[start + 1 : end]:
        item = _ITEM.match(line)
        if item:
            indent = item.group(1)
            break
    header = lines[start]
    if _CASES.match(header) and "[" in header:
        lines[start] = "cases:"
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    block = case(indent).rstrip("\n").split("\n")
    new = lines[:end] + block + lines[end:]
    result = "\n".join(new)
    return result if result.endswith("\n") else result + "\n"


def append_case(
    paths: WorkspacePaths,
    suite: str,
    variables: Mapping[str, Any],
    *,
    description: str,
    prompts: Sequence[str],
    models: Sequence[str] = (),
    expected: Any = None,
    tags: Sequence[str] = (),
    origin: str = "promptdeck compare",
) -> Path:
    """Append a case (its variables and a description) to ``suites/<suite>.suite.yaml``.

    ``expected`` is written when given (else left for the user to write). A new file
    also gets ``prompts`` (and ``models``) so it runs as it is.

    Args:
        paths: The workspace's paths.
        suite: The suite's name.
        variables: The case's variables.
        description: What the case is.
        prompts: Prompt references, for a new suite.
        models: Models, for a new suite.
        expected: The case's expected answer, if known.
        tags: The case's tags.
        origin: Where the cases come from, for a new suite's description.

    Returns:
        The suite file.

    Raises:
        UsageError: A suite name that is not a plain file name.
        ConfigError: The suite file has no ``cases:`` list, or the result does not parse.
    """
    if not _NAME.match(suite):
        raise UsageError(
            f"{suite!r} is not a suite name",
            "use lowercase letters, digits, '.', '_' and '-' (the file name without "
            f"{SUITE_SUFFIX})",
        )
    path = paths.suites / f"{suite}{SUITE_SUFFIX}"
    rel = paths.relative(path)

    def case(indent: str) -> str:
        return case_text(variables, description, indent, expected=expected, tags=tags)

    try:
        if path.exists():
            text = read_text(path, rel, what="suite")
            before = _cases_count(text, rel)
            new_text = _appended(text, case, rel)
        else:
            before = 0
            new_text = _new_suite(prompts, models, case("  "), origin)
        after = _cases_count(new_text, rel)
    except ConfigError as exc:
        raise ConfigError(
            f"{exc.title} (the suite is not valid YAML, or would not be with the case appended)",
            "fix the file (`promptdeck eval` names the line), then save the case again",
        ) from exc
    if after != before + 1:
        raise ConfigError(
            f"{rel}: could not append the case to its `cases:` list",
            "check the suite's `cases:` is a block list (`- ...` items)",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new_text, encoding="utf-8")
    return path


def _cases_count(text: str, rel: str) -> int:
    data = load_yaml(text, rel)[0] or {}
    cases = data.get("cases") if isinstance(data, dict) else None
    return len(cases) if isinstance(cases, list) else 0


def default_assertions(path: Path) -> int:
    """How many assertions a suite's ``defaults`` add to every case.

    A saved case has no assertions of its own: with none here, ``eval`` reports it as
    ``no assertions`` (checked by nothing) until the user writes some.
    """
    try:
        data = load_yaml(read_text(path, path.name, what="suite"), path.name)[0] or {}
    except ConfigError:
        return 0
    defaults = data.get("defaults") if isinstance(data, dict) else None
    asserts = defaults.get("assert") if isinstance(defaults, dict) else None
    return len(asserts) if isinstance(asserts, list) else 0
