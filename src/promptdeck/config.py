"""The workspace configuration: ``promptdeck.toml``, validated with file and line errors.

Every section is a pydantic model that forbids unknown keys
(:mod:`promptdeck.config_sections`, whose models are all importable from here), so a
typo is an error naming the file, the line and the key rather than a silently
ignored setting.
"""

from __future__ import annotations

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
from promptdeck.safeload.limits import read_text
from promptdeck.safeload.tomlload import loads_toml, toml_line

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
    text = read_text(path, path, what="workspace configuration")
    return parse_config(text, path)


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
    data = loads_toml(text, path, what="workspace configuration")
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
