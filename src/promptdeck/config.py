"""The workspace configuration: ``promptdeck.toml``, validated with file and line errors.

Every section is a pydantic model that forbids unknown keys
(:mod:`promptdeck.config_sections`, whose models are all importable from here), so a
typo is an error naming the file, the line and the key rather than a silently
ignored setting.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from promptdeck.config_sections import (
    DEFAULT_MODEL,
    ApprovalConfig,
    BudgetConfig,
    CacheConfig,
    ConcurrencyConfig,
    EnsembleConfig,
    EvalsConfig,
    GuardrailRuleConfig,
    GuardrailsConfig,
    LocalModelConfig,
    ModelAlias,
    ParamValue,
    RenderConfig,
    UIConfig,
    WorkspaceConfig,
)
from promptdeck.errors import ConfigError, location

__all__ = [
    "DEFAULT_MODEL",
    "ApprovalConfig",
    "BudgetConfig",
    "CacheConfig",
    "ConcurrencyConfig",
    "EnsembleConfig",
    "EvalsConfig",
    "GuardrailRuleConfig",
    "GuardrailsConfig",
    "LocalModelConfig",
    "ModelAlias",
    "ParamValue",
    "RenderConfig",
    "UIConfig",
    "WorkspaceConfig",
    "load_config",
    "parse_config",
    "toml_line",
]


def load_config(path: Path) -> WorkspaceConfig:
    """Read and validate a ``promptdeck.toml``.

    Args:
        path: The file.

    Returns:
        The validated configuration.

    Raises:
        ConfigError: With file and line, when the file cannot be read or is invalid.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read the workspace configuration ({exc.strerror})",
            "check the file exists and is readable",
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text", "save the file as UTF-8") from exc
    return parse_config(text, path)


_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def parse_config(text: str, path: Path) -> WorkspaceConfig:
    """Validate configuration text; errors name ``path`` and the line at fault.

    Args:
        text: The TOML text.
        path: The file it came from (for messages).

    Returns:
        The validated configuration.

    Raises:
        ConfigError: On a TOML syntax error or a schema violation.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_AT.search(message)
        line = int(match.group(1)) if match else None
        reason = _TOML_AT.sub("", message).strip()
        raise ConfigError(
            f"{location(path, line)}: invalid TOML: {reason}",
            "fix the syntax at that line (strings need quotes, tables need [brackets])",
        ) from exc
    try:
        return WorkspaceConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(str(part) for part in first["loc"])
        line = toml_line(text, loc)
        key = f"{'.'.join(loc)}: " if loc else ""
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        msg = str(first["msg"])
        if first["type"] == "extra_forbidden":
            msg = "unknown setting"
        raise ConfigError(
            f"{location(path, line)}: {key}{msg}{more}",
            "see docs/formats.md#promptdecktoml for every setting and its type",
        ) from exc


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'. ]+?)\s*=")


def _split_key(raw: str) -> tuple[str, ...]:
    parts = re.findall(r'"([^"]*)"|\'([^\']*)\'|([^.\s]+)', raw)
    return tuple(next(p for p in groups if p) for groups in parts)


def toml_line(text: str, loc: Sequence[str]) -> int | None:
    """Find the line of a TOML document that defines ``loc`` (or its nearest parent).

    Args:
        text: The TOML text.
        loc: A key path such as ``("models", "fast", "temperature")``.

    Returns:
        The 1-based line number, or None when nothing matches.
    """
    target = tuple(loc)
    best: tuple[int, int] | None = None  # (matched length, line)
    table: tuple[str, ...] = ()
    # TOML lines end at "\n" only (strings may hold U+2028 and other Unicode breaks).
    for number, line in enumerate(text.split("\n"), start=1):
        header = _HEADER.match(line)
        if header:
            table = _split_key(header.group(1))
            path = table
        else:
            key = _KEY.match(line)
            if not key:
                continue
            path = table + _split_key(key.group(1))
        size = _common_prefix(path, target)
        if size == len(path) and (best is None or size > best[0]):
            best = (size, number)
    return best[1] if best and best[0] > 0 else None


def _common_prefix(a: Sequence[str], b: Sequence[str]) -> int:
    size = 0
    for left, right in zip(a, b, strict=False):
        if left != right:
            break
        size += 1
    return size
